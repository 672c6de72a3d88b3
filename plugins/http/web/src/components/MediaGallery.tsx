// Logged images of one run (GET /api/runs/{id}/media, API.md §4.4) by key, with a step slider per key.
import { useMemo, useState } from 'react';
import { Card, Col, Empty, Image, Row, Segmented, Slider, Space, Typography, Skeleton } from 'antd';
import { useTranslation } from 'react-i18next';
import { get, with_query } from '../api/client';
import { useLoad } from '../api/hooks';
import type { MediaItem, MediaResponse } from '../api/types';
import { ErrorState } from './ErrorState';

function KeyCard({ name, items }: { name: string; items: MediaItem[] }) {
  const { t } = useTranslation();
  const [idx, set_idx] = useState(items.length - 1);
  const item = items[Math.min(idx, items.length - 1)];
  return (
    <Card size="small" title={name} extra={<Typography.Text type="secondary">{t('run.step')} {item.step ?? item.global_step ?? '—'}</Typography.Text>}>
      <Image src={item.url} alt={item.caption ?? name} className="rn-media-img" />
      {item.caption && <Typography.Paragraph type="secondary" style={{ margin: '4px 0 0' }} ellipsis>{item.caption}</Typography.Paragraph>}
      {items.length > 1 && <Slider min={0} max={items.length - 1} value={Math.min(idx, items.length - 1)} onChange={set_idx}
                                   tooltip={{ formatter: (i) => `${t('run.step')} ${items[i ?? 0]?.step ?? ''}` }} aria-label={t('run.step')} />}
    </Card>
  );
}

export function MediaGallery({ runId }: { runId: string }) {
  const { t } = useTranslation();
  const [key, set_key] = useState<string>('');
  const media = useLoad<MediaResponse>((s) => get(with_query(`/api/runs/${encodeURIComponent(runId)}/media`, { limit: 1000 }), s), [runId]);
  const by_key = useMemo(() => {
    const m = new Map<string, MediaItem[]>();
    for (const it of media.data?.items ?? []) {
      if (!m.has(it.key)) m.set(it.key, []);
      m.get(it.key)!.push(it);
    }
    return m;
  }, [media.data]);
  if (media.error) return <ErrorState compact error={media.error} onRetry={media.reload} />;
  if (!media.data) return <Skeleton active />;
  if (by_key.size === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('run.no_media')} />;
  const keys = [...by_key.keys()];
  const shown = key ? keys.filter((k) => k === key) : keys;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {keys.length > 1 && <Segmented value={key} onChange={(v) => set_key(String(v))}
                                     options={[{ value: '', label: t('run.all_keys') }, ...keys.map((k) => ({ value: k, label: k }))]} />}
      <Row gutter={[12, 12]}>
        {shown.map((k) => <Col key={k} xs={24} sm={12} lg={8} xxl={6}><KeyCard name={k} items={by_key.get(k)!} /></Col>)}
      </Row>
    </Space>
  );
}
