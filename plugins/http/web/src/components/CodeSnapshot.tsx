// A run's code snapshot (assets.json code.snapshot, FORMAT.md §4.6/§4.9): what was captured, a
// download of the whole snapshot as a zip, and a file browser. Both the v0.6 / zip-mode snapshot
// (a zip blob) and our manifest-mode one (a manifest the download route turns into a zip) come
// back from GET /api/runs/{id}/assets/download as a zip, so the browser lists that zip's central
// directory (CodeSnapshotZip.ts). No route lists a manifest's files as JSON; for a manifest-mode
// snapshot the zip is therefore fetched whole, which is offered only up to kMaxBrowseBytes.
import { useMemo, useState } from 'react';
import { Alert, Button, Descriptions, Empty, Input, Space, Table, Typography } from 'antd';
import { DownloadOutlined, FolderOpenOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { with_query } from '../api/client';
import { fetch_zip_listing, type ZipEntry } from './CodeSnapshotZip';
import { format_bytes, format_time } from '../lib/format';

const kMaxBrowseBytes = 64 * 1024 * 1024;

export interface SnapshotInfo {
  format: 'zip' | 'manifest';
  workspace_root: string | null;
  created_at: number | null;
  file_count: number | null;
  total_size_bytes: number | null;
  fingerprint: string | null;
  /** The path to hand to the download route (manifest path or zip blob path). */
  target: string | null;
}

/** Reads assets.json's code.snapshot; null when the run has none. Pure. */
export function snapshot_info(assets: Record<string, unknown> | null | undefined): SnapshotInfo | null {
  const code = assets?.code as Record<string, unknown> | undefined;
  const snap = code && typeof code === 'object' ? code.snapshot as Record<string, unknown> | undefined : undefined;
  if (!snap || typeof snap !== 'object') return null;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const format = snap.format === 'manifest' || snap.fingerprint_kind === 'sha256_manifest' ? 'manifest' : 'zip';
  return {
    format,
    workspace_root: str(snap.workspace_root),
    created_at: num(snap.created_at),
    file_count: num(snap.file_count),
    total_size_bytes: num(snap.total_size_bytes),
    fingerprint: str(snap.fingerprint),
    target: format === 'manifest' ? (str(snap.manifest_path) ?? str(snap.archive_path)) : str(snap.archive_path),
  };
}

/** The download link of a snapshot (always a zip named code_snapshot.zip). */
export function snapshot_download_url(run_id: string, snap: SnapshotInfo): string | null {
  if (!snap.target) return null;
  return with_query(`/api/runs/${encodeURIComponent(run_id)}/assets/download`,
                    { path: snap.target, filename: snap.format === 'manifest' ? 'code_snapshot' : 'code_snapshot.zip' });
}

export function CodeSnapshot({ runId, snapshot }: { runId: string; snapshot: SnapshotInfo }) {
  const { t, i18n } = useTranslation();
  const [entries, set_entries] = useState<ZipEntry[] | null>(null);
  const [error, set_error] = useState<string | null>(null);
  const [busy, set_busy] = useState(false);
  const [q, set_q] = useState('');
  const url = snapshot_download_url(runId, snapshot);
  // A manifest-mode snapshot is read whole to list it; a zip blob only by its tail.
  const too_big = snapshot.format === 'manifest' && (snapshot.total_size_bytes ?? 0) > kMaxBrowseBytes;
  const files = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (entries ?? []).filter((e) => !e.dir && (!needle || e.name.toLowerCase().includes(needle)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }, [entries, q]);

  const browse = async () => {
    if (!url) return;
    set_busy(true);
    set_error(null);
    try {
      set_entries(await fetch_zip_listing(url));
    } catch (e) {
      set_error(e instanceof Error ? e.message : String(e));
    } finally {
      set_busy(false);
    }
  };

  return (
    <div data-testid="code-snapshot">
      <Descriptions size="small" column={{ xs: 1, md: 3 }} title={t('assets.code_snapshot')}
                    extra={<Space>
                      {url && !too_big && entries === null && (
                        <Button size="small" icon={<FolderOpenOutlined />} loading={busy} onClick={() => void browse()} data-testid="snapshot-browse">
                          {t('assets.browse_files')}
                        </Button>)}
                      {url && <Button size="small" type="primary" icon={<DownloadOutlined />} href={url} data-testid="snapshot-download">
                        {t('assets.download_zip')}
                      </Button>}
                    </Space>}>
        <Descriptions.Item label={t('assets.snapshot_format')}>
          {snapshot.format === 'manifest' ? t('assets.format_manifest') : t('assets.format_zip')}
        </Descriptions.Item>
        <Descriptions.Item label={t('assets.files')}>{snapshot.file_count ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('assets.size')}>{format_bytes(snapshot.total_size_bytes)}</Descriptions.Item>
        <Descriptions.Item label={t('assets.workspace')} span={2}>
          <span className="rn-mono">{snapshot.workspace_root ?? '—'}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('assets.created')}>{format_time(snapshot.created_at, i18n.language)}</Descriptions.Item>
      </Descriptions>
      {!url && <Alert type="info" showIcon message={t('assets.snapshot_no_archive')} />}
      {too_big && <Alert type="info" showIcon message={t('assets.snapshot_too_big', { size: format_bytes(kMaxBrowseBytes) })} />}
      {error && <Alert type="warning" showIcon message={t('assets.snapshot_list_failed')} description={error}
                       action={<Button size="small" onClick={() => void browse()}>{t('common.retry')}</Button>} />}
      {entries && (
        <div data-testid="snapshot-files">
          <Input.Search size="small" allowClear placeholder={t('assets.filter_files')} aria-label={t('assets.filter_files')}
                        style={{ width: 260, margin: '8px 0' }} value={q} onChange={(e) => set_q(e.target.value)} />
          <Table<ZipEntry> size="small" rowKey="name" dataSource={files}
                 pagination={files.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
                 locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('assets.no_files')} /> }}
                 columns={[
                   { title: t('assets.file_path'), dataIndex: 'name', render: (v: string) => <span className="rn-mono">{v}</span> },
                   { title: t('assets.size'), dataIndex: 'size', width: 110, align: 'right', render: (v: number) => format_bytes(v) },
                 ]} />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('assets.file_total', { count: files.length })}</Typography.Text>
        </div>
      )}
    </div>
  );
}
