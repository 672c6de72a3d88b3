import { describe, expect, it } from 'vitest';
import { aggregate_band, common_grid, group_label, group_runs, groupable_keys } from './group';

describe('group_runs', () => {
  const runs = [
    { id: 'a', config: { lr: 0.1, opt: { name: 'sgd' } } },
    { id: 'b', config: { lr: 0.01, opt: { name: 'sgd' } } },
    { id: 'c', config: { lr: 0.1, opt: { name: 'adam' } } },
    { id: 'd', config: {} },
    { id: 'e', config: { lr: '0.1' } },
  ];
  it('puts runs with equal values in one group, in first-member order, missing last', () => {
    expect(group_runs(runs, 'lr')).toEqual([
      { label: '0.1', members: ['a', 'c', 'e'] },
      { label: '0.01', members: ['b'] },
      { label: '∅', members: ['d'] },
    ]);
  });
  it('reads dotted keys of nested configs', () => {
    expect(group_runs(runs, 'opt.name').map((g) => g.members)).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
  });
  it('gives one group of everything for an unknown key', () => {
    expect(group_runs(runs, 'nope')).toEqual([{ label: '∅', members: ['a', 'b', 'c', 'd', 'e'] }]);
  });
  it('labels values', () => {
    expect(group_label(true)).toBe('true');
    expect(group_label(null)).toBe('null');
    expect(group_label('x')).toBe('x');
    expect(group_label(undefined)).toBe('∅');
  });
});

describe('groupable_keys', () => {
  it('lists scalar keys, differing ones first', () => {
    expect(groupable_keys([{ a: 1, b: 2, c: [1], d: { e: 'x' } }, { a: 1, b: 3, d: { e: 'x' } }]))
      .toEqual(['b', 'a', 'd.e']);
  });
  it('counts a key missing from some runs as differing', () => {
    expect(groupable_keys([{ a: 1, z: 0 }, { z: 0 }])).toEqual(['a', 'z']);
  });
});

describe('common_grid', () => {
  it('is the sorted union when small', () => {
    expect(common_grid([{ x: [0, 2, 4] }, { x: [1, 2, NaN] }])).toEqual([0, 1, 2, 4]);
  });
  it('is evenly spaced over the range when the union is large', () => {
    const g = common_grid([{ x: Array.from({ length: 100 }, (_, i) => i) }, { x: [0.5, 200] }], 5);
    expect(g).toEqual([0, 50, 100, 150, 200]);
  });
});

describe('aggregate_band', () => {
  it('computes mean and sample std on a shared grid', () => {
    const b = aggregate_band([{ x: [0, 1, 2], y: [1, 2, 3] }, { x: [0, 1, 2], y: [3, 4, 5] }]);
    expect(b.x).toEqual([0, 1, 2]);
    expect(b.mean).toEqual([2, 3, 4]);
    for (const s of b.std) expect(s).toBeCloseTo(Math.SQRT2, 12);
    expect(b.lower[0]).toBeCloseTo(2 - Math.SQRT2, 12);
    expect(b.upper[2]).toBeCloseTo(4 + Math.SQRT2, 12);
    expect(b.n).toEqual([2, 2, 2]);
  });
  it('interpolates runs logged at different steps', () => {
    const b = aggregate_band([{ x: [0, 10], y: [0, 10] }, { x: [0, 5, 10], y: [2, 2, 2] }]);
    expect(b.x).toEqual([0, 5, 10]);
    expect(b.mean).toEqual([1, 3.5, 6]);
  });
  it('does not extend a run past its last point', () => {
    const b = aggregate_band([{ x: [0, 1, 2, 3], y: [1, 1, 1, 1] }, { x: [0, 1], y: [3, 3] }]);
    expect(b.mean).toEqual([2, 2, 1, 1]);
    expect(b.n).toEqual([2, 2, 1, 1]);
    expect(b.std[3]).toBe(0);
  });
  it('skips null and non-finite points', () => {
    const b = aggregate_band([{ x: [0, 1, 2], y: [1, null, NaN] }, { x: [0, 1, 2], y: [3, 3, 3] }]);
    expect(b.mean).toEqual([2, 3, 3]);
    expect(b.n).toEqual([2, 1, 1]);
  });
  it('gives an empty band for no data', () => {
    expect(aggregate_band([])).toEqual({ x: [], mean: [], std: [], lower: [], upper: [], n: [] });
    expect(aggregate_band([{ x: [1], y: [null] }]).x).toEqual([]);
  });
  it('keeps the last value of a duplicated step', () => {
    const b = aggregate_band([{ x: [0, 0, 1], y: [5, 1, 1] }]);
    expect(b.mean).toEqual([1, 1]);
  });
});
