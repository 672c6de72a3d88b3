import { describe, expect, it } from 'vitest';
import { diff_rows, flatten, format_bytes, format_duration, format_number, unflatten_namespace } from './format';

describe('format', () => {
  it('formats durations', () => {
    expect(format_duration(5)).toBe('5s');
    expect(format_duration(125)).toBe('2m 5s');
    expect(format_duration(3 * 3600 + 120)).toBe('3h 2m');
    expect(format_duration(90000)).toBe('1d 1h');
    expect(format_duration(null)).toBe('—');
    expect(format_duration(-1)).toBe('—');
  });
  it('formats bytes like the server size_human', () => {
    expect(format_bytes(0)).toBe('0 B');
    expect(format_bytes(58184)).toBe('56.82 KB');
    expect(format_bytes(undefined)).toBe('—');
  });
  it('formats numbers compactly', () => {
    expect(format_number(0.123456789)).toBe('0.123457');
    expect(format_number(1e-7)).toBe('1.0000e-7');
    expect(format_number(42)).toBe('42');
    expect(format_number(null)).toBe('—');
    expect(format_number({ a: 1 })).toBe('{"a":1}');
  });
});

describe('flatten / unflatten_namespace', () => {
  it('flattens nested objects with dots', () => {
    expect(flatten({ a: { b: 1, c: { d: 'x' } }, e: [1, 2] })).toEqual({ 'a.b': 1, 'a.c.d': 'x', e: [1, 2] });
  });
  it('turns the i18n endpoint keys back into a namespace tree', () => {
    const tree = unflatten_namespace({ 'web.nav.compare': 'Compare', 'web.app.title': 'R', 'common.x': 'other ns' }, 'web');
    expect(tree).toEqual({ nav: { compare: 'Compare' }, app: { title: 'R' } });
  });
});

describe('diff_rows', () => {
  it('marks keys whose values differ, missing keys included', () => {
    const rows = diff_rows([{ lr: 0.1, bs: 32, opt: { name: 'sgd' } }, { lr: 0.01, bs: 32 }]);
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(by.lr.differs).toBe(true);
    expect(by.bs.differs).toBe(false);
    expect(by['opt.name'].differs).toBe(true);
    expect(by['opt.name'].values).toEqual(['sgd', undefined]);
  });
});
