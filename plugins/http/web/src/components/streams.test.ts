import { describe, expect, it } from 'vitest';
import { apply_log_frame } from './LogViewer';
import { apply_rows, series_from_rows, type SeriesData } from './MetricCharts';

describe('apply_log_frame', () => {
  it('appends JSON-mode line batches', () => {
    const lines: string[] = [];
    apply_log_frame(JSON.stringify({ type: 'lines', first_line: 0, offset: 10, lines: ['a', 'b'] }), lines);
    apply_log_frame(JSON.stringify({ type: 'lines', lines: ['c'] }), lines);
    expect(lines).toEqual(['a', 'b', 'c']);
  });
  it('reports info and error frames without adding lines', () => {
    const lines: string[] = [];
    expect(apply_log_frame(JSON.stringify({ type: 'info', message: 'waiting' }), lines).info).toBe('waiting');
    expect(apply_log_frame(JSON.stringify({ type: 'error', detail: 'run not found' }), lines).error).toBe('run not found');
    expect(lines).toEqual([]);
  });
  it('clears the buffer on reset', () => {
    const lines = ['x', 'y'];
    expect(apply_log_frame(JSON.stringify({ type: 'reset', reason: 'file_truncated' }), lines).reset).toBe(true);
    expect(lines).toEqual([]);
  });
  it('understands the COMPAT raw text protocol', () => {
    const lines: string[] = [];
    expect(apply_log_frame('[info] No logs available yet. Waiting for logs to be created...', lines).info).toContain('No logs');
    apply_log_frame('epoch 1 {not json', lines);
    apply_log_frame('{broken json', lines);
    expect(lines).toEqual(['epoch 1 {not json', '{broken json']);
  });
});

describe('series_from_rows (COMPAT fallback)', () => {
  it('builds one series per numeric column, skipping nulls and strings', () => {
    const s = series_from_rows({
      columns: ['global_step', 'acc', 'loss', 'stage', 'time'], total: 3, sampled: 3,
      rows: [{ global_step: 1, loss: 1.0, acc: null, stage: 'train', time: 100 },
             { global_step: 2, loss: 0.5, acc: 0.7, stage: 'train', time: 101 },
             { global_step: 3, loss: 'oops', acc: 0.8, stage: 'eval', time: 102 }],
    }, 'step');
    expect(Object.keys(s).sort()).toEqual(['acc', 'loss']);
    expect(s.loss.x).toEqual([1, 2]);
    expect(s.acc.y).toEqual([0.7, 0.8]);
    expect(s.loss.stages).toEqual([[1, 'train'], [3, 'eval']]);
  });
  it('uses relative time when asked', () => {
    const s = series_from_rows({ columns: ['global_step', 'loss', 'time'], total: 2, sampled: 2,
                                 rows: [{ global_step: 1, loss: 1, time: 100 }, { global_step: 2, loss: 2, time: 105.5 }] }, 'relative_time');
    expect(s.loss.x).toEqual([0, 5.5]);
  });
});

describe('apply_rows (live metric frames)', () => {
  it('appends pushed rows per key, keeping non-finite values', () => {
    const map: Record<string, SeriesData> = { loss: { x: [1], y: [1], total: 1, stages: [] } };
    const touched = apply_rows(map, [
      { global_step: 2, time: 10, stage: null, values: { loss: 0.5, acc: 'NaN' } },
      { global_step: 3, time: 11, stage: null, values: { loss: 0.25 } },
    ], 'step', null);
    expect([...touched].sort()).toEqual(['acc', 'loss']);
    expect(map.loss.x).toEqual([1, 2, 3]);
    expect(map.loss.total).toBe(3);
    expect(map.acc.y[0]).toBeNaN();
  });
  it('ignores rows without the x value', () => {
    const map: Record<string, SeriesData> = {};
    apply_rows(map, [{ global_step: null, time: null, stage: null, values: { loss: 1 } }], 'time', null);
    expect(map).toEqual({});
  });
});
