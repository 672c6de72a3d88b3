// One artifact: its versions with their aliases (set/move through a dialog, remove with a
// confirmation), deleting a version (confirmation; `force` when user aliases point at it), and the
// chosen version's files, lineage graph and metadata. The chosen version lives in the URL (?v=N).
import { useState } from 'react';
import { Button, Card, Descriptions, Empty, Popconfirm, Space, Table, Tabs, Tag, Tooltip, Typography, App as AntApp } from 'antd';
import { DeleteOutlined, DownloadOutlined, TagOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ApiError, artifact_zip_url, delete_artifact_version, get_artifact, get_artifact_lineage,
         remove_artifact_alias } from '../api/client';
import { useLoad } from '../api/hooks';
import type { ArtifactDetail as Detail, ArtifactLineage, ArtifactVersion } from '../api/types';
import { ErrorState, error_text } from './ErrorState';
import { ArtifactAliasModal } from './ArtifactAliasModal';
import { ArtifactFiles } from './ArtifactFiles';
import { LineageGraph } from './LineageGraph';
import { KeyValueTable } from './KeyValueTable';
import { format_bytes, format_time } from '../lib/format';

const kCloseButton = { border: 0, background: 'transparent', color: 'inherit', cursor: 'pointer', padding: '0 0 0 4px',
                       font: 'inherit', lineHeight: 1 } as const;

interface Props {
  name: string;
  version: number | null;
  onSelectVersion: (v: number) => void;
  /** Called after a change that alters the artifact list (a deleted version). */
  onChanged?: () => void;
}

export function ArtifactDetail({ name, version, onSelectVersion, onChanged }: Props) {
  const { t, i18n } = useTranslation();
  const { message } = AntApp.useApp();
  const detail = useLoad<Detail>((s) => get_artifact(name, s), [name]);
  const [alias_open, set_alias_open] = useState(false);
  const [alias_version, set_alias_version] = useState(0);
  const d = detail.data;
  const versions = d?.versions ?? [];
  const chosen = versions.find((v) => v.version === version) ?? versions[0];

  if (detail.error && !d) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <Card size="small" data-testid="artifact-detail">
        {missing ? <Empty description={t('artifacts.not_found', { name })} /> : <ErrorState error={detail.error} onRetry={detail.reload} />}
      </Card>
    );
  }

  const remove_alias = async (alias: string) => {
    try {
      await remove_artifact_alias(name, alias);
      void message.success(t('artifacts.alias_removed', { alias }));
      detail.reload();
      onChanged?.();
    } catch (e) {
      void message.error(error_text(e, t));
    }
  };
  const delete_version = async (v: ArtifactVersion) => {
    try {
      const r = await delete_artifact_version(name, v.version, v.aliases.length > 0);
      void message.success(t('artifacts.version_deleted', { version: r.deleted_version }));
      detail.reload();
      onChanged?.();
    } catch (e) {
      void message.error(error_text(e, t));
    }
  };

  const label = chosen ? `${name}:v${chosen.version}` : name;
  return (
    <Card size="small" data-testid="artifact-detail" loading={!d && detail.loading}
          title={<Space wrap>
            <Typography.Title level={5} style={{ margin: 0 }} className="rn-mono" data-testid="artifact-name">{name}</Typography.Title>
            {d && <Tag color="purple">{d.type}</Tag>}
            {d && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('artifacts.version_count', { count: d.version_count })}</Typography.Text>}
          </Space>}
          extra={<Button size="small" icon={<TagOutlined />} disabled={!versions.length} data-testid="open-alias-modal"
                         onClick={() => { set_alias_version(chosen?.version ?? versions[0]?.version ?? 1); set_alias_open(true); }}>
            {t('artifacts.set_alias')}
          </Button>}>
      {d?.description && <Typography.Paragraph type="secondary" style={{ marginTop: -4 }}>{d.description}</Typography.Paragraph>}
      <Table<ArtifactVersion> size="small" rowKey="version" dataSource={versions} data-testid="version-table"
             pagination={versions.length > 10 ? { pageSize: 10, showSizeChanger: false } : false}
             rowSelection={{ type: 'radio', selectedRowKeys: chosen ? [chosen.version] : [], columnWidth: 32,
                             onChange: (keys) => { if (keys.length) onSelectVersion(Number(keys[0])); },
                             getCheckboxProps: (v) => ({ 'aria-label': `v${v.version}` } as Record<string, string>) }}
             locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('artifacts.no_versions')} /> }}
             columns={[
               { title: t('artifacts.version'), dataIndex: 'version', width: 90, render: (n: number, v) => (
                 <Space size={4}>
                   <Button type="link" size="small" style={{ padding: 0 }} aria-pressed={v.version === chosen?.version}
                           onClick={() => onSelectVersion(n)} data-testid={`select-v${n}`}>v{n}</Button>
                   {v.latest && <Tag color="blue" style={{ marginInlineEnd: 0 }}>latest</Tag>}
                 </Space>) },
               { title: t('artifacts.aliases'), dataIndex: 'aliases', render: (aliases: string[], v) => (
                 <Space size={[4, 4]} wrap data-testid={`aliases-v${v.version}`}>
                   {aliases.length === 0 && <Typography.Text type="secondary">—</Typography.Text>}
                   {aliases.map((a) => (
                     <Tag key={a} color="geekblue" style={{ marginInlineEnd: 0 }}>
                       {a}
                       <Popconfirm title={t('artifacts.remove_alias_confirm', { alias: a, version: v.version })}
                                   okText={t('common.delete')} cancelText={t('common.cancel')} onConfirm={() => remove_alias(a)}>
                         <button type="button" style={kCloseButton} aria-label={t('artifacts.remove_alias', { alias: a })}>×</button>
                       </Popconfirm>
                     </Tag>
                   ))}
                 </Space>) },
               { title: t('artifacts.created'), dataIndex: 'created_at', width: 165, render: (v: number | null) => format_time(v, i18n.language) },
               { title: t('artifacts.files'), dataIndex: 'file_count', width: 70, align: 'right' },
               { title: t('artifacts.size'), dataIndex: 'total_size_bytes', width: 100, align: 'right', render: (v: number) => format_bytes(v) },
               { title: '', key: 'actions', width: 110, render: (_: unknown, v) => (
                 <Space size={0}>
                   <Tooltip title={t('artifacts.set_alias')}>
                     <Button type="text" size="small" icon={<TagOutlined />} aria-label={t('artifacts.set_alias') + ' v' + v.version}
                             onClick={() => { set_alias_version(v.version); set_alias_open(true); }} />
                   </Tooltip>
                   <Tooltip title={t('artifacts.download_zip')}>
                     <Button type="text" size="small" icon={<DownloadOutlined />} href={artifact_zip_url(name, v.version)}
                             aria-label={t('artifacts.download_zip') + ' v' + v.version} />
                   </Tooltip>
                   <Popconfirm title={t('artifacts.delete_version_confirm', { version: v.version })}
                               description={v.aliases.length ? t('artifacts.delete_version_aliases', { aliases: v.aliases.join(', ') })
                                 : t('artifacts.delete_version_note')}
                               okText={t('common.delete')} okButtonProps={{ danger: true, id: `confirm-delete-v${v.version}` }}
                               cancelText={t('common.cancel')} onConfirm={() => delete_version(v)}>
                     <Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={t('artifacts.delete_version') + ' v' + v.version}
                             data-testid={`delete-v${v.version}`} />
                   </Popconfirm>
                 </Space>) },
             ]} />
      {chosen && <VersionPanel key={`${name}:${chosen.version}`} name={name} version={chosen} label={label} />}
      {d && (
        <ArtifactAliasModal open={alias_open} name={name} versions={versions.map((v) => v.version)} aliases={d.aliases ?? {}}
                            initial_version={alias_version} onClose={() => set_alias_open(false)}
                            onDone={() => { detail.reload(); onChanged?.(); }} />
      )}
    </Card>
  );
}

