import { describe, expect, it } from 'vitest';
import type { RunListItem } from '../api/types';
import { apply_run_event, parse_run_event } from './run_stream';

const run = (id: string, status = 'running'): RunListItem => ({
  id, run_dir: `/s/${id}`, created_time: 1, status, pid: null, best_metric_value: null, best_metric_name: null,
  path: 'p', alias: null, tags: [], assets_count: 0,
});

describe('parse_run_event', () => {
  it('reads upserts and deletes', () => {
    expect(parse_run_event(JSON.stringify({ op: 'upsert', run: run('a') }))?.run.id).toBe('a');
    expect(parse_run_event(JSON.stringify({ op: 'delete', run: { id: 'b' } }))?.op).toBe('delete');
  });
  it('rejects anything else', () => {
    expect(parse_run_event('not json')).toBeNull();
    expect(parse_run_event('null')).toBeNull();
    expect(parse_run_event(JSON.stringify({ op: 'rename', run: run('a') }))).toBeNull();
    expect(parse_run_event(JSON.stringify({ op: 'upsert' }))).toBeNull();
    expect(parse_run_event(JSON.stringify({ op: 'upsert', run: { id: 3 } }))).toBeNull();
  });
});

describe('apply_run_event', () => {
  const rows = [run('a'), run('b'), run('c')];
  it('replaces a row on the page in place', () => {
    const r = apply_run_event(rows, { op: 'upsert', run: { ...run('b', 'finished'), last_step: 9 } });
    expect(r.outside).toBe(false);
    expect(r.rows.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(r.rows[1].status).toBe('finished');
    expect(r.rows[1].last_step).toBe(9);
    expect(rows[1].status).toBe('running');
  });
  it('removes a deleted row', () => {
    const r = apply_run_event(rows, { op: 'delete', run: run('a') });
    expect(r.rows.map((x) => x.id)).toEqual(['b', 'c']);
    expect(r.outside).toBe(false);
  });
  it('flags runs that are not on the page', () => {
    const r = apply_run_event(rows, { op: 'upsert', run: run('z') });
    expect(r.outside).toBe(true);
    expect(r.rows).toBe(rows);
  });
});
