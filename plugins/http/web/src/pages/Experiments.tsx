// Experiments: the path tree beside the run table (server-side pagination with limit/cursor and
// X-Total-Count, virtual scrolling for long pages, status/project filters, search and filter
// expressions, inline alias and tag edits, multi-select compare/export/delete), stats, and live
// updates in place: run changes pushed on the SSE `runs` channel (API.md §3.3), else polling.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, App, Badge, Button, Card, Col, Dropdown, Empty, Input, Popover, Row, Select, Space, Statistic, Switch, Table,
         Tooltip, Typography } from 'antd';
import type { ColumnsType, SorterResult } from 'antd/es/table/interface';
import { CopyOutlined, DeleteOutlined, DownloadOutlined, LineChartOutlined, QuestionCircleOutlined, ReloadOutlined,
         LeftOutlined, RightOutlined, MenuFoldOutlined, MenuUnfoldOutlined } from '@ant-design/icons';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ApiError, get, list_all_runs, list_runs, patch, post, type RunPage } from '../api/client';
import { useLoad } from '../api/hooks';
import type { PathsResponse, RunListItem } from '../api/types';
import { ErrorState, error_text } from '../components/ErrorState';
import { PathTree } from '../components/PathTree';
import { StatusTag, status_label } from '../components/StatusTag';
import { status_filter_expression } from '../lib/status';
import { apply_run_event, subscribe_runs, type RunEvent, type StreamState } from '../lib/run_stream';
import { TagEditor } from '../components/TagEditor';
import { format_duration, format_number, format_time } from '../lib/format';
import { runs_to_csv, save_text } from '../lib/export';
import { usePrefs } from '../prefs';

const kStatuses = ['running', 'finished', 'failed', 'interrupted', 'crashed'];
const kSortable: Record<string, string> = { created_time: 'created', duration: 'duration', status: 'status', path: 'path',
                                            alias: 'alias', id: 'id', best_metric_value: 'best_metric_value', last_step: 'last_step' };
const kExamples = [
  'summary.acc > 0.9 AND tags HAS "baseline"',
  'path UNDER "cv/yolo" status IN ("failed", "running")',
  'config.lr <= 1e-3 OR config.optimizer = "sgd"',
  'NOT tags HAS "debug" created > NOW - 7d',
  'metric.loss.min < 0.05',
];

interface Filters {
  path: string | null;
  status: string[];
  q: string;
  sort: string | undefined;
  order: 'asc' | 'desc' | undefined;
  size: number;
}

interface StatCounts { total: number | null; running: number | null; finished: number | null; failed: number | null }