function VersionPanel({ name, version, label }: { name: string; version: ArtifactVersion; label: string }) {
  const { t, i18n } = useTranslation();
  const [tab, set_tab] = useState('files');
  const lineage = useLoad<ArtifactLineage>((s) => get_artifact_lineage(name, version.version, s), [name, version.version]);
  return (
    <div style={{ marginTop: 16 }} data-testid="version-panel">
      <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 8 }}
                    title={<span className="rn-mono" data-testid="version-title">{label}</span>}>
        <Descriptions.Item label={t('artifacts.digest')}>
          <Typography.Text className="rn-mono" copyable={{ text: version.digest }}>{version.digest.slice(0, 16)}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('artifacts.created')}>{format_time(version.created_at, i18n.language)}</Descriptions.Item>
        <Descriptions.Item label={t('artifacts.size')}>{format_bytes(version.total_size_bytes)} · {t('artifacts.file_count', { count: version.file_count })}</Descriptions.Item>
        {version.description && <Descriptions.Item label={t('artifacts.description')} span={3}>{version.description}</Descriptions.Item>}
      </Descriptions>
      <Tabs activeKey={tab} onChange={set_tab} items={[
        { key: 'files', label: t('artifacts.tab_files'), children: <ArtifactFiles name={name} version={version.version} /> },
        { key: 'lineage', label: t('artifacts.tab_lineage'), children: (lineage.error && !lineage.data
          ? <ErrorState compact error={lineage.error} onRetry={lineage.reload} />
          : lineage.data ? <LineageGraph label={`v${version.version}`} lineage={lineage.data} />
            : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('artifacts.loading')} />) },
        { key: 'metadata', label: t('artifacts.tab_metadata'),
          children: <KeyValueTable data={version.metadata} emptyText={t('artifacts.no_metadata')} /> },
      ]} />
    </div>
  );
}
