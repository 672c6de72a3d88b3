// Settings: language (from GET /api/i18n/locales, switched without reloading), theme, refresh and
// live-update options, the data directory (GET /api/config, POST /api/config/user_root_dir), archive
// import (POST /api/import/archive), and the server version.
import { useState } from 'react';
import { App, Button, Card, Descriptions, Input, Radio, Select, Space, Switch, Typography, Upload, Progress } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { get, post } from '../api/client';
import { useLoad } from '../api/hooks';
import type { LocalesResponse } from '../api/types';
import { error_text } from '../components/ErrorState';
import { load_language } from '../i18n';
import { usePrefs, type ThemeMode } from '../prefs';

interface ConfigInfo { user_root_dir: string; storage: string; config_file: string; storage_writable?: boolean }
interface VersionInfo { version: string; api_version?: string; compat_version?: string; implementation?: string }

export default function Settings() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const { prefs, set_prefs } = usePrefs();
  const locales = useLoad<LocalesResponse>((s) => get('/api/i18n/locales', s), []);
  const config = useLoad<ConfigInfo>((s) => get('/api/config', s), []);
  const version = useLoad<VersionInfo>((s) => get('/api/version', s), []);
  const [root, set_root] = useState<string | null>(null);
  const [upload_pct, set_upload_pct] = useState<number | null>(null);

  const list = locales.data?.locales ?? [{ code: 'en', name: 'English', native_name: 'English', completeness: 1 },
                                          { code: 'zh-CN', name: 'Chinese (Simplified)', native_name: '简体中文', completeness: 1 }];
  const current = list.find((l) => l.code === i18n.language) ?? list[0];

  const change_root = async () => {
    if (!root) return;
    try {
      const r = await post<{ storage: string }>('/api/config/user_root_dir', { path: root });
      message.success(t('settings.root_changed', { path: r.storage }));
      set_root(null);
      config.reload();
    } catch (e) {
      message.error(error_text(e, t));
    }
  };

  const upload = (file: File) => {
    const form = new FormData();
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/import/archive');
    xhr.upload.onprogress = (e) => e.lengthComputable && set_upload_pct(Math.round((100 * e.loaded) / e.total));
    xhr.onload = () => {
      set_upload_pct(null);
      if (xhr.status >= 200 && xhr.status < 300) message.success(t('settings.import_done'));
      else {
        let detail = `HTTP ${xhr.status}`;
        try { const b = JSON.parse(xhr.responseText); if (typeof b.detail === 'string') detail = b.detail; } catch { /* keep status */ }
        message.error(detail);
      }
    };
    xhr.onerror = () => { set_upload_pct(null); message.error(t('common.network_error')); };
    xhr.send(form);
    return false;
  };

  return (
    <div className="rn-page" data-testid="settings-page" style={{ maxWidth: 960 }}>
      <Space direction="vertical" size={16} style={{ width: '100%' }}>
        <Card title={t('settings.appearance')}>
          <Descriptions column={1} labelStyle={{ width: 200 }} items={[
            { key: 'lang', label: t('settings.language'), children: (
              <Space direction="vertical" size={4}>
                <Select style={{ width: 240 }} value={current.code} onChange={(v) => void load_language(v)} data-testid="language-select"
                        aria-label={t('settings.language')}
                        options={list.map((l) => ({ value: l.code, label: `${l.native_name}${l.native_name !== l.name ? ` · ${l.name}` : ''}` }))} />
                <Typography.Text type="secondary">{t('settings.language_hint', { percent: Math.round((current.completeness ?? 1) * 100) })}</Typography.Text>
              </Space>) },
            { key: 'theme', label: t('settings.theme'), children: (
              <Radio.Group value={prefs.theme} onChange={(e) => set_prefs({ theme: e.target.value as ThemeMode })} optionType="button"
                           options={[{ value: 'light', label: t('settings.theme_light') }, { value: 'dark', label: t('settings.theme_dark') },
                                     { value: 'auto', label: t('settings.theme_auto') }]} />) },
            { key: 'refresh', label: t('settings.refresh_interval'), children: (
              <Select style={{ width: 160 }} value={prefs.refresh_seconds} onChange={(v) => set_prefs({ refresh_seconds: v })}
                      options={[0, 2, 5, 10, 30, 60].map((s) => ({ value: s, label: s === 0 ? t('settings.refresh_off') : t('settings.seconds', { count: s }) }))} />) },
            { key: 'live', label: t('settings.live_charts'), children: (
              <Space><Switch checked={prefs.live} onChange={(v) => set_prefs({ live: v })} />
                <Typography.Text type="secondary">{t('settings.live_charts_hint')}</Typography.Text></Space>) },
          ]} />
        </Card>
        <Card title={t('settings.data')}>
          <Descriptions column={1} labelStyle={{ width: 200 }} items={[
            { key: 'root', label: t('settings.storage_root'), children: (
              <Space.Compact style={{ width: '100%', maxWidth: 560 }}>
                <Input className="rn-mono" value={root ?? config.data?.storage ?? ''} onChange={(e) => set_root(e.target.value)}
                       disabled={!config.data} aria-label={t('settings.storage_root')} />
                <Button type="primary" disabled={!root || root === config.data?.storage} onClick={() => void change_root()}>{t('settings.change_root')}</Button>
              </Space.Compact>) },
            { key: 'cfg', label: t('settings.config_file'), children: <Typography.Text className="rn-mono" type="secondary">{config.data?.config_file ?? (config.error ? error_text(config.error, t) : '—')}</Typography.Text> },
            { key: 'import', label: t('settings.import_archive'), children: (
              <Space direction="vertical">
                <Upload accept=".tar.gz,.tgz,.zip" showUploadList={false} beforeUpload={upload}>
                  <Button icon={<UploadOutlined />} loading={upload_pct !== null}>{t('settings.import_archive')}</Button>
                </Upload>
                {upload_pct !== null && <Progress percent={upload_pct} size="small" style={{ width: 240 }} />}
                <Typography.Text type="secondary">{t('settings.import_hint')}</Typography.Text>
              </Space>) },
          ]} />
        </Card>
        <Card title={t('settings.about')}>
          <Descriptions column={1} labelStyle={{ width: 200 }} items={[
            { key: 'v', label: t('settings.version'), children: version.data ? `${version.data.implementation ?? 'runicorn'} ${version.data.version}` : (version.error ? error_text(version.error, t) : '—') },
            { key: 'api', label: t('settings.api_version'), children: version.data?.api_version ?? '—' },
          ]} />
        </Card>
      </Space>
    </div>
  );
}
