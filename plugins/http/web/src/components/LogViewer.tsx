// Live run logs: WS /api/runs/{id}/logs/ws?format=json (API.md §3.1), ANSI colours, search with
// highlighting, tqdm filter, follow mode, copy; rendered with a virtual list so a million lines stay
// smooth. A server that sends raw text frames (the COMPAT protocol) works too.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Badge, Button, Card, Checkbox, Empty, Input, Space, Tooltip, Typography, App } from 'antd';
import { CopyOutlined, VerticalAlignBottomOutlined } from '@ant-design/icons';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useTranslation } from 'react-i18next';
import { open_stream } from '../api/live';
import { ws_url } from '../api/client';
import { is_progress_line, parse_ansi, strip_ansi, type AnsiSegment } from '../lib/ansi';

const kMaxLines = 1_000_000;

export interface LogFrame {
  type: string;
  lines?: string[];
  message?: string;
  detail?: string;
  reason?: string;
}

/** Applies one frame to the line buffer; returns info/error text to show, if any. */
export function apply_log_frame(raw: string, lines: string[]): { info?: string; error?: string; reset?: boolean } {
  let frame: LogFrame | null = null;
  if (raw.startsWith('{')) {
    try {
      frame = JSON.parse(raw) as LogFrame;
    } catch {
      frame = null;
    }
  }
  if (!frame) {
    if (raw.startsWith('[info] ')) return { info: raw.slice(7) };
    if (raw.startsWith('[error] ')) return { error: raw.slice(8) };
    lines.push(raw);
  } else if (frame.type === 'lines' && Array.isArray(frame.lines)) {
    for (const l of frame.lines) lines.push(l);
  } else if (frame.type === 'info') {
    return { info: frame.message };
  } else if (frame.type === 'error') {
    return { error: frame.detail ?? frame.message };
  } else if (frame.type === 'reset') {
    lines.length = 0;
    return { reset: true };
  }
  if (lines.length > kMaxLines) lines.splice(0, lines.length - kMaxLines);
  return {};
}

function Highlighted({ segments, needle }: { segments: AnsiSegment[]; needle: string }) {
  return (
    <>
      {segments.map((s, i) => {
        const style: React.CSSProperties = {
          color: s.style.fg ?? undefined, background: s.style.bg ?? undefined,
          fontWeight: s.style.bold ? 600 : undefined, opacity: s.style.dim ? 0.7 : undefined,
          fontStyle: s.style.italic ? 'italic' : undefined, textDecoration: s.style.underline ? 'underline' : undefined,
        };
        if (!needle) return <span key={i} style={style}>{s.text}</span>;
        const parts: JSX.Element[] = [];
        const lower = s.text.toLowerCase();
        let from = 0;
        let at = lower.indexOf(needle);
        while (at >= 0) {
          if (at > from) parts.push(<span key={`${i}-${from}`}>{s.text.slice(from, at)}</span>);
          parts.push(<mark key={`${i}-m${at}`}>{s.text.slice(at, at + needle.length)}</mark>);
          from = at + needle.length;
          at = lower.indexOf(needle, from);
        }
        if (from < s.text.length) parts.push(<span key={`${i}-${from}`}>{s.text.slice(from)}</span>);
        return <span key={i} style={style}>{parts}</span>;
      })}
    </>
  );
}

