// Assets: every code snapshot, dataset, pretrained model and output across runs (GET /api/assets,
// API.md §4.12, served by the server), filterable by type and text, plus storage statistics.
import { useState } from 'react';
import { Card, Col, Empty, Input, Row, Select, Statistic, Table, Tag, Typography, Tooltip } from 'antd';
import { CheckCircleFilled, CloudOutlined } from '@ant-design/icons';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { get, request, with_query } from '../api/client';
import { useLoad } from '../api/hooks';
import type { AssetItem, StorageStats } from '../api/types';
import { ErrorState } from '../components/ErrorState';
import { format_bytes, format_time } from '../lib/format';

const kTypes = ['code_snapshot', 'dataset', 'pretrained', 'output'];

export default function Assets() {
  const { t, i18n } = useTranslation();
  const [types, set_types] = useState<string[]>([]);
  const [q, set_q] = useState('');
  const stats = useLoad<StorageStats>((s) => get('/api/storage/stats', s), []);
  const assets = useLoad<{ assets: AssetItem[]; total: number | null }>(async (s) => {
    const { data, headers } = await request<{ assets: AssetItem[] }>('GET', with_query('/api/assets', { type: types.join(','), q, limit: 500 }), undefined, s);
    const total = headers.get('X-Total-Count');
    return { assets: data.assets ?? [], total: total ? Number(total) : null };
  }, [types.join(','), q]);

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
        {assets.error && !assets.data ? <ErrorState error={assets.error} onRetry={assets.reload} /> : (
          <Table<AssetItem> size="small" loading={assets.loading && !assets.data} dataSource={assets.data?.assets ?? []}
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
        )}
      </Card>
    </div>
  );
}
