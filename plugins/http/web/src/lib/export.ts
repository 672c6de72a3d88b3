// Run-table export (API.md §4.1: built in the browser from /api/runs pages). Pure builders plus a
// save helper.
import type { RunListItem } from '../api/types';
import { flatten } from './format';
import { to_csv } from './series';

export function runs_to_csv(runs: RunListItem[]): string {
  const base = ['id', 'path', 'alias', 'status', 'tags', 'created_time', 'started_at', 'ended_at', 'duration',
                'best_metric_name', 'best_metric_value', 'last_step', 'hostname', 'assets_count'];
  const extra = new Set<string>();
  const flats = runs.map((r) => {
    const f: Record<string, unknown> = {};
    for (const group of ['summary', 'config'] as const) {
      const o = r[group];
      if (o) for (const [k, v] of Object.entries(flatten(o))) { f[`${group}.${k}`] = v; extra.add(`${group}.${k}`); }
    }
    return f;
  });
  const extra_cols = [...extra].sort();
  const rows = runs.map((r, i) => [
    ...base.map((k) => (k === 'tags' ? (r.tags ?? []).join(';') : (r as unknown as Record<string, unknown>)[k])),
    ...extra_cols.map((k) => flats[i][k]),
  ]);
  return to_csv([...base, ...extra_cols], rows);
}

export function save_text(name: string, text: string, type: string): void {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
