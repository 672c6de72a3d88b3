// The lineage of one artifact version as an ECharts graph: the run that produced it (left) → the
// version (centre) → the runs that used it (right). Clicking a run node opens that run. The same
// edges are listed as links under the graph, so the lineage is usable with a keyboard and a
// screen reader too. ECharts (with its graph series) loads with the first graph.
import { useEffect, useMemo, useRef } from 'react';
import { Empty, Space, Tag, Typography } from 'antd';
import { ArrowRightOutlined } from '@ant-design/icons';
import { Link, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { EChartsType } from 'echarts/core';
import type { ArtifactLineage, ArtifactLineageRun } from '../api/types';
import { load_echarts } from './EChart';
import { usePrefs } from '../prefs';
import { format_time } from '../lib/format';
import { StatusTag } from './StatusTag';

const kMaxUsers = 40;
const kRowPx = 56;   // vertical distance between two runs that used the version
const kPadX = 180;   // room for the run labels left of the producer and right of the users
const kPadY = 48;
const kStatusColor: Record<string, string> = {
  finished: '#389e0d', running: '#1677ff', failed: '#cf1322', interrupted: '#d48806', deleted: '#8c8c8c',
};

export interface LineageNode {
  id: string;
  name: string;
  kind: 'producer' | 'version' | 'user' | 'more';
  run_id: string | null;
  x: number;
  y: number;
  status: string;
}

/** Node and edge layout: producer at x=0, the version at x=1, users stacked at x=2. Pure. */
export function lineage_layout(label: string, lineage: ArtifactLineage | undefined):
    { nodes: LineageNode[]; edges: { source: string; target: string }[] } {
  const nodes: LineageNode[] = [];
  const edges: { source: string; target: string }[] = [];
  const users = lineage?.used_by ?? [];
  // One node per run even when a run used the version twice.
  const seen = new Set<string>();
  const unique = users.filter((u) => (seen.has(u.run_id) ? false : (seen.add(u.run_id), true)));
  const shown = unique.slice(0, kMaxUsers);
  const rows = Math.max(1, shown.length + (unique.length > shown.length ? 1 : 0));
  const mid = (rows - 1) / 2;
  nodes.push({ id: 'version', name: label, kind: 'version', run_id: null, x: 1, y: mid, status: '' });
  const p = lineage?.produced_by;
  if (p) {
    nodes.push({ id: `p:${p.run_id}`, name: run_label(p), kind: 'producer', run_id: p.run_id, x: 0, y: mid, status: p.status });
    edges.push({ source: `p:${p.run_id}`, target: 'version' });
  }
  shown.forEach((u, i) => {
    nodes.push({ id: `u:${u.run_id}`, name: run_label(u), kind: 'user', run_id: u.run_id, x: 2, y: i, status: u.status });
    edges.push({ source: 'version', target: `u:${u.run_id}` });
  });
  if (unique.length > shown.length) {
    nodes.push({ id: 'more', name: `+${unique.length - shown.length}`, kind: 'more', run_id: null, x: 2, y: shown.length, status: '' });
    edges.push({ source: 'version', target: 'more' });
  }
  return { nodes, edges };
}

function run_label(r: ArtifactLineageRun): string {
  return r.path ? `${r.path}\n${r.run_id}` : r.run_id;
}

export function LineageGraph({ label, lineage }: { label: string; lineage: ArtifactLineage | undefined }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { dark } = usePrefs();
  const div = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const layout = useMemo(() => lineage_layout(label, lineage), [label, lineage]);
  const rows = Math.max(1, ...layout.nodes.map((n) => n.y + 1));
  const height = (rows - 1) * kRowPx + 2 * kPadY;
  const navigate_ref = useRef(navigate);
  navigate_ref.current = navigate;

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void Promise.all([load_echarts(), import('./LineageGraphChart')]).then(([echarts]) => {
      if (disposed || !div.current) return;
      chart.current = echarts.init(div.current, dark ? 'dark' : undefined, { renderer: 'canvas' });
      chart.current.on('click', (params) => {
        const d = params.data as { run_id?: string | null } | undefined;
        if (params.dataType === 'node' && d?.run_id) navigate_ref.current(`/runs/${encodeURIComponent(d.run_id)}`);
      });
      if (typeof ResizeObserver !== 'undefined') {
        observer = new ResizeObserver(() => { chart.current?.resize(); apply_ref.current(); });
        observer.observe(div.current);
      }
      apply_ref.current();
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dark]);

  const apply = () => {
    if (!chart.current || !div.current) return;
    const text = dark ? '#e6e6e6' : '#1f1f3a';
    // Node positions in pixels, and the series box set to exactly their extent: the graph's view
    // then maps them at scale 1 in both directions (a non-uniform scale would squash the symbols).
    const step = Math.max(120, (div.current.clientWidth - 2 * kPadX) / 2);
    const xs = layout.nodes.map((n) => n.x * step);
    const ys = layout.nodes.map((n) => n.y * kRowPx);
    const min_x = Math.min(...xs), min_y = Math.min(...ys);
    chart.current.setOption({
      backgroundColor: 'transparent',
      tooltip: { formatter: (p: { dataType: string; data: LineageNode }) => (p.dataType === 'node' ? p.data.name.replace('\n', '<br/>') : '') },
      series: [{
        type: 'graph', layout: 'none', roam: false,
        left: kPadX + min_x, top: kPadY + min_y, width: Math.max(...xs) - min_x, height: Math.max(...ys) - min_y,
        edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 9,
        lineStyle: { color: dark ? '#6b6b80' : '#a8a8c0', width: 1.6, curveness: 0.12 },
        label: { show: true, color: text, fontSize: 11, lineHeight: 14 },
        data: layout.nodes.map((n, i) => ({
          ...n,
          x: xs[i],
          y: ys[i],
          value: n.run_id,
          symbol: n.kind === 'version' ? 'roundRect' : 'circle',
          symbolSize: n.kind === 'version' ? [86, 32] : 18,
          cursor: n.run_id ? 'pointer' : 'default',
          itemStyle: { color: n.kind === 'version' ? '#5b5bd6' : n.kind === 'more' ? '#bfbfbf' : (kStatusColor[n.status] ?? '#8c8c8c') },
          label: n.kind === 'version' ? { position: 'inside', color: '#fff', fontWeight: 600 }
            : { position: n.kind === 'producer' ? 'left' : 'right' },
        })),
        links: layout.edges,
      }],
    }, { notMerge: true });
  };
  const apply_ref = useRef(apply);
  apply_ref.current = apply;
  useEffect(apply);

  const p = lineage?.produced_by ?? null;
  const users = lineage?.used_by ?? [];
  return (
    <div data-testid="lineage-graph" data-nodes={layout.nodes.length}>
      <div style={{ display: 'flex', justifyContent: 'space-between', fontSize: 12, opacity: .7, padding: '0 8px' }} aria-hidden>
        <span>{t('artifacts.produced_by')}</span>
        <span>{t('artifacts.used_by')}</span>
      </div>
      <div ref={div} style={{ height, width: '100%' }} role="img" aria-label={t('artifacts.lineage_graph_label', { count: users.length })} />
      {!p && users.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('artifacts.no_lineage')} />}
      <Space direction="vertical" size={4} style={{ width: '100%', marginTop: 8 }} data-testid="lineage-links">
        <div>
          <Typography.Text type="secondary">{t('artifacts.produced_by')}: </Typography.Text>
          {p ? <RunRef run={p} /> : <Typography.Text type="secondary">{t('artifacts.no_producer')}</Typography.Text>}
        </div>
        <div>
          <Typography.Text type="secondary">{t('artifacts.used_by')} ({users.length}): </Typography.Text>
          {users.length === 0 ? <Typography.Text type="secondary">{t('artifacts.no_users')}</Typography.Text> : (
            <Space size={[8, 4]} wrap>
              {users.map((u, i) => (
                <span key={`${u.run_id}-${i}`}>
                  <ArrowRightOutlined style={{ opacity: .4, marginRight: 4 }} />
                  <RunRef run={u} />
                  {u.requested && <Tag style={{ marginLeft: 4 }} className="rn-mono">{u.requested}</Tag>}
                  {u.used_at ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{format_time(u.used_at, i18n.language)}</Typography.Text> : null}
                </span>
              ))}
            </Space>
          )}
        </div>
      </Space>
    </div>
  );
}

function RunLink({ run }: { run: ArtifactLineageRun }) {
  return (
    <Link to={`/runs/${encodeURIComponent(run.run_id)}`} className="rn-mono" data-testid="lineage-run-link">
      {run.path ? `${run.path}/` : ''}{run.run_id}
    </Link>
  );
}

function RunRef({ run }: { run: ArtifactLineageRun }) {
  return (
    <>
      <RunLink run={run} />
      {run.status ? <span style={{ marginLeft: 6 }}><StatusTag status={run.status} /></span> : null}
    </>
  );
}
