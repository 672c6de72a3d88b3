// Recycle bin: soft-deleted runs with restore, permanent delete (with a dry-run preview of the
// assets removed and kept), and "empty bin" of any size (one POST /api/recycle-bin/empty).
import { useState } from 'react';
import { App, Button, Card, Empty, List, Space, Spin, Table, Typography } from 'antd';
import { DeleteOutlined, RollbackOutlined, ClearOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { del, get, post } from '../api/client';
import { useLoad } from '../api/hooks';
import type { DeletedRun } from '../api/types';
import { ErrorState, error_text } from '../components/ErrorState';
import { StatusTag } from '../components/StatusTag';
import { format_time } from '../lib/format';

interface PermanentResult {
  orphaned_assets?: { asset_type: string; name: string | null; fingerprint: string | null }[];
  kept_assets?: { asset_type: string; name: string | null; fingerprint: string | null }[];
}

function AssetPreview({ runId }: { runId: string }) {
  const { t } = useTranslation();
  const preview = useLoad<PermanentResult>(() => del<PermanentResult>(`/api/runs/${encodeURIComponent(runId)}/permanent?dry_run=true`), [runId]);
  if (preview.loading) return <Space><Spin size="small" />{t('recycle.preview_loading')}</Space>;
  if (preview.error) return <Typography.Text type="secondary">{error_text(preview.error, t)}</Typography.Text>;
  const orphaned = preview.data?.orphaned_assets ?? [];
  const kept = preview.data?.kept_assets ?? [];
  return (
    <div>
      <Typography.Text strong>{t('recycle.orphaned_assets')}</Typography.Text>
      {orphaned.length === 0 ? <div><Typography.Text type="secondary">{t('recycle.no_orphaned')}</Typography.Text></div> :
        <List size="small" dataSource={orphaned} renderItem={(a) => <List.Item>{a.asset_type}: {a.name ?? a.fingerprint?.slice(0, 16)}</List.Item>} />}
      {kept.length > 0 && <>
        <Typography.Text strong>{t('recycle.shared_assets')}</Typography.Text>
        <List size="small" dataSource={kept} renderItem={(a) => <List.Item>{a.asset_type}: {a.name ?? a.fingerprint?.slice(0, 16)}</List.Item>} />
      </>}
    </div>
  );
}

export default function RecycleBin() {
  const { t, i18n } = useTranslation();
  const { message, modal } = App.useApp();
  const [selected, set_selected] = useState<string[]>([]);
  const bin = useLoad<{ deleted_runs: DeletedRun[] }>((s) => get('/api/recycle-bin', s), []);
  const runs = bin.data?.deleted_runs ?? [];

  const restore = async (ids: string[]) => {
    try {
      let n = 0;
      for (let i = 0; i < ids.length; i += 100) {
        const r = await post<{ restored_count: number }>('/api/recycle-bin/restore', { run_ids: ids.slice(i, i + 100) });
        n += r.restored_count ?? 0;
      }
      message.success(t('recycle.restored', { message: `${n} / ${ids.length}` }));
      set_selected([]);
      bin.reload();
    } catch (e) {
      message.error(error_text(e, t));
    }
  };

  const delete_forever = (id: string) => {
    modal.confirm({
      title: t('recycle.delete_forever_title', { id }),
      content: <AssetPreview runId={id} />,
      okText: t('recycle.delete_forever'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      width: 560,
      onOk: async () => {
        try {
          await del(`/api/runs/${encodeURIComponent(id)}/permanent`);
          message.success(t('recycle.deleted', { count: 1 }));
          bin.reload();
        } catch (e) {
          message.error(error_text(e, t));
        }
      },
    });
  };

  const empty_bin = () => {
    modal.confirm({
      title: t('recycle.empty_confirm_title'),
      content: t('recycle.empty_confirm_body'),
      okText: t('recycle.empty_bin'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const r = await post<{ permanently_deleted: number }>('/api/recycle-bin/empty', { confirm: true });
          message.success(t('recycle.deleted', { count: r.permanently_deleted ?? 0 }));
          bin.reload();
        } catch (e) {
          message.error(error_text(e, t));
        }
      },
    });
  };

  return (
    <div className="rn-page" data-testid="recycle-page">
      <Card title={<Space><DeleteOutlined />{t('recycle.title')}</Space>}
            extra={<Space>
              <Button icon={<RollbackOutlined />} disabled={!selected.length} onClick={() => void restore(selected)} data-testid="restore-selected">
                {t('recycle.restore_selected')}{selected.length ? ` (${selected.length})` : ''}</Button>
              <Button danger icon={<ClearOutlined />} disabled={!runs.length} onClick={empty_bin}>{t('recycle.empty_bin')}</Button>
            </Space>}>
        {bin.error && !bin.data ? <ErrorState error={bin.error} onRetry={bin.reload} /> : (
          <Table<DeletedRun> rowKey="id" size="small" loading={bin.loading && !bin.data} dataSource={runs}
                 rowSelection={{ selectedRowKeys: selected, onChange: (k) => set_selected(k as string[]) }}
                 pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
                 locale={{ emptyText: <Empty description={t('recycle.empty')} /> }}
                 columns={[
                   { title: t('experiments.col_id'), dataIndex: 'id', render: (v: string) => <span className="rn-mono">{v}</span> },
                   { title: t('experiments.col_path'), dataIndex: 'path', render: (v: string | null) => v ?? t('experiments.root_path') },
                   { title: t('experiments.col_alias'), dataIndex: 'alias', render: (v: string | null) => v ?? '' },
                   { title: t('recycle.col_original_status'), dataIndex: 'original_status', render: (v: string) => <StatusTag status={v} /> },
                   { title: t('experiments.col_created'), dataIndex: 'created_time', render: (v: number | null) => format_time(v, i18n.language) },
                   { title: t('recycle.col_deleted_at'), dataIndex: 'deleted_at', render: (v: number | null) => format_time(v, i18n.language) },
                   { title: t('recycle.col_reason'), dataIndex: 'delete_reason' },
                   { title: '', key: 'actions', width: 220, render: (_: unknown, r) => (
                     <Space>
                       <Button size="small" icon={<RollbackOutlined />} onClick={() => void restore([r.id])}>{t('common.restore')}</Button>
                       <Button size="small" danger onClick={() => delete_forever(r.id)}>{t('recycle.delete_forever')}</Button>
                     </Space>) },
                 ]} />
        )}
      </Card>
    </div>
  );
}
