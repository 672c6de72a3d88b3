// Series maths for the charts: parsing the server's non-finite strings, EMA smoothing (the same
// debiased EMA TensorBoard and W&B use), best-point search and CSV building. Pure functions.
import type { SeriesValue } from '../api/types';

/** "NaN"/"Infinity"/"-Infinity" (API.md §1.1) and null become numbers or null. */
export function to_number(v: SeriesValue | unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * Debiased exponential moving average; weight 0 returns the input. Non-finite and null points are
 * passed through unchanged and do not disturb the average.
 */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return values.slice();
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    ++n;
    return last / (1 - Math.pow(w, n));
  });
}

/** Index of the best finite point (min or max), or -1. */
export function best_index(values: (number | null)[], mode: 'min' | 'max'): number {
  let best = -1;
  for (let i = 0; i < values.length; ++i) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) continue;
    if (best < 0 || (mode === 'min' ? v < (values[best] as number) : v > (values[best] as number))) best = i;
  }
  return best;
}

/** A metric whose name suggests lower is better. */
export function lower_is_better(key: string): boolean {
  return /loss|err|perplexity|ppl|mse|mae|rmse|wer|cer|nll|distance|time|latency/i.test(key);
}

/**
 * Whether a "best" point means anything for a key: not for counters, schedules and clocks such as
 * epoch, lr or time, whose extreme is just their last (or first) value.
 */
export function has_best(key: string): boolean {
  const leaf = key.split('/').pop() ?? key;
  return !/^(epoch|epochs|step|global_step|iter|iteration|lr|learning_rate|.*_lr|lr_.*|time|ts|timestamp|wall_time|elapsed|progress)$/i.test(leaf);
}

function csv_cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV from a header and rows. */
export function to_csv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csv_cell).join(',')).join('\r\n') + '\r\n';
}

/** Appends live points to a series, keeping it within `cap` points by dropping every other old point. */
export function append_capped(xs: number[], ys: (number | null)[], nx: number[], ny: (number | null)[], cap: number):
    { x: number[]; y: (number | null)[] } {
  let x = xs.concat(nx);
  let y = ys.concat(ny);
  if (x.length > cap) {
    const keep_tail = Math.floor(cap / 2);
    const head_x = x.slice(0, x.length - keep_tail), head_y = y.slice(0, y.length - keep_tail);
    const hx: number[] = [], hy: (number | null)[] = [];
    for (let i = 0; i < head_x.length; i += 2) { hx.push(head_x[i]); hy.push(head_y[i]); }
    x = hx.concat(x.slice(x.length - keep_tail));
    y = hy.concat(y.slice(y.length - keep_tail));
  }
  return { x, y };
}
