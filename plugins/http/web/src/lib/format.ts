// Display formatting: durations, times, byte sizes, numbers. Pure functions.

export function format_duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${r}s`;
  return `${r}s`;
}

export function format_time(unix: number | null | undefined, locale?: string): string {
  if (unix === null || unix === undefined || !Number.isFinite(unix) || unix <= 0) return '—';
  const d = new Date(unix * 1000);
  return d.toLocaleString(locale, { year: 'numeric', month: '2-digit', day: '2-digit',
                                    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function format_bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n, i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; ++i; }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(2)} ${units[i]}`;
}

export function format_number(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(4);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Flattens {"a": {"b": 1}} into {"a.b": 1} (config/summary tables and diffs). */
export function flatten(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const entries = Object.entries(obj as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = obj;
  }
  return out;
}

/** Turns {"web.a.b": "x"} (the i18n endpoint's flattened keys) into {"a": {"b": "x"}} for namespace `ns`. */
export function unflatten_namespace(messages: Record<string, string>, ns: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prefix = `${ns}.`;
  for (const [full, text] of Object.entries(messages)) {
    if (!full.startsWith(prefix)) continue;
    const parts = full.slice(prefix.length).split('.');
    let node = out;
    for (let i = 0; i < parts.length - 1; ++i) {
      const next = node[parts[i]];
      if (!next || typeof next !== 'object') node[parts[i]] = {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = text;
  }
  return out;
}

/** Rows of a config/summary diff: every flattened key, with `differs` when runs disagree. */
export function diff_rows(objects: Record<string, unknown>[]): { key: string; values: unknown[]; differs: boolean }[] {
  const flat = objects.map((o) => flatten(o ?? {}));
  const keys = new Set<string>();
  flat.forEach((f) => Object.keys(f).forEach((k) => keys.add(k)));
  return [...keys].sort().map((key) => {
    const values = flat.map((f) => f[key]);
    const first = JSON.stringify(values[0] ?? null);
    const differs = values.some((v) => JSON.stringify(v ?? null) !== first);
    return { key, values, differs };
  });
}
