// The VSCode-like path tree beside the run table: every run path and its ancestors with run counts
// and a running indicator, a filter box, expand/collapse all. Data: GET /api/paths?include_stats=true.
import { useMemo, useState } from 'react';
import { Badge, Button, Empty, Input, Skeleton, Tooltip, Tree } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { FolderOutlined, FolderOpenOutlined, ShrinkOutlined, ArrowsAltOutlined, AppstoreOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { PathStats } from '../api/types';

export interface TreeEntry {
  path: string;
  name: string;
  stats: PathStats;
  children: TreeEntry[];
}

const kZero: PathStats = { total: 0, running: 0, finished: 0, failed: 0 };

/** Builds the nested tree from the flat `stats` map (every path and ancestor is a key). */
export function build_tree(stats: Record<string, PathStats>, paths: string[] = []): TreeEntry[] {
  const nodes = new Map<string, TreeEntry>();
  const all = new Set<string>([...Object.keys(stats), ...paths]);
  const ensure = (p: string): TreeEntry => {
    let n = nodes.get(p);
    if (!n) {
      const segs = p.split('/');
      n = { path: p, name: segs[segs.length - 1], stats: stats[p] ?? kZero, children: [] };
      nodes.set(p, n);
      if (segs.length > 1) ensure(segs.slice(0, -1).join('/')).children.push(n);
    }
    return n;
  };
  for (const p of [...all].sort()) if (p) ensure(p);
  const roots = [...nodes.values()].filter((n) => !n.path.includes('/'));
  const sort = (list: TreeEntry[]) => {
    list.sort((a, b) => a.name.localeCompare(b.name));
    list.forEach((c) => sort(c.children));
  };
  sort(roots);
  return roots;
}

function matches(entry: TreeEntry, needle: string): boolean {
  return entry.path.toLowerCase().includes(needle) || entry.children.some((c) => matches(c, needle));
}

interface Props {
  stats: Record<string, PathStats> | undefined;
  paths: string[] | undefined;
  loading: boolean;
  selected: string | null;
  onSelect: (path: string | null) => void;
  total: number | null;
}

export function PathTree({ stats, paths, loading, selected, onSelect, total }: Props) {
  const { t } = useTranslation();
  const [filter, set_filter] = useState('');
  const [expanded, set_expanded] = useState<string[] | null>(null);
  const roots = useMemo(() => build_tree(stats ?? {}, paths ?? []), [stats, paths]);
  const all_keys = useMemo(() => {
    const out: string[] = [];
    const walk = (l: TreeEntry[]) => l.forEach((n) => { if (n.children.length) { out.push(n.path); walk(n.children); } });
    walk(roots);
    return out;
  }, [roots]);

  const needle = filter.trim().toLowerCase();
  const to_data = (list: TreeEntry[]): DataNode[] => list.filter((n) => !needle || matches(n, needle)).map((n) => ({
    key: n.path,
    title: (
      <span className="rn-tree-node" title={n.path}>
        {n.children.length ? <FolderOpenOutlined style={{ opacity: .65 }} /> : <FolderOutlined style={{ opacity: .65 }} />}
        <span style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{n.name}</span>
        {n.stats.running > 0 && <Badge status="processing" aria-label={t('status.running')} />}
        <span className="rn-count">{n.stats.total}</span>
      </span>
    ),
    children: to_data(n.children),
    isLeaf: n.children.length === 0,
  }));
  const data = to_data(roots);
  const expanded_keys = needle ? all_keys : (expanded ?? all_keys.filter((k) => !k.includes('/')));

  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 8, height: '100%' }} data-testid="path-tree">
      <div style={{ display: 'flex', gap: 4 }}>
        <Input.Search size="small" allowClear placeholder={t('experiments.filter_paths')} value={filter}
                      onChange={(e) => set_filter(e.target.value)} aria-label={t('experiments.filter_paths')} />
        <Tooltip title={t('experiments.expand_all')}>
          <Button size="small" icon={<ArrowsAltOutlined />} onClick={() => set_expanded(all_keys)} aria-label={t('experiments.expand_all')} />
        </Tooltip>
        <Tooltip title={t('experiments.collapse_all')}>
          <Button size="small" icon={<ShrinkOutlined />} onClick={() => set_expanded([])} aria-label={t('experiments.collapse_all')} />
        </Tooltip>
      </div>
      <Button type={selected === null ? 'primary' : 'text'} ghost={selected === null} block icon={<AppstoreOutlined />}
              style={{ justifyContent: 'flex-start', display: 'flex' }} onClick={() => onSelect(null)} data-testid="tree-all">
        <span style={{ flex: 1, textAlign: 'left' }}>{t('experiments.all_runs')}</span>
        {total !== null && <span style={{ opacity: .7 }}>{total}</span>}
      </Button>
      <div style={{ overflow: 'auto', flex: 1, minHeight: 0 }}>
        {loading && !stats ? <Skeleton active paragraph={{ rows: 6 }} /> :
         data.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('common.empty')} /> :
          <Tree
            blockNode
            treeData={data}
            selectedKeys={selected ? [selected] : []}
            expandedKeys={expanded_keys}
            onExpand={(keys) => set_expanded(keys as string[])}
            onSelect={(keys) => onSelect(keys.length ? String(keys[0]) : null)}
          />}
      </div>
    </div>
  );
}
