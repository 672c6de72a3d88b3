// The files of one artifact version (GET …/versions/v<N>/files), each with a download link to the
// hash-checked file route, plus the whole version as a zip.
import { useMemo, useState } from 'react';
import { Button, Empty, Input, Space, Table, Typography } from 'antd';
import { DownloadOutlined, FileZipOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { artifact_file_url, artifact_zip_url, list_artifact_files } from '../api/client';
import { useLoad } from '../api/hooks';
import type { ArtifactFile } from '../api/types';
import { ErrorState } from './ErrorState';
import { format_bytes } from '../lib/format';

export function ArtifactFiles({ name, version }: { name: string; version: number }) {
  const { t } = useTranslation();
  const [q, set_q] = useState('');
  const files = useLoad<ArtifactFile[]>((s) => list_artifact_files(name, version, s), [name, version]);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (files.data ?? []).filter((f) => !needle || f.path.toLowerCase().includes(needle));
  }, [files.data, q]);

  if (files.error && !files.data) return <ErrorState compact error={files.error} onRetry={files.reload} />;
  return (
    <div data-testid="artifact-files">
      <Space style={{ marginBottom: 8, width: '100%', justifyContent: 'space-between' }} wrap>
        <Input.Search size="small" allowClear placeholder={t('artifacts.filter_files')} aria-label={t('artifacts.filter_files')}
                      style={{ width: 260 }} value={q} onChange={(e) => set_q(e.target.value)} />
        <Button size="small" icon={<FileZipOutlined />} href={artifact_zip_url(name, version)} data-testid="artifact-zip">
          {t('artifacts.download_zip')}
        </Button>
      </Space>
      <Table<ArtifactFile> size="small" rowKey="path" dataSource={shown} loading={files.loading && !files.data}
             pagination={shown.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
             locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={q ? t('artifacts.no_matching_files') : t('artifacts.no_files')} /> }}
             columns={[
               { title: t('artifacts.file_path'), dataIndex: 'path', render: (v: string) => <span className="rn-mono">{v}</span> },
               { title: t('artifacts.size'), dataIndex: 'size_bytes', width: 110, align: 'right', render: (v: number) => format_bytes(v) },
               { title: 'SHA-256', dataIndex: 'sha256', width: 150,
                 render: (v: string) => <Typography.Text className="rn-mono" copyable={{ text: v }}>{v.slice(0, 12)}</Typography.Text> },
               { title: '', key: 'dl', width: 56, render: (_: unknown, f) => (
                 <Button type="text" size="small" icon={<DownloadOutlined />} href={artifact_file_url(name, version, f.path)}
                         aria-label={t('common.download') + ' ' + f.path} />) },
             ]} />
    </div>
  );
}