export default function Experiments() {
  const { t, i18n } = useTranslation();
  const { message, modal } = App.useApp();
  const { prefs } = usePrefs();
  const navigate = useNavigate();
  const [params, set_params] = useSearchParams();
  const [filters, set_filters] = useState<Filters>(() => ({
    path: params.get('path'),
    status: params.get('status')?.split(',').filter(Boolean) ?? [],
    q: params.get('q') ?? '',
    sort: undefined,
    order: undefined,
    size: 50,
  }));
  const [search_text, set_search_text] = useState(filters.q);
  const [page, set_page] = useState(0);
  const cursors = useRef<(string | null)[]>([null]);
  const [selected, set_selected] = useState<string[]>([]);
  const [auto, set_auto] = useState(prefs.refresh_seconds > 0);
  const [tree_width, set_tree_width] = useState(260);
  const [tree_open, set_tree_open] = useState(() => window.innerWidth >= 1440);
  const [exporting, set_exporting] = useState(false);
  const [view_height, set_view_height] = useState(() => window.innerHeight);
  // The live stream: `live` once the server has pushed a run change (then polling stops).
  const [stream, set_stream] = useState<StreamState>('connecting');
  const [live, set_live] = useState(false);
  const [rows, set_rows] = useState<RunListItem[] | null>(null);
  const crash_fallback = useRef(false);
  const refresh_ms = auto && !(live && stream === 'open') ? Math.max(prefs.refresh_seconds || 5, 2) * 1000 : 0;

  useEffect(() => {
    const on = () => set_view_height(window.innerHeight);
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);

  useEffect(() => {
    const next = new URLSearchParams();
    if (filters.path) next.set('path', filters.path);
    if (filters.status.length) next.set('status', filters.status.join(','));
    if (filters.q) next.set('q', filters.q);
    set_params(next, { replace: true });
  }, [filters.path, filters.status, filters.q, set_params]);

  const update_filters = useCallback((f: Partial<Filters>) => {
    cursors.current = [null];
    set_page(0);
    set_filters((old) => ({ ...old, ...f }));
  }, []);

  const base_query = useMemo(() => ({
    path: filters.path ?? undefined,
    status: filters.status.length ? filters.status.join(',') : undefined,
    q: filters.q || undefined,
  }), [filters.path, filters.status, filters.q]);

  // A server that refuses the pseudo-status `crashed` gets the same selection as a filter expression.
  const effective_query = useCallback(() => {
    if (!crash_fallback.current || !filters.status.includes('crashed')) return base_query;
    const expr = status_filter_expression(filters.status) ?? '';
    return { ...base_query, status: undefined, q: base_query.q ? `(${base_query.q}) AND ${expr}` : expr };
  }, [base_query, filters.status]);

  const runs = useLoad<RunPage & { client_paged: boolean }>(async (signal) => {
    const query = { limit: filters.size, cursor: cursors.current[page] ?? undefined, sort: filters.sort, order: filters.order };
    let p: RunPage;
    try {
      p = await list_runs({ ...effective_query(), ...query }, signal);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 400 && filters.status.includes('crashed') && !crash_fallback.current)) throw e;
      crash_fallback.current = true;
      p = await list_runs({ ...effective_query(), ...query }, signal);
    }
    // A server without §4.1 returns every run and no X-Total-Count: page in the browser.
    if (p.total === null && p.runs.length > filters.size) {
      return { runs: p.runs.slice(page * filters.size, (page + 1) * filters.size), total: p.runs.length,
               next_cursor: null, client_paged: true };
    }
    cursors.current[page + 1] = p.next_cursor;
    return { ...p, client_paged: false };
  }, [base_query, filters.size, filters.sort, filters.order, page], refresh_ms);

  // Rows on screen: the last page fetched, with pushed changes applied in place.
  const rows_ref = useRef<RunListItem[] | null>(null);
  useEffect(() => { rows_ref.current = runs.data?.runs ?? null; set_rows(rows_ref.current); }, [runs.data]);
  const reload_timer = useRef<number | undefined>(undefined);
  const reloads = useRef<() => void>(() => {});
  useEffect(() => {
    if (!auto) { set_stream('refused'); set_live(false); return undefined; }
    const schedule = () => {
      if (reload_timer.current !== undefined) return;
      reload_timer.current = window.setTimeout(() => { reload_timer.current = undefined; reloads.current(); }, 2000);
    };
    const close = subscribe_runs((ev: RunEvent) => {
      set_live(true);
      const cur = rows_ref.current;
      if (!cur) { schedule(); return; }
      const before = cur.find((r) => r.id === ev.run.id);
      const r = apply_run_event(cur, ev);
      rows_ref.current = r.rows;
      set_rows(r.rows);
      // New, vanished or re-filtered runs and status changes (the stat cards) need a fetch.
      if (r.outside || ev.op === 'delete' || before?.status !== ev.run.status) schedule();
    }, set_stream);
    return () => { close(); window.clearTimeout(reload_timer.current); reload_timer.current = undefined; };
  }, [auto]);

  const paths = useLoad<PathsResponse>((s) => get<PathsResponse>('/api/paths?include_stats=true', s), [], refresh_ms ? refresh_ms * 2 : 0);
  const projects = useLoad<{ projects: string[] }>((s) => get('/api/projects', s), []);

  const stats = useLoad<StatCounts>(async (signal) => {
    const one = async (status?: string) => {
      try {
        return (await list_runs({ path: base_query.path, q: base_query.q, status, limit: 1 }, signal)).total;
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        return null;
      }
    };
    const [total, running, finished, failed] = await Promise.all([one(), one('running'), one('finished'), one('failed')]);
    return { total, running, finished, failed };
  }, [base_query.path, base_query.q], refresh_ms);

  reloads.current = () => { runs.reload(); stats.reload(); paths.reload(); };

  // Fall back to the path stats when the server does not count (no §4.1).
  const stat_values: StatCounts = useMemo(() => {
    const s = stats.data;
    if (s && s.total !== null) return s;
    const ps = paths.data?.stats;
    if (!ps) return { total: null, running: null, finished: null, failed: null };
    if (filters.path && ps[filters.path]) return ps[filters.path];
    const sum = { total: 0, running: 0, finished: 0, failed: 0 };
    for (const [k, v] of Object.entries(ps)) if (!k.includes('/')) {
      sum.total += v.total; sum.running += v.running; sum.finished += v.finished; sum.failed += v.failed;
    }
    return sum;
  }, [stats.data, paths.data, filters.path]);

  const tag_suggestions = useMemo(() => {
    const s = new Set<string>();
    runs.data?.runs.forEach((r) => r.tags?.forEach((x) => s.add(x)));
    return [...s].sort();
  }, [runs.data]);

  const filter_error = runs.error instanceof ApiError && runs.error.status === 400 && filters.q ? runs.error : null;

  const save_alias = async (run: RunListItem, alias: string) => {
    try {
      await patch(`/api/runs/${encodeURIComponent(run.id)}`, { alias: alias.trim() || null });
      message.success(t('experiments.alias_saved'));
      runs.reload();
    } catch (e) {
      message.error(error_text(e, t));
    }
  };

  const delete_selected = () => {
    const ids = selected.slice();
    modal.confirm({
      title: t('experiments.delete_confirm_title', { count: ids.length }),
      content: t('experiments.delete_confirm_body'),
      okText: t('common.delete'),
      okButtonProps: { danger: true, id: 'confirm-delete' },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          let done = 0;
          for (let i = 0; i < ids.length; i += 100) {
            const r = await post<{ deleted_count: number }>('/api/runs/soft-delete', { run_ids: ids.slice(i, i + 100) });
            done += r.deleted_count ?? 0;
          }
          message.success(t('experiments.deleted_message', { message: `${done} / ${ids.length}` }));
          set_selected([]);
          runs.reload(); paths.reload(); stats.reload();
        } catch (e) {
          message.error(error_text(e, t));
        }
      },
    });
  };

  const do_export = async (format: 'json' | 'csv') => {
    set_exporting(true);
    try {
      let data: RunListItem[];
      if (selected.length) {
        const all = await list_all_runs({ include: 'summary,config,meta' });
        const want = new Set(selected);
        data = all.filter((r) => want.has(r.id));
      } else {
        data = await list_all_runs({ ...effective_query(), include: 'summary,config,meta' });
      }
      if (format === 'json') save_text('runicorn_runs.json', JSON.stringify(data, null, 2), 'application/json');
      else save_text('runicorn_runs.csv', runs_to_csv(data), 'text/csv');
    } catch (e) {
      message.error(error_text(e, t));
    } finally {
      set_exporting(false);
    }
  };

  const columns: ColumnsType<RunListItem> = [
    {
      title: t('experiments.col_path'), dataIndex: 'path', key: 'path', sorter: true, ellipsis: { showTitle: false }, width: 140,
      render: (p: string | null) => (
        <Tooltip title={p} placement="topLeft">
          <Typography.Text type={p ? undefined : 'secondary'}>{p ?? t('experiments.root_path')}</Typography.Text>
        </Tooltip>),
    },
    {
      title: t('experiments.col_alias'), dataIndex: 'alias', key: 'alias', sorter: true, width: 150,
      render: (a: string | null, run) => (
        <Typography.Text editable={{ onChange: (v) => { if (v !== (a ?? '')) void save_alias(run, v); }, text: a ?? '',
                                      tooltip: t('experiments.alias_placeholder') }}
                         type={a ? undefined : 'secondary'} style={{ marginBottom: 0 }}>
          {a ?? ''}
        </Typography.Text>
      ),
    },
    {
      title: t('experiments.col_tags'), dataIndex: 'tags', key: 'tags', width: 180,
      render: (tags: string[], run) => <TagEditor runId={run.id} tags={tags ?? []} suggestions={tag_suggestions}
                                                  onSaved={() => runs.reload()} />,
    },
    {
      title: t('experiments.col_id'), dataIndex: 'id', key: 'id', sorter: true, width: 215,
      render: (id: string) => (
        <Space size={4} style={{ maxWidth: '100%', flexWrap: 'nowrap' }}>
          <Link to={`/runs/${encodeURIComponent(id)}`} className="rn-mono" title={id} style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'block' }} aria-label={t('experiments.open_run')}>{id}</Link>
          <Typography.Text copyable={{ text: id, tooltips: [t('experiments.copy_id'), t('common.copied')], icon: <CopyOutlined /> }} />
        </Space>
      ),
    },
    { title: t('experiments.col_status'), dataIndex: 'status', key: 'status', sorter: true, width: 115,
      render: (s: string, r) => <StatusTag status={s} exitReason={r.exit_reason} /> },
    { title: t('experiments.col_created'), dataIndex: 'created_time', key: 'created_time', sorter: true, width: 165,
      render: (v: number | null) => <span style={{ whiteSpace: 'nowrap' }}>{format_time(v, i18n.language)}</span> },
    { title: t('experiments.col_duration'), dataIndex: 'duration', key: 'duration', sorter: true, width: 95,
      render: (v: number | null | undefined) => format_duration(v) },
    { title: t('experiments.col_step'), dataIndex: 'last_step', key: 'last_step', sorter: true, width: 80, align: 'right', responsive: ['xl'],
      render: (v: number | null | undefined) => (v === null || v === undefined ? '—' : v) },
    { title: t('experiments.col_best'), dataIndex: 'best_metric_value', key: 'best_metric_value', sorter: true, width: 150,
      ellipsis: { showTitle: false },
      render: (v: unknown, r) => (v === null || v === undefined ? '—' :
        <Tooltip title={`${r.best_metric_name ?? ''} ${format_number(v)}`}><span><Typography.Text type="secondary">{r.best_metric_name}</Typography.Text> {format_number(v)}</span></Tooltip>) },
    { title: t('experiments.col_assets'), dataIndex: 'assets_count', key: 'assets_count', width: 75, align: 'right', responsive: ['xxl'] },
  ];

  // Horizontal scroll only when the visible columns do not fit (antd hides the `responsive` ones).
  const kBreakpoints: Record<string, number> = { xl: 1200, xxl: 1600 };
  const table_width = 40 + columns.reduce((w, c) => {
    const bp = (c.responsive ?? []).map((b) => kBreakpoints[b] ?? 0);
    return bp.length && window.innerWidth < Math.min(...bp) ? w : w + Number(c.width ?? 120);
  }, 0);
  const table_height = Math.max(280, view_height - 390);

  const on_table_change = (_p: unknown, _f: unknown, sorter: SorterResult<RunListItem> | SorterResult<RunListItem>[]) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter;
    const field = s?.order ? kSortable[String(s.columnKey)] : undefined;
    update_filters({ sort: field, order: s?.order === 'ascend' ? 'asc' : s?.order === 'descend' ? 'desc' : undefined });
  };

  const data = runs.data;
  const total = data?.total ?? null;
  const from = page * filters.size + 1;
  const to = page * filters.size + (data?.runs.length ?? 0);
  const has_next = data ? (data.client_paged ? to < (total ?? 0) : !!data.next_cursor) : false;
  const no_runs_at_all = !!data && data.runs.length === 0 && !filters.q && !filters.status.length && !filters.path;

  const on_resize = (e: React.MouseEvent) => {
    const start = e.clientX, w = tree_width;
    const move = (ev: MouseEvent) => set_tree_width(Math.min(520, Math.max(180, w + ev.clientX - start)));
    const up = () => { window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  return (
    <div className="rn-page" data-testid="experiments-page">
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        {(['total', 'running', 'finished', 'failed'] as const).map((k) => (
          <Col key={k} xs={12} md={6}>
            <Card size="small" className="rn-stat" data-testid={`stat-${k}`}>
              <Statistic title={t(`experiments.stats_${k}`)} value={stat_values[k] ?? '—'} loading={stats.loading && !stats.data && !paths.data}
                         valueStyle={{ color: k === 'running' ? '#1677ff' : k === 'failed' ? '#cf1322' : k === 'finished' ? '#389e0d' : undefined }} />
            </Card>
          </Col>
        ))}
      </Row>
      <div style={{ display: 'flex', gap: 0, alignItems: 'stretch' }}>
        {tree_open && (<>
          <Card size="small" title={t('experiments.paths')} style={{ width: tree_width, flex: 'none' }}
                styles={{ body: { height: 'calc(100vh - 260px)', minHeight: 320 } }}>
            {paths.error && !paths.data ? <ErrorState compact error={paths.error} onRetry={paths.reload} /> :
              <PathTree stats={paths.data?.stats} paths={paths.data?.paths} loading={paths.loading} selected={filters.path}
                        onSelect={(p) => update_filters({ path: p })} total={stat_values.total} />}
          </Card>
          <div className="rn-resizer" onMouseDown={on_resize} role="separator" aria-orientation="vertical" />
        </>)}
        <Card size="small" style={{ flex: 1, minWidth: 0 }}
              >
          <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginBottom: 12, flexWrap: 'wrap' }}>
                <Space>
                  <Tooltip title={tree_open ? t('experiments.hide_paths') : t('experiments.show_paths')}>
                    <Button type="text" icon={tree_open ? <MenuFoldOutlined /> : <MenuUnfoldOutlined />} data-testid="toggle-paths"
                            aria-label={tree_open ? t('experiments.hide_paths') : t('experiments.show_paths')}
                            onClick={() => set_tree_open((o) => !o)} />
                  </Tooltip>
                  <Input.Search allowClear style={{ width: 'min(400px, 30vw)' }} placeholder={t('experiments.search_placeholder')} value={search_text}
                                onChange={(e) => { set_search_text(e.target.value); if (!e.target.value) update_filters({ q: '' }); }}
                                onSearch={(v) => update_filters({ q: v.trim() })} aria-label={t('common.search')} data-testid="run-search" />
                  <Popover title={t('experiments.filter_help')} trigger="click" content={
                    <div style={{ maxWidth: 440 }}>
                      <Typography.Paragraph type="secondary">{t('experiments.filter_help_text')}</Typography.Paragraph>
                      <Typography.Text strong>{t('experiments.filter_examples')}</Typography.Text>
                      {kExamples.map((ex) => (
                        <div key={ex}><Button type="link" size="small" className="rn-mono" style={{ padding: 0 }}
                                              onClick={() => { set_search_text(ex); update_filters({ q: ex }); }}>{ex}</Button></div>
                      ))}
                    </div>}>
                    <Button type="text" icon={<QuestionCircleOutlined />} aria-label={t('experiments.filter_help')} />
                  </Popover>
                  <Select mode="multiple" allowClear style={{ minWidth: 150 }} placeholder={t('experiments.status_filter')}
                          value={filters.status} onChange={(v) => update_filters({ status: v })} maxTagCount="responsive"
                          options={kStatuses.map((s) => ({ value: s, label: status_label(t, s) }))}
                          aria-label={t('experiments.status_filter')} data-testid="status-filter" />
                  <Select allowClear style={{ minWidth: 130 }} placeholder={t('experiments.project_filter')}
                          value={filters.path && !filters.path.includes('/') ? filters.path : undefined}
                          onChange={(v) => update_filters({ path: v ?? null })}
                          options={(projects.data?.projects ?? []).map((p) => ({ value: p, label: p }))}
                          aria-label={t('experiments.project_filter')} />
                </Space>
            <span style={{ flex: 1 }} />
            <Space>
              {auto && live && stream === 'open' && (
                <Tooltip title={t('experiments.live_tooltip')}>
                  <Badge status="processing" text={t('experiments.live')} data-testid="live-badge" />
                </Tooltip>)}
              <Space size={4}><Switch size="small" checked={auto} onChange={set_auto} aria-label={t('experiments.auto_refresh')} />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('experiments.auto_refresh')}</Typography.Text></Space>
              <Button icon={<ReloadOutlined />} onClick={() => { runs.reload(); paths.reload(); stats.reload(); }}
                      aria-label={t('common.refresh')} />
            </Space>
          </div>
          {selected.length > 0 && (
            <Alert type="info" showIcon style={{ marginBottom: 12 }} message={
              <Space wrap>
                <span>{t('common.selected', { count: selected.length })}</span>
                <Button size="small" icon={<LineChartOutlined />} disabled={selected.length < 2} data-testid="compare-selected"
                        onClick={() => navigate(`/compare?runs=${selected.map(encodeURIComponent).join(',')}`)}>{t('experiments.compare')}</Button>
                <Dropdown menu={{ items: [{ key: 'json', label: t('experiments.export_json') }, { key: 'csv', label: t('experiments.export_csv') }],
                                  onClick: ({ key }) => void do_export(key as 'json' | 'csv') }}>
                  <Button size="small" icon={<DownloadOutlined />} loading={exporting}>{t('experiments.export')}</Button>
                </Dropdown>
                <Button size="small" danger icon={<DeleteOutlined />} onClick={delete_selected} data-testid="delete-selected">
                  {t('experiments.delete_selected')}</Button>
                <Button size="small" type="link" onClick={() => set_selected([])}>{t('common.cancel')}</Button>
              </Space>} />
          )}
          {filter_error && (
            <Alert type="error" showIcon style={{ marginBottom: 12 }} data-testid="filter-error"
                   message={typeof filter_error.detail === 'object' && filter_error.detail && 'position' in (filter_error.detail as object)
                     ? t('experiments.filter_error', { position: (filter_error.detail as { position: number }).position, message: filter_error.message })
                     : filter_error.message} />
          )}
          {runs.error && !filter_error && !data ? <ErrorState error={runs.error} onRetry={runs.reload} /> :
           no_runs_at_all ? <Empty description={<><div>{t('experiments.no_runs')}</div>
             <Typography.Text type="secondary">{t('experiments.no_runs_hint')}</Typography.Text></>} style={{ padding: 48 }} /> : (
            <>
              <Table<RunListItem>
                rowKey="id"
                size="small"
                columns={columns}
                dataSource={filter_error ? [] : rows ?? data?.runs ?? []}
                loading={runs.loading && !data}
                pagination={false}
                onChange={on_table_change}
                rowSelection={{ selectedRowKeys: selected, preserveSelectedRowKeys: true, onChange: (k) => set_selected(k as string[]) }}
                scroll={{ x: table_width, y: table_height }}
                virtual={(rows?.length ?? 0) > 100}
                locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('experiments.no_match')} /> }}
                onRow={(r) => ({ onDoubleClick: () => navigate(`/runs/${encodeURIComponent(r.id)}`) })}
                data-testid="run-table"
              />
              <div style={{ display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 12, marginTop: 12 }}>
                <Typography.Text type="secondary" data-testid="page-range">
                  {data && data.runs.length > 0 ? (total !== null ? t('experiments.page_range', { from, to, total }) :
                    t('experiments.page_range_open', { from, to })) : ''}
                </Typography.Text>
                <Button size="small" icon={<LeftOutlined />} disabled={page === 0} onClick={() => set_page((p) => p - 1)}
                        aria-label={t('experiments.prev_page')} />
                <Button size="small" icon={<RightOutlined />} disabled={!has_next} onClick={() => set_page((p) => p + 1)}
                        aria-label={t('experiments.next_page')} data-testid="next-page" />
                <Select size="small" value={filters.size} style={{ width: 110 }} onChange={(v) => update_filters({ size: v })}
                        options={[20, 50, 100, 200, 500, 1000].map((n) => ({ value: n, label: t('experiments.page_size', { size: n }) }))} />
              </div>
            </>
          )}
        </Card>
      </div>
    </div>
  );
}