export function LogViewer({ runId, live, height = 560 }: { runId: string; live: boolean; height?: number | string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const lines = useRef<string[]>([]);
  const [version, set_version] = useState(0);
  const [state, set_state] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const [info, set_info] = useState<string | null>(null);
  const [search, set_search] = useState('');
  const [hide_progress, set_hide_progress] = useState(false);
  const [follow, set_follow] = useState(true);
  const [wrap, set_wrap] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    lines.current = [];
    set_version((v) => v + 1);
    let pending = false;
    const flush = () => { pending = false; set_version((v) => v + 1); };
    const handle = open_stream({
      url: () => ws_url(`/api/runs/${encodeURIComponent(runId)}/logs/ws?format=json`),
      onState: set_state,
      onMessage: (raw) => {
        const r = apply_log_frame(raw, lines.current);
        if (r.info) set_info(r.info);
        if (r.error) set_info(r.error);
        if (!pending) { pending = true; window.setTimeout(flush, 100); }
      },
      shouldReconnect: () => live,
    });
    return () => handle.close();
  }, [runId, live]);

  const needle = search.trim().toLowerCase();
  const visible = useMemo(() => {
    const out: number[] = [];
    const all = lines.current;
    for (let i = 0; i < all.length; ++i) {
      const l = all[i];
      if (hide_progress && is_progress_line(l)) continue;
      if (needle && !strip_ansi(l).toLowerCase().includes(needle)) continue;
      out.push(i);
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, needle, hide_progress]);

  const virtual = useVirtualizer({
    count: visible.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 20,
    overscan: 20,
  });

  useEffect(() => {
    if (follow && visible.length > 0) virtual.scrollToIndex(visible.length - 1, { align: 'end' });
  }, [follow, visible.length, virtual]);

  const copy_visible = async () => {
    const text = visible.map((i) => strip_ansi(lines.current[i])).join('\n');
    try {
      await navigator.clipboard.writeText(text);
      message.success(t('common.copied'));
    } catch {
      message.error(t('common.error_title'));
    }
  };

  const status_badge = state === 'open' ? <Badge status="processing" text={t('run.live')} /> :
    state === 'connecting' ? <Badge status="default" text={t('logs.connecting')} /> :
      <Badge status="default" text={live ? t('run.reconnecting') : t('run.ended')} />;

  return (
    <Card size="small" data-testid="log-viewer"
          title={<Space wrap>
            <Input.Search allowClear size="small" style={{ width: 260 }} placeholder={t('logs.search')} value={search}
                          onChange={(e) => set_search(e.target.value)} aria-label={t('logs.search')} data-testid="log-search" />
            <Checkbox checked={hide_progress} onChange={(e) => set_hide_progress(e.target.checked)}>{t('logs.hide_progress')}</Checkbox>
            <Checkbox checked={wrap} onChange={(e) => set_wrap(e.target.checked)}>{t('logs.wrap')}</Checkbox>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {needle ? t('logs.matches', { count: visible.length }) : t('logs.lines', { count: lines.current.length })}
            </Typography.Text>
          </Space>}
          extra={<Space>
            {status_badge}
            <Tooltip title={t('logs.follow')}>
              <Button size="small" type={follow ? 'primary' : 'default'} icon={<VerticalAlignBottomOutlined />}
                      onClick={() => set_follow((f) => !f)} aria-pressed={follow} aria-label={t('logs.follow')}>{t('logs.follow')}</Button>
            </Tooltip>
            <Tooltip title={t('logs.copy_all')}>
              <Button size="small" icon={<CopyOutlined />} onClick={() => void copy_visible()} aria-label={t('logs.copy_all')} />
            </Tooltip>
          </Space>}
          styles={{ body: { padding: 0 } }}>
      {info && lines.current.length === 0 && <Typography.Paragraph type="secondary" style={{ padding: '8px 12px', margin: 0 }}>{info}</Typography.Paragraph>}
      <div ref={scroller} className="rn-mono" style={{ height, overflow: 'auto', background: 'rgba(0,0,0,0.02)' }}
           onWheel={(e) => { if (e.deltaY < 0 && follow) set_follow(false); }} tabIndex={0} aria-label={t('run.logs')}
           data-testid="log-lines">
        {visible.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} style={{ paddingTop: 48 }}
                 description={state === 'connecting' ? t('logs.connecting') : t('logs.no_logs')} />
        ) : (
          <div style={{ height: virtual.getTotalSize(), position: 'relative', minWidth: '100%', width: wrap ? '100%' : 'max-content' }}>
            {virtual.getVirtualItems().map((item) => {
              const idx = visible[item.index];
              const { segments } = parse_ansi(lines.current[idx] ?? '');
              return (
                <div key={item.key} data-index={item.index} ref={wrap ? virtual.measureElement : undefined}
                     className={`rn-log-line${wrap ? ' wrap' : ''}`}
                     style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}>
                  <span className="rn-log-lineno">{idx + 1}</span>
                  <Highlighted segments={segments} needle={needle} />
                </div>
              );
            })}
          </div>
        )}
      </div>
    </Card>
  );
}
