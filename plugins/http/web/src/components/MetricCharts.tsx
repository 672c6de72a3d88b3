// Live metric charts of one run: one chart per metric, loaded from GET /api/runs/{id}/series
// (server-side downsampling, API.md §4.3) and kept live by WS /api/runs/{id}/metrics/ws (§3.2).
// Controls: x = step/time/relative time, log/linear y, EMA smoothing, metric filter; each chart has
// the best-point marker, stage separators, linked zoom and tooltip, CSV and PNG export.
// A server without the series endpoint falls back to the COMPAT metrics_step view, polled.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { Badge, Button, Card, Col, Empty, Input, Row, Segmented, Slider, Space, Tooltip, Typography, Skeleton } from 'antd';
import { DownloadOutlined, FileImageOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { get, with_query, ws_url } from '../api/client';
import { open_stream } from '../api/live';
import type { MetricRow, MetricsStepResponse, SeriesResponse } from '../api/types';
import { append_capped, best_index, ema, has_best, lower_is_better, to_csv, to_number } from '../lib/series';
import { save_text } from '../lib/export';
import { EChart, type EChartHandle } from './EChart';
import { ErrorState } from './ErrorState';
import { usePrefs } from '../prefs';

export type XMode = 'step' | 'time' | 'relative_time';

export interface SeriesData {
  x: number[];
  y: (number | null)[];
  total: number;
  stages: [number, string][];
}

const kLiveCap = 20000;

/** Builds per-key series from the COMPAT metrics_step rows (fallback path). */
export function series_from_rows(resp: MetricsStepResponse, mode: XMode): Record<string, SeriesData> {
  const out: Record<string, SeriesData> = {};
  const keys = resp.columns.filter((c) => !['global_step', 'time', 'stage', 'step', 'epoch'].includes(c));
  const t0 = resp.rows.length ? to_number(resp.rows[0].time) : null;
  for (const k of keys) out[k] = { x: [], y: [], total: 0, stages: [] };
  let last_stage: unknown = undefined;
  const stages: [number, string][] = [];
  for (const row of resp.rows) {
    const step = to_number(row.global_step);
    const time = to_number(row.time);
    const x = mode === 'step' ? step : mode === 'time' ? time : time !== null && t0 !== null ? time - t0 : null;
    if (x === null) continue;
    if (row.stage !== undefined && row.stage !== null && row.stage !== last_stage) {
      stages.push([x, String(row.stage)]);
      last_stage = row.stage;
    }
    for (const k of keys) {
      const v = row[k];
      if (v === null || v === undefined || typeof v === 'boolean') continue;
      const n = to_number(v);
      if (n === null) continue;
      out[k].x.push(x);
      out[k].y.push(n);
      out[k].total++;
    }
  }
  for (const k of keys) {
    if (out[k].x.length === 0) delete out[k];
    else out[k].stages = stages.length > 1 ? stages : [];
  }
  return out;
}

/** Applies one live `rows` frame to the series map (mutates, returns the keys touched). */
export function apply_rows(map: Record<string, SeriesData>, rows: MetricRow[], mode: XMode, t0: number | null): Set<string> {
  const touched = new Set<string>();
  const add: Record<string, { x: number[]; y: (number | null)[] }> = {};
  for (const r of rows) {
    const step = r.global_step;
    const time = r.time;
    const x = mode === 'step' ? step : mode === 'time' ? time : time !== null && t0 !== null ? time - t0 : null;
    if (x === null || x === undefined) continue;
    for (const [k, v] of Object.entries(r.values ?? {})) {
      const n = to_number(v);
      if (n === null) continue;
      (add[k] ??= { x: [], y: [] });
      add[k].x.push(x);
      add[k].y.push(n);
    }
  }
  for (const [k, a] of Object.entries(add)) {
    const s = map[k] ?? { x: [], y: [], total: 0, stages: [] };
    const merged = append_capped(s.x, s.y, a.x, a.y, kLiveCap);
    map[k] = { ...s, x: merged.x, y: merged.y, total: s.total + a.x.length };
    touched.add(k);
  }
  return touched;
}

interface ChartProps {
  metric: string;
  data: SeriesData;
  mode: XMode;
  log: boolean;
  smoothing: number;
  dark: boolean;
  group: string;
  runLabel: string;
}

/**
 * Stage separators are drawn for a few distinct phases (warmup → train → finetune), not for the
 * train/eval alternation most runs log every epoch, which would mark every epoch "train".
 */
function is_phase_list(stages: [number, string][]): boolean {
  return stages.length > 1 && stages.length <= 8 && new Set(stages.map(([, name]) => name)).size === stages.length;
}

const MetricChart = memo(function MetricChart({ metric, data, mode, log, smoothing, dark, group, runLabel }: ChartProps) {
  const { t } = useTranslation();
  const ref = useRef<EChartHandle>(null);
  const option = useMemo(() => {
    const ys = log ? data.y.map((v) => (v !== null && v > 0 ? v : null)) : data.y;
    const smooth = ema(ys, smoothing);
    const pts = (vals: (number | null)[]) => data.x.map((x, i) => [mode === 'time' ? x * 1000 : x,
      vals[i] === null || !Number.isFinite(vals[i] as number) ? null : vals[i]]);
    const bi = has_best(metric) ? best_index(ys, lower_is_better(metric) ? 'min' : 'max') : -1;
    const color = '#5b5bd6';
    const series: Record<string, unknown>[] = [];
    if (smoothing > 0) {
      series.push({ name: `${metric} (raw)`, type: 'line', data: pts(ys), showSymbol: false, lineStyle: { width: 1, opacity: 0.25 },
                    itemStyle: { color }, silent: true, sampling: 'lttb', animation: false, connectNulls: true });
    }
    series.push({
      name: metric, type: 'line', data: pts(smooth), showSymbol: data.x.length < 40, symbolSize: 4, lineStyle: { width: 1.8 },
      itemStyle: { color }, sampling: 'lttb', animation: false, connectNulls: true,
      markPoint: bi >= 0 ? { symbol: 'pin', symbolSize: 34, label: { fontSize: 9, formatter: t('run.best') },
                             data: [{ coord: [mode === 'time' ? data.x[bi] * 1000 : data.x[bi], ys[bi]], value: ys[bi] }],
                             itemStyle: { color: '#fa8c16' } } : undefined,
      markLine: is_phase_list(data.stages) ? { symbol: 'none', silent: true, label: { formatter: '{b}', position: 'insideEndTop', fontSize: 10 },
                                           lineStyle: { type: 'dashed', color: '#999' },
                                           data: data.stages.slice(1).map(([x, name]) => ({ name, xAxis: mode === 'time' ? x * 1000 : x })) }
                                       : undefined,
    });
    return {
      animation: false,
      grid: { left: 56, right: 22, top: 28, bottom: 58 },
      tooltip: { trigger: 'axis', confine: true, valueFormatter: (v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v)) },
      xAxis: { type: mode === 'time' ? 'time' : 'value', scale: true, name: mode === 'step' ? t('run.x_step') : undefined,
               nameLocation: 'middle', nameGap: 24, axisLabel: { hideOverlap: true },
               splitLine: { show: true, lineStyle: { opacity: dark ? 0.15 : 0.5 } } },
      yAxis: { type: log ? 'log' : 'value', scale: true, splitLine: { lineStyle: { opacity: dark ? 0.15 : 0.5 } },
               axisLabel: { formatter: (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : String(Number(v.toPrecision(4)))) } },
      dataZoom: [{ type: 'inside', filterMode: 'none' }, { type: 'slider', height: 12, bottom: 2, filterMode: 'none', showDetail: false }],
      series,
    };
  }, [data, mode, log, smoothing, metric, dark, t]);

  const export_csv = () => save_text(`${runLabel}_${metric}.csv`, to_csv([mode, metric], data.x.map((x, i) => [x, data.y[i]])), 'text/csv');
  const export_png = () => {
    const url = ref.current?.instance()?.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: dark ? '#141414' : '#fff' });
    if (!url) return;
    const a = document.createElement('a');
    a.href = url;
    a.download = `${runLabel}_${metric}.png`;
    a.click();
  };
  const last = data.y.length ? data.y[data.y.length - 1] : null;

  return (
    <Card size="small" className="rn-chart-card" data-testid={`chart-${metric}`}
          title={<Tooltip title={metric}><span>{metric}</span></Tooltip>}
          extra={<Space size={2}>
            <Typography.Text type="secondary" style={{ fontSize: 12, marginRight: 6 }} data-testid={`chart-last-${metric}`}>
              {last !== null ? Number(last.toPrecision(5)) : ''}</Typography.Text>
            <Tooltip title={t('run.export_csv')}><Button type="text" size="small" icon={<DownloadOutlined />} onClick={export_csv} aria-label={t('run.export_csv')} /></Tooltip>
            <Tooltip title={t('run.export_png')}><Button type="text" size="small" icon={<FileImageOutlined />} onClick={export_png} aria-label={t('run.export_png')} /></Tooltip>
          </Space>}>
      <EChart ref={ref} option={option} height={240} group={group} notMerge />
      <Typography.Text type="secondary" style={{ fontSize: 11 }} data-testid={`chart-points-${metric}`} data-points={data.total}>
        {t('run.points_shown', { returned: data.x.length, total: data.total })}
      </Typography.Text>
    </Card>
  );
});

