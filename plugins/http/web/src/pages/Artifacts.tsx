// Artifacts: the blob store's statistics (space saved by dedup), the artifact list (type filter,
// name search) and, for the artifact in the URL (/artifacts/<name>?v=<N>), its versions, aliases,
// files and lineage (API.md §4.5, §4.6). A server without the dedup plugin shows designed states.
import { useMemo, useRef, useState } from 'react';
import { Card, Col, Empty, Input, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError, list_artifacts } from '../api/client';
import { useLoad } from '../api/hooks';
import type { ArtifactListItem } from '../api/types';
import { ErrorState } from '../components/ErrorState';
import { ArtifactBlobStats } from '../components/ArtifactBlobStats';
import { ArtifactDetail } from '../components/ArtifactDetail';
import { format_bytes, format_time } from '../lib/format';

export default function Artifacts() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { name } = useParams<{ name?: string }>();
  const [search, set_search] = useSearchParams();
  const [type, set_type] = useState<string | undefined>(undefined);
  const [q, set_q] = useState('');
  const known_types = useRef(new Set<string>());
  const list = useLoad((s) => list_artifacts({ type, q }, s), [type, q]);
  for (const a of list.data?.artifacts ?? []) known_types.current.add(a.type);
  const types = useMemo(() => [...known_types.current].sort(), [list.data]);
  const v = Number(search.get('v'));
  const version = Number.isInteger(v) && v > 0 ? v : null;

  const open = (n: string) => navigate(`/artifacts/${encodeURIComponent(n)}`);
  const unavailable = list.error instanceof ApiError && [404, 405, 501, 503].includes(list.error.status);
  const rows = list.data?.artifacts ?? [];

  return (
    <div className="rn-page" data-testid="artifacts-page">
      <ArtifactBlobStats />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={name ? 7 : 24}>
          <Card size="small" title={<span data-testid="artifacts-heading">{t('artifacts.list_title')}</span>}>
            <Space wrap style={{ marginBottom: 12 }}>
              <Select allowClear placeholder={t('artifacts.type')} style={{ width: 160 }} value={type} onChange={set_type}
                      aria-label={t('artifacts.type')} data-testid="artifact-type-filter"
                      options={types.map((k) => ({ value: k, label: k }))} />
              <Input.Search allowClear placeholder={t('artifacts.search')} style={{ width: 220 }} onSearch={(s) => set_q(s.trim())}
                            aria-label={t('artifacts.search')} data-testid="artifact-search" />
            </Space>
            {list.error && !list.data ? (unavailable
              ? <Empty data-testid="artifacts-unavailable" description={t('artifacts.unavailable')} />
              : <ErrorState error={list.error} onRetry={list.reload} />) : (
              <Table<ArtifactListItem> size="small" rowKey="name" dataSource={rows} data-testid="artifact-list"
                     loading={list.loading && !list.data}
                     pagination={rows.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
                     onRow={(a) => ({ onClick: () => open(a.name), style: { cursor: 'pointer' },
                                      className: a.name === name ? 'ant-table-row-selected' : undefined })}
                     locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE}
                                                 description={q || type ? t('artifacts.no_match') : t('artifacts.empty')}>
                       {!q && !type && <Typography.Paragraph type="secondary" style={{ maxWidth: 420, margin: '0 auto' }}>
                         {t('artifacts.empty_hint')}</Typography.Paragraph>}
                     </Empty> }}
                     columns={[
                       { title: t('artifacts.name'), dataIndex: 'name', ellipsis: true, render: (n: string) => (
                         <Link className="rn-mono" to={`/artifacts/${encodeURIComponent(n)}`} onClick={(e) => e.stopPropagation()}
                               data-testid={`artifact-link-${n}`}>{n}</Link>) },
                       { title: t('artifacts.type'), dataIndex: 'type', width: 104, render: (v: string) => <Tag color="purple">{v}</Tag> },
                       { title: t('artifacts.latest'), dataIndex: 'latest_version', width: 72, render: (v: number) => (v ? `v${v}` : '—') },
                       ...(name ? [] : [
                         { title: t('artifacts.aliases'), dataIndex: 'aliases', render: (a: Record<string, number>) => (
                           <Space size={[4, 4]} wrap>{Object.entries(a ?? {}).map(([k, n]) => <Tag key={k} color="geekblue">{k} → v{n}</Tag>)}</Space>) },
                         { title: t('artifacts.versions'), dataIndex: 'version_count', width: 90, align: 'right' as const },
                         { title: t('artifacts.size'), dataIndex: 'total_size_bytes', width: 110, align: 'right' as const,
                           render: (v: number) => format_bytes(v) },
                         { title: t('artifacts.updated'), dataIndex: 'updated_at', width: 170,
                           render: (v: number | null) => format_time(v, i18n.language) },
                       ]),
                     ]} />
            )}
          </Card>
        </Col>
        {name && (
          <Col xs={24} xl={17}>
            <ArtifactDetail name={name} version={version} onChanged={list.reload}
                            onSelectVersion={(n) => set_search({ v: String(n) }, { replace: true })} />
          </Col>
        )}
      </Row>
    </div>
  );
}
