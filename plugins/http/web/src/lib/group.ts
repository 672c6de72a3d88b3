// Grouping runs by a config value and aggregating one metric per group into a mean line with a
// ±1 standard deviation band (the compare view's "group by"). Pure functions.
import { flatten } from './format';

/** The label of a config value: the same label means the same group. Missing values share one group. */
export function group_label(value: unknown): string {
  if (value === undefined) return '∅';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export interface RunGroup {
  /** The group's label (group_label of the shared value). */
  label: string;
  /** The run ids of the group, in input order. */
  members: string[];
}

/**
 * Splits runs into groups of equal `key` values (flattened, dotted key). Groups keep the order of
 * their first member; the group of runs without the key comes last.
 */
export function group_runs(runs: { id: string; config: Record<string, unknown> }[], key: string): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  let missing: RunGroup | null = null;
  for (const r of runs) {
    const flat = flatten(r.config ?? {});
    const present = Object.prototype.hasOwnProperty.call(flat, key);
    const label = group_label(present ? flat[key] : undefined);
    if (!present) {
      missing ??= { label, members: [] };
      missing.members.push(r.id);
      continue;
    }
    let g = groups.get(label);
    if (!g) { g = { label, members: [] }; groups.set(label, g); }
    g.members.push(r.id);
  }
  const out = [...groups.values()];
  if (missing) out.push(missing);
  return out;
}

/**
 * Config keys worth grouping by: scalar (string, number, boolean, null) flattened keys, those whose
 * values differ between the runs first, each part sorted by name.
 */
export function groupable_keys(configs: Record<string, unknown>[]): string[] {
  const values = new Map<string, Set<string>>();
  const counts = new Map<string, number>();
  for (const c of configs) {
    for (const [k, v] of Object.entries(flatten(c ?? {}))) {
      if (v !== null && typeof v === 'object') continue;
      if (!values.has(k)) values.set(k, new Set());
      values.get(k)!.add(group_label(v));
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const keys = [...values.keys()].sort();
  const differs = (k: string) => values.get(k)!.size > 1 || counts.get(k)! < configs.length;
  return [...keys.filter(differs), ...keys.filter((k) => !differs(k))];
}

export interface Series {
  x: number[];
  y: (number | null)[];
}

export interface Band {
  x: number[];
  mean: (number | null)[];
  /** Sample standard deviation (n − 1); 0 where only one run covers the point. */
  std: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** How many runs cover each point. */
  n: number[];
}

/** Finite (x, y) pairs sorted by x; duplicate x keep the last y. */
function clean(s: Series): { x: number[]; y: number[] } {
  const pairs: [number, number][] = [];
  const len = Math.min(s.x.length, s.y.length);
  for (let i = 0; i < len; ++i) {
    const x = s.x[i], y = s.y[i];
    if (Number.isFinite(x) && y !== null && Number.isFinite(y)) pairs.push([x, y]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const x: number[] = [], y: number[] = [];
  for (const [px, py] of pairs) {
    if (x.length && x[x.length - 1] === px) y[y.length - 1] = py;
    else { x.push(px); y.push(py); }
  }
  return { x, y };
}

/** Linear interpolation of a cleaned series at `at`; null outside its x range. */
function interpolate(s: { x: number[]; y: number[] }, at: number[]): (number | null)[] {
  const out: (number | null)[] = new Array(at.length).fill(null);
  if (s.x.length === 0) return out;
  let j = 0;
  for (let i = 0; i < at.length; ++i) {
    const a = at[i];
    if (a < s.x[0] || a > s.x[s.x.length - 1]) continue;
    while (j + 1 < s.x.length && s.x[j + 1] < a) ++j;
    if (s.x[j] === a) { out[i] = s.y[j]; continue; }
    if (j + 1 >= s.x.length) { out[i] = s.x[j] === a ? s.y[j] : null; continue; }
    if (s.x[j + 1] === a) { out[i] = s.y[j + 1]; continue; }
    const t = (a - s.x[j]) / (s.x[j + 1] - s.x[j]);
    out[i] = s.y[j] + t * (s.y[j + 1] - s.y[j]);
  }
  return out;
}

/**
 * The x positions a band is computed at: the union of the runs' x values when it has at most
 * `max_points` entries, else `max_points` evenly spaced positions over the union's range.
 */
export function common_grid(series: { x: number[] }[], max_points = 1000): number[] {
  const all = new Set<number>();
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const x of s.x) {
    if (!Number.isFinite(x)) continue;
    all.add(x);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (all.size <= max_points) return [...all].sort((a, b) => a - b);
  const n = Math.max(2, max_points);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? hi : lo + ((hi - lo) * i) / (n - 1)));
}

/**
 * Mean and ±1 std band of several runs' series of one metric. Each run is linearly interpolated on
 * the common grid, only inside its own x range (a run that stopped early does not pull the mean
 * after its last point); null and non-finite points are skipped.
 */
export function aggregate_band(series: Series[], max_points = 1000): Band {
  const cleaned = series.map(clean).filter((s) => s.x.length > 0);
  const x = common_grid(cleaned, max_points);
  const cols = cleaned.map((s) => interpolate(s, x));
  const mean: (number | null)[] = [], std: (number | null)[] = [], lower: (number | null)[] = [],
    upper: (number | null)[] = [], n: number[] = [];
  for (let i = 0; i < x.length; ++i) {
    let count = 0, sum = 0;
    for (const c of cols) { const v = c[i]; if (v !== null) { ++count; sum += v; } }
    n.push(count);
    if (count === 0) { mean.push(null); std.push(null); lower.push(null); upper.push(null); continue; }
    const m = sum / count;
    let ss = 0;
    for (const c of cols) { const v = c[i]; if (v !== null) ss += (v - m) * (v - m); }
    const sd = count > 1 ? Math.sqrt(ss / (count - 1)) : 0;
    mean.push(m); std.push(sd); lower.push(m - sd); upper.push(m + sd);
  }
  return { x, mean, std, lower, upper, n };
}
