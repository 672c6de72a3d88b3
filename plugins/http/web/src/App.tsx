// The application shell: theme, Ant Design locale, side navigation, lazy-loaded routes (each page is
// its own chunk; ECharts is loaded only by the pages that draw charts).
import { lazy, Suspense, useEffect, useState } from 'react';
import { ConfigProvider, Layout, Menu, Spin, theme as antd_theme, Button, Tooltip, App as AntApp } from 'antd';
import type { Locale } from 'antd/es/locale';
import { ExperimentOutlined, LineChartOutlined, DatabaseOutlined, DashboardOutlined, DeleteOutlined,
         SettingOutlined, ApiOutlined, MoonOutlined, SunOutlined, GlobalOutlined, AppstoreOutlined } from '@ant-design/icons';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { usePrefs } from './prefs';
import { initial_language, load_language } from './i18n';
import { use_document_title } from './lib/title';

const Experiments = lazy(() => import('./pages/Experiments'));
const RunDetail = lazy(() => import('./pages/RunDetail'));
const Compare = lazy(() => import('./pages/Compare'));
const Assets = lazy(() => import('./pages/Assets'));
const Artifacts = lazy(() => import('./pages/Artifacts'));
const SystemMonitor = lazy(() => import('./pages/SystemMonitor'));
const RecycleBin = lazy(() => import('./pages/RecycleBin'));
const Settings = lazy(() => import('./pages/Settings'));

const kAccent = '#5b5bd6';
const kTitles: Record<string, string> = {
  experiments: 'nav.experiments', compare: 'nav.compare', assets: 'nav.assets', artifacts: 'artifacts.title', system: 'nav.system',
  'recycle-bin': 'nav.recycle_bin', settings: 'nav.settings',
};

function section_of(pathname: string): string {
  const first = pathname.split('/')[1] || 'experiments';
  return first === 'runs' ? 'experiments' : first;
}

export function App() {
  const { t, i18n } = useTranslation();
  const { set_prefs, dark } = usePrefs();
  const location = useLocation();
  const [antd_locale, set_antd_locale] = useState<Locale | undefined>(undefined);
  const [collapsed, set_collapsed] = useState(false);

  useEffect(() => {
    void load_language(initial_language());
  }, []);

  useEffect(() => {
    let live = true;
    if (i18n.language === 'zh-CN') {
      void import('antd/locale/zh_CN').then((m) => live && set_antd_locale(m.default));
    } else {
      set_antd_locale(undefined);
    }
    return () => { live = false; };
  }, [i18n.language]);

  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    document.body.style.background = dark ? '#141414' : '#f5f6fa';
  }, [dark]);

  const items = [
    { key: 'experiments', icon: <ExperimentOutlined />, label: <Link to="/experiments">{t('nav.experiments')}</Link> },
    { key: 'compare', icon: <LineChartOutlined />, label: <Link to="/compare">{t('nav.compare')}</Link> },
    { key: 'assets', icon: <DatabaseOutlined />, label: <Link to="/assets">{t('nav.assets')}</Link> },
    { key: 'artifacts', icon: <AppstoreOutlined />, label: <Link to="/artifacts" data-testid="nav-artifacts">{t('artifacts.title')}</Link> },
    { key: 'system', icon: <DashboardOutlined />, label: <Link to="/system">{t('nav.system')}</Link> },
    { key: 'recycle-bin', icon: <DeleteOutlined />, label: <Link to="/recycle-bin">{t('nav.recycle_bin')}</Link> },
    { key: 'settings', icon: <SettingOutlined />, label: <Link to="/settings">{t('nav.settings')}</Link> },
  ];

  // The tab title of every page but run detail, which names its run itself.
  const section = section_of(location.pathname);
  use_document_title(location.pathname.startsWith('/runs/') ? null : t(kTitles[section] ?? 'nav.experiments'));

  const next_lang = i18n.language === 'zh-CN' ? 'en' : 'zh-CN';
  return (
    <ConfigProvider
      locale={antd_locale}
      theme={{
        algorithm: dark ? antd_theme.darkAlgorithm : antd_theme.defaultAlgorithm,
        token: { colorPrimary: kAccent, borderRadius: 8, fontSize: 14 },
        components: { Layout: { headerHeight: 56, siderBg: dark ? '#1d1d1f' : '#ffffff', headerBg: dark ? '#1d1d1f' : '#ffffff' } },
      }}
    >
      <AntApp>
        <a className="skip-link" href="#main">{t('app.skip_to_content')}</a>
        <Layout style={{ minHeight: '100vh' }}>
          <Layout.Sider width={208} collapsible collapsed={collapsed} onCollapse={set_collapsed} theme={dark ? 'dark' : 'light'}
                        style={{ borderRight: dark ? '1px solid #303030' : '1px solid #eceef3', position: 'sticky', top: 0, height: '100vh' }}>
            <div className="rn-logo" style={{ color: dark ? '#fff' : '#1f1f3a' }}>
              <img src="/favicon.svg" alt="" />
              {!collapsed && t('app.title')}
            </div>
            <Menu mode="inline" selectedKeys={[section_of(location.pathname)]} items={items}
                  theme={dark ? 'dark' : 'light'} style={{ borderInlineEnd: 0 }} />
          </Layout.Sider>
          <Layout style={{ minWidth: 0 }}>
            <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 8, paddingInline: 24,
                                    borderBottom: dark ? '1px solid #303030' : '1px solid #eceef3', position: 'sticky', top: 0, zIndex: 10 }}>
              <span style={{ fontSize: 16, fontWeight: 600, flex: 1 }} data-testid="page-title">{t(kTitles[section_of(location.pathname)] ?? 'nav.experiments')}</span>
              <Tooltip title={t('nav.api_docs')}>
                <Button type="text" icon={<ApiOutlined />} href="/docs" target="_blank" aria-label={t('nav.api_docs')} />
              </Tooltip>
              <Tooltip title={t('settings.language')}>
                <Button type="text" icon={<GlobalOutlined />} onClick={() => void load_language(next_lang)} data-testid="lang-toggle">
                  {i18n.language === 'zh-CN' ? '简体中文' : 'English'}
                </Button>
              </Tooltip>
              <Tooltip title={t('settings.theme')}>
                <Button type="text" aria-label={t('settings.theme')} icon={dark ? <SunOutlined /> : <MoonOutlined />}
                        onClick={() => set_prefs({ theme: dark ? 'light' : 'dark' })} />
              </Tooltip>
            </Layout.Header>
            <Layout.Content id="main" style={{ minWidth: 0 }}>
              <Suspense fallback={<div style={{ padding: 80, textAlign: 'center' }}><Spin size="large" /></div>}>
                <Routes>
                  <Route path="/" element={<Navigate to="/experiments" replace />} />
                  <Route path="/experiments" element={<Experiments />} />
                  <Route path="/runs/:runId" element={<RunDetail />} />
                  <Route path="/compare" element={<Compare />} />
                  <Route path="/assets" element={<Assets />} />
                  <Route path="/artifacts" element={<Artifacts />} />
                  <Route path="/artifacts/:name" element={<Artifacts />} />
                  <Route path="/system" element={<SystemMonitor />} />
                  <Route path="/recycle-bin" element={<RecycleBin />} />
                  <Route path="/settings" element={<Settings />} />
                  <Route path="*" element={<Navigate to="/experiments" replace />} />
                </Routes>
              </Suspense>
            </Layout.Content>
          </Layout>
        </Layout>
      </AntApp>
    </ConfigProvider>
  );
}
