// Compare: overlay charts of the metrics of N runs (a colour per run, visibility toggles, linked
// zoom), or, grouped by a config key, one mean line with a ±1 std band per group (toggles per group);
// a config/summary diff that can show only differing fields, and a parallel-coordinates chart of
// config values against a chosen summary metric.
import { useEffect, useMemo, useState } from 'react';
import { Card, Checkbox, Col, Empty, Row, Select, Space, Switch, Table, Tabs, Tag, Typography, Skeleton, Alert, Segmented } from 'antd';
import { useSearchParams, Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { get, list_runs, with_query } from '../api/client';
import type { MetricsStepResponse, RunDetail, RunListItem, SeriesResponse } from '../api/types';
import { EChart } from '../components/EChart';
import { error_text } from '../components/ErrorState';
import { series_from_rows, type SeriesData, type XMode } from '../components/MetricCharts';
import { diff_rows, flatten, format_number } from '../lib/format';
import { ema, to_number } from '../lib/series';
import { aggregate_band, group_runs, groupable_keys, type Band, type RunGroup } from '../lib/group';
import { run_config } from './RunDetail';
import { usePrefs } from '../prefs';

export const kPalette = ['#5b5bd6', '#e8590c', '#2f9e44', '#d6336c', '#1098ad', '#f59f00', '#7048e8', '#495057', '#c2255c', '#37b24d'];

interface Loaded {
  id: string;
  detail: RunDetail | null;
  series: Record<string, SeriesData>;
  error: string | null;
}

async function load_run(id: string, mode: XMode, t: (k: string) => string): Promise<Loaded> {
  const enc = encodeURIComponent(id);
  let detail: RunDetail | null = null;
  try {
    detail = await get<RunDetail>(`/api/runs/${enc}`);
  } catch (e) {
    return { id, detail: null, series: {}, error: error_text(e, t) };
  }
  let series: Record<string, SeriesData> = {};
  try {
    const resp = await get<SeriesResponse>(with_query(`/api/runs/${enc}/series`, { x: mode, points: 1000 }));
    for (const s of resp.series ?? []) series[s.key] = { x: s.x, y: s.y.map((v) => to_number(v)), total: s.total, stages: [] };
  } catch {
    try {
      series = series_from_rows(await get<MetricsStepResponse>(`/api/runs/${enc}/metrics_step?downsample=2000`), mode);
    } catch (e) {
      return { id, detail, series: {}, error: error_text(e, t) };
    }
  }
  return { id, detail, series, error: null };
}

/**
 * A ±std band as one ECharts custom series: a filled polygon (upper edge forward, lower edge back)
 * per stretch without gaps, drawn once; the data rows [x, lower, upper] give the axes their extent.
 */
function band_series(band: Band, name: string, color: string): Record<string, unknown> {
  const rows = band.x.map((x, i) => [x, band.lower[i], band.upper[i]]);
  const segments: number[][] = [];
  let cur: number[] = [];
  band.x.forEach((_x, i) => {
    if (band.lower[i] === null || band.upper[i] === null) { if (cur.length) segments.push(cur); cur = []; } else cur.push(i);
  });
  if (cur.length) segments.push(cur);
  return {
    name, type: 'custom', silent: true, tooltip: { show: false }, z: 1, animation: false, clip: true,
    encode: { x: 0, y: [1, 2] }, data: rows,
    renderItem: (params: { dataIndex: number }, api: { coord: (p: number[]) => number[] }) => {
      if (params.dataIndex !== 0) return null;
      return {
        type: 'group',
        children: segments.map((seg) => ({
          type: 'polygon', silent: true,
          shape: { points: [...seg.map((i) => api.coord([band.x[i], band.upper[i] as number])),
                            ...seg.slice().reverse().map((i) => api.coord([band.x[i], band.lower[i] as number]))] },
          style: { fill: color, opacity: 0.18 },
        })),
      };
    },
  };
}

function label_of(l: Loaded): string {
  return l.detail?.alias || l.id;
}

export default function Compare() {
  const { t } = useTranslation();
  const { dark } = usePrefs();
  const [params, set_params] = useSearchParams();
  const ids = useMemo(() => (params.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean), [params]);
  const [mode, set_mode] = useState<XMode>('step');
  const [smoothing, set_smoothing] = useState(0);
  const [loaded, set_loaded] = useState<Loaded[] | null>(null);
  const [hidden, set_hidden] = useState<Set<string>>(new Set());
  const [only_diff, set_only_diff] = useState(true);
  const [options, set_options] = useState<RunListItem[]>([]);
  const [target, set_target] = useState<string | undefined>(undefined);
  const group_key = params.get('group') || undefined;
  const [hidden_groups, set_hidden_groups] = useState<Set<string>>(new Set());

  useEffect(() => {
    let live = true;
    if (ids.length === 0) { set_loaded([]); return undefined; }
    set_loaded(null);
    void Promise.all(ids.map((id) => load_run(id, mode, t))).then((l) => live && set_loaded(l));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ids.join(','), mode]);

  const search = (q: string) => {
    list_runs({ q: q.trim() ? (/^[\w.-]+$/.test(q.trim()) ? q.trim() : JSON.stringify(q.trim())) : undefined, limit: 30, sort: 'created' })
      .then((p) => set_options(p.runs.slice(0, 30)), () => set_options([]));
  };
  useEffect(() => { search(''); }, []);

  const set_ids = (next: string[]) => {
    const p: Record<string, string> = {};
    if (next.length) p.runs = next.join(',');
    if (group_key) p.group = group_key;
    set_params(p, { replace: true });
  };
  const set_group_key = (key: string | undefined) => {
    const p: Record<string, string> = {};
    if (ids.length) p.runs = ids.join(',');
    if (key) p.group = key;
    set_hidden_groups(new Set());
    set_params(p, { replace: true });
  };
  const ok = (loaded ?? []).filter((l) => !l.error);
  const color = (id: string) => kPalette[ids.indexOf(id) % kPalette.length];

  const metric_keys = useMemo(() => {
    const count = new Map<string, number>();
    ok.forEach((l) => Object.keys(l.series).forEach((k) => count.set(k, (count.get(k) ?? 0) + 1)));
    const all = [...count.keys()].sort();
    const common = all.filter((k) => count.get(k) === ok.length);
    return common.length ? common : all;
  }, [ok]);

  const configs = ok.map((l) => run_config(l.detail?.assets));
  const group_keys = useMemo(() => groupable_keys(configs),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ok]);
  const groups: RunGroup[] | null = useMemo(() => (group_key ? group_runs(ok.map((l, i) => ({ id: l.id, config: configs[i] })), group_key) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ok, group_key]);
  const group_color = (i: number) => kPalette[i % kPalette.length];

  /** The chart series of one metric: a line per visible run, or per visible group a band and its mean. */
  const chart_series = (k: string): unknown[] => {
    const line = (s: { x: number[]; y: (number | null)[] }) => s.x.map((x, i) => [x, s.y[i] !== null && Number.isFinite(s.y[i] as number) ? s.y[i] : null]);
    if (!groups) {
      return ok.filter((l) => !hidden.has(l.id) && l.series[k]).map((l) => {
        const s = l.series[k];
        return { name: label_of(l), type: 'line', showSymbol: false, animation: false, sampling: 'lttb', connectNulls: true,
                 itemStyle: { color: color(l.id) }, lineStyle: { width: 1.6 }, data: line({ x: s.x, y: ema(s.y, smoothing) }) };
      });
    }
    const out: unknown[] = [];
    groups.forEach((g, gi) => {
      if (hidden_groups.has(g.label)) return;
      const members = ok.filter((l) => g.members.includes(l.id) && !hidden.has(l.id) && l.series[k]);
      if (!members.length) return;
      const band = aggregate_band(members.map((l) => ({ x: l.series[k].x, y: ema(l.series[k].y, smoothing) })));
      const name = `${group_key} = ${g.label} (n=${members.length})`;
      const c = group_color(gi);
      out.push(band_series(band, name, c));
      out.push({ name, type: 'line', showSymbol: false, animation: false, connectNulls: false, itemStyle: { color: c }, lineStyle: { width: 2 },
                 data: band.x.map((x, i) => [x, band.mean[i]]) });
    });
    return out;
  };
  const summaries = ok.map((l) => (l.detail?.summary ?? {}) as Record<string, unknown>);
  const summary_numeric = useMemo(() => {
    const s = new Set<string>();
    summaries.forEach((o) => Object.entries(flatten(o)).forEach(([k, v]) => typeof v === 'number' && s.add(k)));
    return [...s].sort();
  }, [summaries]);

  const diff_table = (objs: Record<string, unknown>[]) => {
    const rows = diff_rows(objs).filter((r) => !only_diff || r.differs || ok.length < 2);
    return (
      <Table size="small" rowKey="key" dataSource={rows} pagination={rows.length > 100 ? { pageSize: 100 } : false} scroll={{ x: true }}
             rowClassName={(r) => (r.differs ? 'rn-diff' : '')}
             locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('common.empty')} /> }}
             columns={[{ title: t('run.key'), dataIndex: 'key', fixed: 'left', width: 220, render: (k: string) => <span className="rn-mono">{k}</span> },
                       ...ok.map((l, i) => ({ title: <span style={{ color: color(l.id) }}>{label_of(l)}</span>, key: l.id,
                                              render: (_: unknown, r: { values: unknown[] }) => <span className="rn-mono">{format_number(r.values[i])}</span> }))]} />
    );
  };

  const parallel_option = useMemo(() => {
    const metric = target ?? summary_numeric[0];
    if (!metric || ok.length < 2) return null;
    const cfg_rows = diff_rows(configs).filter((r) => r.differs).slice(0, 10);
    const dims = [...cfg_rows.map((r) => r.key), metric];
    const parallelAxis: { dim: number; name: string; type?: string; data?: string[] }[] = dims.map((d, i) => {
      const vals = i < cfg_rows.length ? cfg_rows[i].values : summaries.map((s) => flatten(s)[metric]);
      const numeric = vals.every((v) => typeof v === 'number' || v === undefined || v === null);
      return numeric ? { dim: i, name: d } : { dim: i, name: d, type: 'category', data: [...new Set(vals.map((v) => String(v ?? '—')))] };
    });
    const data = ok.map((l, ri) => ({
      name: label_of(l), lineStyle: { color: color(l.id), width: 2 },
      value: dims.map((_d, i) => {
        const v = i < cfg_rows.length ? cfg_rows[i].values[ri] : flatten(summaries[ri])[metric];
        return parallelAxis[i].type === 'category' ? String(v ?? '—') : (v as number | null) ?? null;
      }),
    }));
    return { parallel: { left: 60, right: 90, top: 40, bottom: 30 }, parallelAxis,
             tooltip: { trigger: 'item' }, series: [{ type: 'parallel', data, lineStyle: { opacity: 0.9 } }] };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ok, target, summary_numeric]);

  return (
    <div className="rn-page" data-testid="compare-page">
      <Card size="small" style={{ marginBottom: 16 }} title={t('compare.title')}>
        <Space direction="vertical" style={{ width: '100%' }}>
          <Select mode="multiple" style={{ width: '100%' }} placeholder={t('compare.pick_placeholder')} value={ids}
                  onChange={(v: string[]) => set_ids(v)} onSearch={search} filterOption={false} showSearch
                  aria-label={t('compare.pick_runs')} data-testid="compare-picker"
                  tagRender={(p) => <Tag color={color(String(p.value))} closable={p.closable} onClose={p.onClose} style={{ marginInlineEnd: 4 }}>{p.label}</Tag>}
                  options={[...ids.filter((id) => !options.some((o) => o.id === id)).map((id) => ({ value: id, label: id })),
                            ...options.map((r) => ({ value: r.id, label: [r.alias ?? r.path, r.id].filter(Boolean).join(' · ') }))]} />
          {ids.length > 0 && (
            <Space wrap>
              {ids.map((id) => {
                const l = loaded?.find((x) => x.id === id);
                return (
                  <Checkbox key={id} checked={!hidden.has(id)} onChange={(e) => set_hidden((h) => { const n = new Set(h); if (e.target.checked) n.delete(id); else n.add(id); return n; })}>
                    <span style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 5, background: color(id), marginRight: 6 }} />
                    <Link to={`/runs/${encodeURIComponent(id)}`}>{l ? label_of(l) : id}</Link>
                  </Checkbox>
                );
              })}
            </Space>
          )}
          {(loaded ?? []).filter((l) => l.error).map((l) => (
            <Alert key={l.id} type="warning" showIcon message={t('compare.load_error', { id: l.id, message: l.error })} />
          ))}
        </Space>
      </Card>
      {ids.length < 2 && (!loaded || loaded.length < 2) ? (
        <Card><Empty description={<><div>{t('compare.empty')}</div><Typography.Text type="secondary">{t('compare.empty_hint')}</Typography.Text></>} /></Card>
      ) : loaded === null ? <Skeleton active paragraph={{ rows: 10 }} /> : (
        <Tabs items={[
          { key: 'metrics', label: t('compare.metrics'), children: (
            <>
              <Space wrap size="large" style={{ marginBottom: 12 }}>
                <Segmented size="small" value={mode} onChange={(v) => set_mode(v as XMode)}
                           options={[{ value: 'step', label: t('run.x_step') }, { value: 'relative_time', label: t('run.x_relative') }]} />
                <Space><Typography.Text type="secondary">{t('run.smoothing')}</Typography.Text>
                  <Segmented size="small" value={smoothing} onChange={(v) => set_smoothing(Number(v))}
                             options={[0, 0.6, 0.9, 0.99].map((v) => ({ value: v, label: v.toFixed(2) }))} /></Space>
                <Space><Typography.Text type="secondary">{t('compare.group_by')}</Typography.Text>
                  <Select size="small" allowClear showSearch style={{ width: 220 }} placeholder={t('compare.group_none')}
                          value={group_key} onChange={(v?: string) => set_group_key(v)} data-testid="group-by"
                          aria-label={t('compare.group_by')}
                          options={[...new Set([...(group_key ? [group_key] : []), ...group_keys])].map((k) => ({ value: k, label: k }))} /></Space>
              </Space>
              {groups && (
                <Space wrap style={{ display: 'flex', marginBottom: 12 }} data-testid="compare-groups">
                  <Typography.Text type="secondary">{t('compare.groups_hint')}</Typography.Text>
                  {groups.map((g, gi) => (
                    <Checkbox key={g.label} checked={!hidden_groups.has(g.label)} data-testid={`group-toggle-${gi}`}
                              onChange={(e) => set_hidden_groups((h) => { const n = new Set(h); if (e.target.checked) n.delete(g.label); else n.add(g.label); return n; })}>
                      <span style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 5, background: group_color(gi), marginRight: 6 }} />
                      <span className="rn-mono">{group_key} = {g.label}</span>
                      <Typography.Text type="secondary"> · {t('compare.group_runs', { count: g.members.length })}</Typography.Text>
                    </Checkbox>
                  ))}
                </Space>
              )}
              {metric_keys.length === 0 ? <Empty description={t('compare.no_common_metrics')} /> : (
                <Row gutter={[12, 12]}>
                  {metric_keys.map((k) => { const series = chart_series(k); return (
                    <Col key={k} xs={24} lg={12} xxl={8}>
                      <Card size="small" title={k} className="rn-chart-card" data-testid={`compare-chart-${k}`}
                            data-bands={series.filter((x) => (x as { type?: string }).type === 'custom').length}>
                        <EChart height={260} group="compare" option={{
                          animation: false,
                          grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
                          tooltip: { trigger: 'axis', confine: true },
                          xAxis: { type: 'value', scale: true, splitLine: { lineStyle: { opacity: dark ? 0.15 : 0.5 } } },
                          yAxis: { type: 'value', scale: true, splitLine: { lineStyle: { opacity: dark ? 0.15 : 0.5 } } },
                          dataZoom: [{ type: 'inside', filterMode: 'none' }],
                          series,
                        }} />
                      </Card>
                    </Col>
                  ); })}
                </Row>
              )}
            </>) },
          { key: 'config', label: t('compare.config_diff'), children: (
            <Card size="small" extra={<Space><Switch size="small" checked={only_diff} onChange={set_only_diff} />{t('compare.only_differences')}</Space>}>
              {diff_table(configs)}</Card>) },
          { key: 'summary', label: t('compare.summary_diff'), children: (
            <Card size="small" extra={<Space><Switch size="small" checked={only_diff} onChange={set_only_diff} />{t('compare.only_differences')}</Space>}>
              {diff_table(summaries)}</Card>) },
          { key: 'parallel', label: t('compare.parallel'), children: (
            <Card size="small" extra={<Space>{t('compare.target_metric')}
              <Select size="small" style={{ width: 200 }} value={target ?? summary_numeric[0]} onChange={set_target}
                      options={summary_numeric.map((k) => ({ value: k, label: k }))} /></Space>}>
              {parallel_option ? <EChart height={380} option={parallel_option} /> : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('common.empty')} />}
            </Card>) },
        ]} />
      )}
    </div>
  );
}
