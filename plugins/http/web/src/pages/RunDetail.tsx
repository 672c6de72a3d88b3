// Run detail: header (status, duration, steps, host, pid), live charts, live logs, config, summary,
// assets and media. The status in the header follows the metric stream's status frames.
import { useEffect, useState } from 'react';
import { Breadcrumb, Button, Card, Descriptions, Result, Skeleton, Space, Tabs, Tag, Typography } from 'antd';
import { LineChartOutlined } from '@ant-design/icons';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError, get } from '../api/client';
import { useLoad } from '../api/hooks';
import type { RunDetail as RunDetailData } from '../api/types';
import { ErrorState } from '../components/ErrorState';
import { KeyValueTable } from '../components/KeyValueTable';
import { LogViewer } from '../components/LogViewer';
import { MediaGallery } from '../components/MediaGallery';
import { MetricCharts } from '../components/MetricCharts';
import { RunAssets } from '../components/RunAssets';
import { StatusTag, status_label } from '../components/StatusTag';
import { display_status } from '../lib/status';
import { use_document_title } from '../lib/title';
import { format_duration, format_time } from '../lib/format';

export function run_config(assets: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const cfg = assets && typeof assets === 'object' ? (assets.config as Record<string, unknown> | undefined) : undefined;
  if (!cfg || typeof cfg !== 'object') return {};
  const out: Record<string, unknown> = {};
  if (cfg.args && typeof cfg.args === 'object') Object.assign(out, cfg.args);
  if (cfg.extra && typeof cfg.extra === 'object') Object.assign(out, cfg.extra);
  if (Array.isArray(cfg.config_files) && cfg.config_files.length) out.config_files = cfg.config_files.join(', ');
  return out;
}

export default function RunDetail() {
  const { runId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const [params, set_params] = useSearchParams();
  const tab = params.get('tab') ?? 'charts';
  const [live_status, set_live_status] = useState<string | null>(null);
  const [live_reason, set_live_reason] = useState<string | null>(null);
  const run = useLoad<RunDetailData>((s) => get(`/api/runs/${encodeURIComponent(runId)}`, s), [runId]);
  const [now, set_now] = useState(Date.now() / 1000);
  const status = live_status ?? run.data?.status ?? null;
  use_document_title(run.data?.alias ? `${run.data.alias} (${runId})` : runId);
  const running = status === 'running';

  useEffect(() => { set_live_status(null); }, [runId]);
  useEffect(() => {
    if (!running) return undefined;
    const id = window.setInterval(() => set_now(Date.now() / 1000), 1000);
    return () => window.clearInterval(id);
  }, [running]);
  // Refresh the header now and then while running (steps, summary).
  useEffect(() => {
    if (!running) return undefined;
    const id = window.setInterval(run.reload, 15000);
    return () => window.clearInterval(id);
  }, [running, run.reload]);

  if (run.error && !run.data) {
    if (run.error instanceof ApiError && run.error.status === 404) {
      return <div className="rn-page"><Result status="404" title={t('run.not_found')} subTitle={t('run.not_found_hint')}
        extra={<Button type="primary" onClick={() => navigate('/experiments')}>{t('common.back')}</Button>} /></div>;
    }
    return <div className="rn-page"><ErrorState error={run.error} onRetry={run.reload} /></div>;
  }
  const r = run.data;
  const meta = (r?.meta ?? {}) as Record<string, unknown>;
  const duration = r ? (running && r.started_at ? now - r.started_at : r.duration ?? null) : null;

  return (
    <div className="rn-page" data-testid="run-detail">
      <Breadcrumb style={{ marginBottom: 12 }} items={[
        { title: <Link to="/experiments">{t('nav.experiments')}</Link> },
        ...(r?.path ? [{ title: <Link to={`/experiments?path=${encodeURIComponent(r.path)}`}>{r.path}</Link> }] : []),
        { title: <span className="rn-mono">{runId}</span> },
      ]} />
      <Card style={{ marginBottom: 16 }}>
        {!r ? <Skeleton active paragraph={{ rows: 2 }} /> : (
          <>
            <Space align="center" wrap style={{ marginBottom: 12 }}>
              <Typography.Title level={4} style={{ margin: 0 }} data-testid="run-title">{r.alias || r.id}</Typography.Title>
              <StatusTag status={status} exitReason={live_status ? live_reason : r.exit_reason} />
              {r.alias && <Typography.Text type="secondary" className="rn-mono" copyable>{r.id}</Typography.Text>}
              {(r.tags ?? []).map((tag) => <Tag key={tag}>{tag}</Tag>)}
              <Button size="small" icon={<LineChartOutlined />} onClick={() => navigate(`/compare?runs=${encodeURIComponent(r.id)}`)}>
                {t('experiments.compare')}</Button>
            </Space>
            <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3, xl: 6 }} items={[
              { key: 'status', label: t('run.status'), children: <span data-testid="run-status">{status ? status_label(t, display_status(status, live_status ? live_reason : r.exit_reason)) : '—'}</span> },
              { key: 'duration', label: t('run.duration'), children: format_duration(duration) },
              { key: 'steps', label: t('run.steps'), children: r.last_step ?? '—' },
              { key: 'created', label: t('run.created'), children: format_time(r.created_time, i18n.language) },
              { key: 'host', label: t('run.host'), children: (r.hostname as string) ?? (meta.hostname as string) ?? '—' },
              { key: 'pid', label: t('run.pid'), children: r.pid ?? '—' },
            ]} />
          </>
        )}
      </Card>
      <Tabs activeKey={tab} onChange={(k) => set_params({ tab: k }, { replace: true })} destroyInactiveTabPane={false} items={[
        { key: 'charts', label: t('run.charts'),
          children: <MetricCharts runId={runId} running={running} onStatus={(s) => { set_live_status(String(s.status ?? '') || null); set_live_reason(typeof s.exit_reason === 'string' ? s.exit_reason : null); }} /> },
        { key: 'logs', label: t('run.logs'), children: <LogViewer runId={runId} live={running} height="calc(100vh - 360px)" /> },
        { key: 'config', label: t('run.config'), children: <Card size="small"><KeyValueTable data={run_config(r?.assets)} emptyText={t('run.no_config')} /></Card> },
        { key: 'summary', label: t('run.summary'), children: <Card size="small"><KeyValueTable data={r?.summary} emptyText={t('run.no_summary')} /></Card> },
        { key: 'assets', label: t('run.assets') + (r?.assets_count ? ` (${r.assets_count})` : ''),
          children: <Card size="small"><RunAssets runId={runId} assets={r?.assets} /></Card> },
        { key: 'media', label: t('run.media') + (r?.media_count ? ` (${r.media_count})` : ''),
          children: <Card size="small"><MediaGallery runId={runId} /></Card> },
      ]} />
    </div>
  );
}
