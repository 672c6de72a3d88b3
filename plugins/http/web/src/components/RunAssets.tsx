// One run's assets from its assets.json (code snapshot, config files, datasets, pretrained models,
// outputs) with download links through GET /api/runs/{id}/assets/download (API.md §2.2), and the
// code-snapshot browser (CodeSnapshot.tsx) when the run has a snapshot.
import { Button, Divider, Empty, Table, Tag, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { with_query } from '../api/client';
import { format_bytes } from '../lib/format';
import { CodeSnapshot, snapshot_info } from './CodeSnapshot';

interface AssetRow {
  key: string;
  type: string;
  name: string;
  source: string | null;
  size: number | null;
  files: number | null;
  fingerprint: string | null;
  download: string | null;
  /** The `filename` the download route gets (a directory or manifest becomes `<filename>.zip`). */
  filename: string;
}

/** The last path component of `p` (either separator), or `p`. */
function base_name(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : p;
}

export function asset_rows(assets: Record<string, unknown> | null | undefined): AssetRow[] {
  const out: AssetRow[] = [];
  if (!assets || typeof assets !== 'object') return out;
  const code = assets.code as Record<string, unknown> | undefined;
  const snap = code && typeof code === 'object' ? (code.snapshot as Record<string, unknown> | undefined) : undefined;
  if (snap && typeof snap === 'object') {
    out.push({ key: 'code', type: 'code_snapshot', name: String(snap.workspace_root ?? 'code'), source: (snap.workspace_root as string) ?? null,
               size: (snap.total_size_bytes as number) ?? null, files: (snap.file_count as number) ?? null,
               fingerprint: (snap.fingerprint as string) ?? null,
               download: (snap.format === 'manifest' ? (snap.manifest_path as string) : undefined) ?? (snap.archive_path as string) ??
                         (snap.manifest_path as string) ?? null,
               filename: snap.format === 'manifest' || snap.fingerprint_kind === 'sha256_manifest' ? 'code_snapshot' : 'code_snapshot.zip' });
  }
  const lists: [string, string, string][] = [['datasets', 'dataset', 'uri'], ['pretrained', 'pretrained', 'path_or_uri'], ['outputs', 'output', 'path']];
  for (const [section, type, src] of lists) {
    const list = assets[section];
    if (!Array.isArray(list)) continue;
    list.forEach((e: Record<string, unknown>, i) => {
      if (!e || typeof e !== 'object') return;
      const name = String(e.name ?? e.key ?? e[src] ?? '—');
      out.push({ key: `${section}-${i}`, type, name, source: (e[src] as string) ?? null, filename: base_name(name),
                 size: (e.total_size_bytes as number) ?? (e.size_bytes as number) ?? null, files: (e.file_count as number) ?? null,
                 fingerprint: typeof e.fingerprint === 'string' ? e.fingerprint : null,
                 download: e.saved ? ((e.archive_path as string) ?? (e.manifest_path as string) ?? null) : null });
    });
  }
  return out;
}

export function RunAssets({ runId, assets }: { runId: string; assets: Record<string, unknown> | null | undefined }) {
  const { t } = useTranslation();
  const rows = asset_rows(assets);
  const snapshot = snapshot_info(assets);
  if (rows.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('run.no_assets')} />;
  return (
    <>
    {snapshot && <><CodeSnapshot runId={runId} snapshot={snapshot} /><Divider style={{ margin: '12px 0' }} /></>}
    <Table<AssetRow> size="small" rowKey="key" dataSource={rows} pagination={false} data-testid="run-assets-table" columns={[
      { title: t('run.asset_type'), dataIndex: 'type', width: 140, render: (v: string) => <Tag>{t(`assets.type_${v}`)}</Tag> },
      { title: t('run.asset_name'), dataIndex: 'name', ellipsis: true },
      { title: t('assets.source'), dataIndex: 'source', ellipsis: true, render: (v: string | null) => <span className="rn-mono">{v ?? '—'}</span> },
      { title: t('run.asset_size'), dataIndex: 'size', width: 110, render: (v: number | null) => format_bytes(v) },
      { title: t('run.asset_files'), dataIndex: 'files', width: 80, render: (v: number | null) => v ?? '—' },
      { title: t('run.asset_fingerprint'), dataIndex: 'fingerprint', width: 160,
        render: (v: string | null) => (v ? <Typography.Text className="rn-mono" copyable={{ text: v }}>{v.slice(0, 12)}</Typography.Text> : '—') },
      { title: '', key: 'dl', width: 60, render: (_: unknown, r) => (r.download ? (
        <Button type="text" size="small" icon={<DownloadOutlined />} aria-label={t('common.download')}
                href={with_query(`/api/runs/${encodeURIComponent(runId)}/assets/download`, { path: r.download, filename: r.filename })} />) : null) },
    ]} />
    </>
  );
}
