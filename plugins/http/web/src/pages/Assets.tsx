// Assets: every code snapshot, dataset, pretrained model and output across runs (GET /api/assets,
// API.md §4.12, served by the server), filterable by type and text, paged with the server's cursor,
// plus storage statistics. A server without the overview route (404/405/501) gets a designed state
// that points at the per-run assets instead of an error.
import { useEffect, useState } from 'react';
import { Button, Card, Col, Empty, Input, Row, Select, Statistic, Table, Tag, Typography, Tooltip } from 'antd';
import { CheckCircleFilled, CloudOutlined } from '@ant-design/icons';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError, get, request, with_query } from '../api/client';
import { useLoad } from '../api/hooks';
import type { AssetItem, StorageStats } from '../api/types';
import { ErrorState } from '../components/ErrorState';
import { format_bytes, format_time } from '../lib/format';

const kTypes = ['code_snapshot', 'dataset', 'pretrained', 'output'];
const kPage = 200;

interface AssetPage { assets: AssetItem[]; total: number | null; next_cursor: string | null }

/** One page of GET /api/assets (API.md §4.12). */
export async function load_assets(query: { type: string; q: string; cursor?: string | null }, signal?: AbortSignal): Promise<AssetPage> {
  const { data, headers } = await request<{ assets?: AssetItem[]; next_cursor?: string | null }>(
    'GET', with_query('/api/assets', { type: query.type, q: query.q, limit: kPage, cursor: query.cursor }), undefined, signal);
  const total = headers.get('X-Total-Count');
  return { assets: data?.assets ?? [], total: total ? Number(total) : null, next_cursor: data?.next_cursor ?? null };
}

/** True for the answers of a server that has no assets overview route. */
function route_missing(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501);
}

export default function Assets() {
  const { t, i18n } = useTranslation();
  const [types, set_types] = useState<string[]>([]);
  const [q, set_q] = useState('');
  const stats = useLoad<StorageStats>((s) => get('/api/storage/stats', s), []);
  const assets = useLoad<AssetPage>((s) => load_assets({ type: types.join(','), q }, s), [types.join(','), q]);
  // Further pages ("Load more"), reset whenever the first page is reloaded.
  const [more, set_more] = useState<AssetPage | null>(null);
  const [more_busy, set_more_busy] = useState(false);
  const [more_error, set_more_error] = useState<unknown>(null);
  useEffect(() => { set_more(null); set_more_error(null); }, [assets.data]);
  const rows = [...(assets.data?.assets ?? []), ...(more?.assets ?? [])];
  const next = more ? more.next_cursor : assets.data?.next_cursor ?? null;
  const load_more = async () => {
    if (!next) return;
    set_more_busy(true);
    try {
      const page = await load_assets({ type: types.join(','), q, cursor: next });
      set_more((m) => ({ ...page, assets: [...(m?.assets ?? []), ...page.assets] }));
      set_more_error(null);
    } catch (e) {
      set_more_error(e);
    } finally {
      set_more_busy(false);
    }
  };

  const st = stats.data;
  return (
    <div className="rn-page" data-testid="assets-page">
      <Card size="small" title={t('assets.storage')} style={{ marginBottom: 16 }}>
        {stats.error && !st ? <ErrorState compact error={stats.error} onRetry={stats.reload} /> : (
          <Row gutter={[16, 16]}>
            <Col xs={12} md={4}><Statistic title={t('assets.total_size')} value={st?.total?.size_human ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic title={t('assets.runs_size')} value={st?.runs?.size_human ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic title={t('assets.archive_size')} value={st?.archive?.size_human ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic title={t('assets.runs_count')} value={st?.runs?.runs_count ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic title={t('assets.experiments_count')} value={st?.runs?.experiments_count ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic title={t('assets.projects_count')} value={st?.runs?.projects_count ?? '—'} loading={!st} /></Col>
          </Row>
        )}
      </Card>
      <Card size="small" title={t('assets.overview')}
            extra={<>
              <Select mode="multiple" allowClear placeholder={t('assets.type')} style={{ minWidth: 220, marginRight: 8 }} value={types} onChange={set_types}
                      options={kTypes.map((k) => ({ value: k, label: t(`assets.type_${k}`) }))} aria-label={t('assets.type')} />
              <Input.Search allowClear placeholder={t('common.search')} style={{ width: 240 }} onSearch={set_q} aria-label={t('common.search')} />
            </>}>
        {assets.error && !assets.data ? (route_missing(assets.error)
          ? <Empty data-testid="assets-unavailable" description={t('assets.overview_unavailable')}>
              <Typography.Paragraph type="secondary" style={{ maxWidth: 480, margin: '0 auto' }}>{t('assets.overview_unavailable_hint')}</Typography.Paragraph>
              <Button onClick={assets.reload}>{t('common.retry')}</Button>
            </Empty>
          : <ErrorState error={assets.error} onRetry={assets.reload} />) : (
          <>
          <Table<AssetItem> size="small" loading={assets.loading && !assets.data} dataSource={rows} data-testid="assets-table"
                 rowKey={(a) => `${a.asset_type}:${a.fingerprint ?? a.archive_path ?? a.source}`}
                 pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
                 locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('assets.no_assets')} /> }}
                 columns={[
                   { title: t('assets.type'), dataIndex: 'asset_type', width: 140, render: (v: string) => <Tag>{t(`assets.type_${v}`, { defaultValue: v })}</Tag> },
                   { title: t('assets.name'), dataIndex: 'name', ellipsis: true, render: (v: string | null) => v ?? '—' },
                   { title: t('assets.source'), dataIndex: 'source', ellipsis: true, render: (v: string | null) => <span className="rn-mono">{v ?? '—'}</span> },
                   { title: t('assets.archived'), dataIndex: 'archived', width: 90, align: 'center',
                     render: (v: boolean) => (v ? <CheckCircleFilled style={{ color: '#389e0d' }} aria-label={t('common.yes')} /> :
                       <Tooltip title={t('common.no')}><CloudOutlined style={{ opacity: .4 }} /></Tooltip>) },
                   { title: t('assets.size'), dataIndex: 'size_bytes', width: 110, render: (v: number | null) => format_bytes(v) },
                   { title: t('assets.files'), dataIndex: 'file_count', width: 80, render: (v: number | null) => v ?? '—' },
                   { title: t('assets.runs'), dataIndex: 'run_count', width: 70, align: 'right' },
                   { title: t('assets.last_used'), dataIndex: 'last_used_at', width: 170, render: (v: number | null) => format_time(v, i18n.language) },
                   { title: t('assets.last_run'), dataIndex: 'last_run_id', width: 220,
                     render: (v: string | null) => (v ? <Link className="rn-mono" to={`/runs/${encodeURIComponent(v)}?tab=assets`}>{v}</Link> : <Typography.Text type="secondary">—</Typography.Text>) },
                 ]} />
          <div style={{ display: 'flex', alignItems: 'center', gap: 12, marginTop: 8 }}>
            <Typography.Text type="secondary" data-testid="assets-count">
              {t('assets.shown_count', { shown: rows.length, total: assets.data?.total ?? rows.length })}
            </Typography.Text>
            {next && <Button size="small" loading={more_busy} onClick={() => void load_more()} data-testid="assets-more">{t('assets.load_more')}</Button>}
            {more_error ? <Typography.Text type="danger">{t('assets.load_more_failed')}</Typography.Text> : null}
          </div>
          </>
        )}
      </Card>
    </div>
  );
}
