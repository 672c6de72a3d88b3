import { describe, expect, it } from 'vitest';
import { append_capped, best_index, ema, has_best, lower_is_better, to_csv, to_number } from './series';

describe('to_number', () => {
  it('maps the non-finite strings of the series API', () => {
    expect(to_number('NaN')).toBeNaN();
    expect(to_number('Infinity')).toBe(Infinity);
    expect(to_number('-Infinity')).toBe(-Infinity);
    expect(to_number(1.5)).toBe(1.5);
    expect(to_number(null)).toBeNull();
    expect(to_number('abc')).toBeNull();
  });
});

describe('ema', () => {
  it('returns the input unchanged at weight 0', () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });
  it('is debiased: a constant series stays constant', () => {
    for (const v of ema([5, 5, 5, 5], 0.9)) expect(v).toBeCloseTo(5, 10);
  });
  it('smooths a step and passes non-finite points through', () => {
    const out = ema([0, 0, NaN, 10, null], 0.5);
    expect(out[2]).toBeNaN();
    expect(out[4]).toBeNull();
    expect(out[3]).toBeGreaterThan(0);
    expect(out[3]).toBeLessThan(10);
  });
});

describe('best_index', () => {
  it('finds min or max ignoring non-finite values', () => {
    expect(best_index([3, NaN, 1, null, 2], 'min')).toBe(2);
    expect(best_index([3, Infinity, 1, 4], 'max')).toBe(3);
    expect(best_index([null, NaN], 'min')).toBe(-1);
  });
  it('guesses the direction from the name', () => {
    expect(lower_is_better('val/loss')).toBe(true);
    expect(lower_is_better('accuracy')).toBe(false);
  });

  it('marks no best point on counters and schedules', () => {
    expect(has_best('epoch')).toBe(false);
    expect(has_best('lr')).toBe(false);
    expect(has_best('train/learning_rate')).toBe(false);
    expect(has_best('time')).toBe(false);
    expect(has_best('loss')).toBe(true);
    expect(has_best('val/acc')).toBe(true);
    expect(has_best('lr_finder_loss')).toBe(false);
  });
});

describe('to_csv', () => {
  it('quotes cells that need it', () => {
    expect(to_csv(['a', 'b'], [[1, 'x,y'], [NaN, 'say "hi"']])).toBe('a,b\r\n1,"x,y"\r\nNaN,"say ""hi"""\r\n');
  });
});

describe('append_capped', () => {
  it('appends and keeps the size bounded, with the newest points intact', () => {
    let s = { x: [] as number[], y: [] as (number | null)[] };
    for (let i = 0; i < 100; ++i) s = append_capped(s.x, s.y, [i], [i * 2], 20);
    expect(s.x.length).toBeLessThanOrEqual(20);
    expect(s.x[s.x.length - 1]).toBe(99);
    expect(s.y[s.y.length - 1]).toBe(198);
    expect(s.x[0]).toBe(0);
    for (let i = 1; i < s.x.length; ++i) expect(s.x[i]).toBeGreaterThan(s.x[i - 1]);
  });
});
