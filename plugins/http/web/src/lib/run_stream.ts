// Live run-list changes from the SSE `runs` channel (GET /api/events?channels=runs, API.md §3.3):
// parsing, applying an event to the rows on screen, and an EventSource wrapper that reports whether
// the server took the stream.
import type { RunListItem } from '../api/types';

export interface RunEvent {
  op: 'upsert' | 'delete';
  run: RunListItem;
}

/** A `runs` event's data, or null when it is not one. */
export function parse_run_event(data: string): RunEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { op, run } = v as { op?: unknown; run?: unknown };
  if ((op !== 'upsert' && op !== 'delete') || !run || typeof run !== 'object' || typeof (run as { id?: unknown }).id !== 'string') return null;
  return { op, run: run as RunListItem };
}

/**
 * Applies an event to the rows of the current page. An upsert of a row on the page replaces it in
 * place, a delete removes it; `outside` is true when the event concerns a run not on the page (the
 * page may have to be fetched again: a new run, or one that now matches the filters).
 */
export function apply_run_event(rows: RunListItem[], ev: RunEvent): { rows: RunListItem[]; outside: boolean } {
  const i = rows.findIndex((r) => r.id === ev.run.id);
  if (i < 0) return { rows, outside: true };
  const next = rows.slice();
  if (ev.op === 'delete') next.splice(i, 1);
  else next[i] = { ...rows[i], ...ev.run };
  return { rows: next, outside: false };
}

export type StreamState = 'connecting' | 'open' | 'refused';

/**
 * Subscribes to the `runs` channel. `on_state('refused')` means the server does not offer it (no
 * EventSource, or the stream closed for good); EventSource reconnects on its own otherwise.
 * Returns the function that closes the stream.
 */
export function subscribe_runs(on_event: (ev: RunEvent) => void, on_state: (s: StreamState) => void): () => void {
  if (typeof EventSource === 'undefined') {
    on_state('refused');
    return () => {};
  }
  const es = new EventSource('/api/events?channels=runs');
  on_state('connecting');
  es.onopen = () => on_state('open');
  es.addEventListener('runs', (e) => {
    const ev = parse_run_event((e as MessageEvent).data);
    if (ev) on_event(ev);
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) on_state('refused');
    else on_state('connecting');
  };
  return () => es.close();
}
