// Blob-store statistics (GET /api/blobs/stats, API.md §4.6): what the store holds on disk (each blob
// once) against what runs and artifacts reference (the size without dedup), the space dedup saves
// and the ratio. A server without the dedup plugin answers 404/503: a compact designed state.
import { Card, Col, Progress, Row, Statistic, Tooltip, Typography } from 'antd';
import { InfoCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { get_blob_stats } from '../api/client';
import { useLoad } from '../api/hooks';
import type { BlobStats } from '../api/types';
import { ErrorState } from './ErrorState';
import { format_bytes } from '../lib/format';

/** The dedup ratio as text ("3.42×"); "—" when unknown. */
export function format_ratio(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`;
}

export function ArtifactBlobStats() {
  const { t } = useTranslation();
  const stats = useLoad<BlobStats>((s) => get_blob_stats(s), []);
  const st = stats.data;
  const physical = st?.physical_bytes ?? 0;
  const referenced = st?.referenced_bytes ?? 0;
  // Share of the referenced bytes actually stored: the shorter the bar, the more dedup saves.
  const stored_pct = referenced > 0 ? Math.min(100, (physical / referenced) * 100) : 100;
  return (
    <Card size="small" title={t('artifacts.blob_stats')} data-testid="blob-stats" style={{ marginBottom: 16 }}
          extra={<Tooltip title={t('artifacts.blob_stats_help')}><InfoCircleOutlined aria-label={t('artifacts.blob_stats_help')} tabIndex={0} /></Tooltip>}>
      {stats.error && !st ? <ErrorState compact error={stats.error} onRetry={stats.reload} /> : (
        <>
          <Row gutter={[16, 12]}>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.physical_bytes')} value={format_bytes(st?.physical_bytes)} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.referenced_bytes')} value={format_bytes(st?.referenced_bytes)} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.saved_bytes')} value={format_bytes(st?.saved_bytes)} loading={!st}
                                           valueStyle={{ color: (st?.saved_bytes ?? 0) > 0 ? '#389e0d' : undefined }} /></Col>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.dedup_ratio')} value={format_ratio(st?.dedup_ratio)} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.blob_count')} value={st?.blob_count ?? '—'} loading={!st} /></Col>
            <Col xs={12} md={4}><Statistic className="rn-stat" title={t('artifacts.unreferenced')} loading={!st}
                                           value={st ? `${st.unreferenced_count ?? 0} · ${format_bytes(st.unreferenced_bytes ?? 0)}` : '—'} /></Col>
          </Row>
          {st && referenced > 0 && (
            <div style={{ marginTop: 12 }}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('artifacts.stored_share', { stored: format_bytes(physical), referenced: format_bytes(referenced) })}
              </Typography.Text>
              <Progress percent={Number(stored_pct.toFixed(1))} showInfo={false} strokeColor="#5b5bd6" aria-label={t('artifacts.stored_share_label')}
                        data-testid="blob-stored-bar" />
            </div>
          )}
        </>
      )}
    </Card>
  );
}
