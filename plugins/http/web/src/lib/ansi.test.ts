import { describe, expect, it } from 'vitest';
import { is_progress_line, parse_ansi, strip_ansi } from './ansi';

describe('parse_ansi', () => {
  it('splits coloured text into styled segments', () => {
    const { segments } = parse_ansi('\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[0m');
    expect(segments.map((s) => s.text)).toEqual(['red', ' plain ', 'bold green']);
    expect(segments[0].style.fg).toBe('#cd3131');
    expect(segments[1].style.fg).toBeNull();
    expect(segments[2].style.bold).toBe(true);
    expect(segments[2].style.fg).toBe('#0dbc79');
  });

  it('supports 256-colour and true-colour sequences', () => {
    expect(parse_ansi('\x1b[38;5;196mx').segments[0].style.fg).toBe('rgb(255,0,0)');
    expect(parse_ansi('\x1b[48;2;1;2;3mx').segments[0].style.bg).toBe('rgb(1,2,3)');
  });

  it('carries the style across lines and drops non-SGR escapes', () => {
    const first = parse_ansi('\x1b[33mstart');
    const second = parse_ansi('\x1b[2Kcontinued', first.end);
    expect(second.segments).toHaveLength(1);
    expect(second.segments[0].text).toBe('continued');
    expect(second.segments[0].style.fg).toBe('#e5e510');
  });

  it('survives malformed sequences', () => {
    expect(parse_ansi('\x1b[38;5mx').segments.map((s) => s.text).join('')).toBe('x');
    expect(parse_ansi('').segments).toEqual([]);
  });
});

describe('strip_ansi / is_progress_line', () => {
  it('removes escapes', () => {
    expect(strip_ansi('\x1b[1mA\x1b[0mB\x1b]0;title\x07C')).toBe('ABC');
  });
  it('recognises tqdm bars and not ordinary lines', () => {
    expect(is_progress_line(' 42%|████▌     | 42/100 [00:03<00:04, 13.20it/s]')).toBe(true);
    expect(is_progress_line('epoch 3: loss=0.41 acc=0.93')).toBe(false);
  });
});