export function MetricCharts({ runId, running, onStatus }: { runId: string; running: boolean;
                                                            onStatus?: (s: Record<string, unknown>) => void }) {
  const { t } = useTranslation();
  const { prefs, dark } = usePrefs();
  const [mode, set_mode] = useState<XMode>('step');
  const [log, set_log] = useState(false);
  const [smoothing, set_smoothing] = useState(0);
  const [filter, set_filter] = useState('');
  const [series, set_series] = useState<Record<string, SeriesData> | null>(null);
  const [error, set_error] = useState<unknown>(null);
  const [live_state, set_live_state] = useState<'off' | 'connecting' | 'open' | 'closed'>('off');
  const [reload, set_reload] = useState(0);
  const map = useRef<Record<string, SeriesData>>({});
  const on_status = useRef(onStatus);
  on_status.current = onStatus;

  useEffect(() => {
    let cancelled = false;
    let handle: { close(): void } | null = null;
    let poll: number | undefined;
    let flush_timer: number | undefined;
    set_error(null);
    const flush = () => { flush_timer = undefined; if (!cancelled) set_series({ ...map.current }); };
    const schedule_flush = () => { if (flush_timer === undefined) flush_timer = window.setTimeout(flush, 250); };

    const load_fallback = async () => {
      const resp = await get<MetricsStepResponse>(`/api/runs/${encodeURIComponent(runId)}/metrics_step?downsample=5000`);
      if (cancelled) return;
      map.current = series_from_rows(resp, mode);
      set_series({ ...map.current });
      if (running && prefs.live) poll = window.setTimeout(() => void load_fallback().catch(() => {}), 5000);
    };

    const load = async () => {
      let resp: SeriesResponse;
      try {
        resp = await get<SeriesResponse>(with_query(`/api/runs/${encodeURIComponent(runId)}/series`,
                                                    { x: mode, points: 2000, method: 'lttb' }));
      } catch (e) {
        await load_fallback();
        void e;
        return;
      }
      if (cancelled) return;
      const next: Record<string, SeriesData> = {};
      for (const s of resp.series ?? []) {
        const ys = s.y.map((v) => to_number(v));
        next[s.key] = { x: s.x, y: ys, total: s.total, stages: s.stages ?? [] };
      }
      map.current = next;
      set_series({ ...next });
      if (!running || !prefs.live) return;
      let cursor = resp.cursor ?? null;
      let t0: number | null = null;
      if (mode === 'relative_time') {
        const any = resp.series.find((s) => s.x.length);
        t0 = resp.last_time !== null && any ? resp.last_time - any.x[any.x.length - 1] : null;
      }
      handle = open_stream({
        url: () => ws_url(with_query(`/api/runs/${encodeURIComponent(runId)}/metrics/ws`, { since: cursor })),
        onState: (s) => set_live_state(s),
        onMessage: (raw) => {
          let f: { type: string; cursor?: string; rows?: MetricRow[]; added?: string[]; [k: string]: unknown };
          try { f = JSON.parse(raw); } catch { return; }
          if (f.cursor) cursor = f.cursor;
          if (f.type === 'rows' && f.rows) {
            if (apply_rows(map.current, f.rows, mode, t0).size) schedule_flush();
          } else if (f.type === 'status') {
            on_status.current?.(f);
          } else if (f.type === 'reset') {
            cursor = null;
            set_reload((r) => r + 1);
          }
        },
      });
    };
    load().catch((e) => { if (!cancelled) set_error(e); });
    return () => {
      cancelled = true;
      handle?.close();
      window.clearTimeout(poll);
      window.clearTimeout(flush_timer);
      set_live_state('off');
    };
  }, [runId, mode, running, prefs.live, reload]);

  const keys = useMemo(() => Object.keys(series ?? {}).sort().filter((k) => k.toLowerCase().includes(filter.trim().toLowerCase())),
                       [series, filter]);
  const group = `run-${runId}`;

  return (
    <div data-testid="metric-charts">
      <Card size="small" style={{ marginBottom: 12 }}>
        <Space wrap size="large">
          <Space><Typography.Text type="secondary">{t('run.x_axis')}</Typography.Text>
            <Segmented size="small" value={mode} onChange={(v) => set_mode(v as XMode)}
                       options={[{ value: 'step', label: t('run.x_step') }, { value: 'time', label: t('run.x_time') },
                                 { value: 'relative_time', label: t('run.x_relative') }]} /></Space>
          <Space><Typography.Text type="secondary">{t('run.y_scale')}</Typography.Text>
            <Segmented size="small" value={log ? 'log' : 'linear'} onChange={(v) => set_log(v === 'log')}
                       options={[{ value: 'linear', label: t('run.linear') }, { value: 'log', label: t('run.log') }]} /></Space>
          <Space><Typography.Text type="secondary">{t('run.smoothing')}</Typography.Text>
            <Slider min={0} max={0.99} step={0.01} value={smoothing} onChange={set_smoothing} style={{ width: 140 }}
                    aria-label={t('run.smoothing')} />
            <Typography.Text className="rn-mono" style={{ width: 32 }}>{smoothing.toFixed(2)}</Typography.Text></Space>
          <Input.Search size="small" allowClear placeholder={t('run.filter_metrics')} style={{ width: 200 }} value={filter}
                        onChange={(e) => set_filter(e.target.value)} aria-label={t('run.filter_metrics')} />
          {live_state !== 'off' && (
            <Tooltip title={t('run.live_tooltip')}>
              <Badge status={live_state === 'open' ? 'processing' : 'warning'}
                     text={live_state === 'open' ? t('run.live') : t('run.reconnecting')} data-testid="live-badge" />
            </Tooltip>)}
        </Space>
      </Card>
      {error ? <ErrorState error={error} onRetry={() => set_reload((r) => r + 1)} /> :
       series === null ? <Skeleton active paragraph={{ rows: 8 }} /> :
       Object.keys(series).length === 0 ? <Empty description={running ? t('run.no_metrics_live') : t('run.no_metrics')} style={{ padding: 48 }} /> : (
        <Row gutter={[12, 12]}>
          {keys.map((k) => (
            <Col key={k} xs={24} lg={12} xxl={8}>
              <MetricChart metric={k} data={series[k]} mode={mode} log={log} smoothing={smoothing} dark={dark}
                           group={group} runLabel={runId} />
            </Col>
          ))}
        </Row>
      )}
    </div>
  );
}
