// ANSI SGR (colour) escape parsing for the log viewer. Only SGR sequences (ESC [ ... m) change
// style; every other escape sequence (cursor moves, erase line) is removed. Pure and synchronous.

export interface AnsiStyle {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

const kBase = ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5'];
const kBright = ['#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'];

export function empty_style(): AnsiStyle {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
}

function color_256(n: number): string {
  if (n < 8) return kBase[n];
  if (n < 16) return kBright[n - 8];
  if (n < 232) {
    const i = n - 16;
    const steps = [0, 95, 135, 175, 215, 255];
    const r = steps[Math.floor(i / 36)], g = steps[Math.floor(i / 6) % 6], b = steps[i % 6];
    return `rgb(${r},${g},${b})`;
  }
  const v = 8 + (n - 232) * 10;
  return `rgb(${v},${v},${v})`;
}

function apply_sgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const s = { ...style };
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; ++i) {
    const p = params[i];
    if (p === 0) Object.assign(s, empty_style());
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 22) { s.bold = false; s.dim = false; }
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p >= 30 && p <= 37) s.fg = kBase[p - 30];
    else if (p === 39) s.fg = null;
    else if (p >= 40 && p <= 47) s.bg = kBase[p - 40];
    else if (p === 49) s.bg = null;
    else if (p >= 90 && p <= 97) s.fg = kBright[p - 90];
    else if (p >= 100 && p <= 107) s.bg = kBright[p - 100];
    else if (p === 38 || p === 48) {
      const mode = params[i + 1];
      let col: string | null = null;
      if (mode === 5 && i + 2 < params.length) {
        col = color_256(params[i + 2] & 255);
        i += 2;
      } else if (mode === 2 && i + 4 < params.length) {
        col = `rgb(${params[i + 2] & 255},${params[i + 3] & 255},${params[i + 4] & 255})`;
        i += 4;
      } else {
        break;
      }
      if (p === 38) s.fg = col; else s.bg = col;
    }
  }
  return s;
}

// CSI sequences and OSC sequences (terminated by BEL or ESC \).
// eslint-disable-next-line no-control-regex
const kEscape = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]/g;

/** Splits one line into styled segments; `start` is the style carried over from earlier lines. */
export function parse_ansi(line: string, start: AnsiStyle = empty_style()): { segments: AnsiSegment[]; end: AnsiStyle } {
  const segments: AnsiSegment[] = [];
  let style = start;
  let last = 0;
  kEscape.lastIndex = 0;
  let m: RegExpExecArray | null;
  const push = (text: string) => {
    if (!text) return;
    const prev = segments[segments.length - 1];
    if (prev && prev.style === style) prev.text += text;
    else segments.push({ text, style });
  };
  while ((m = kEscape.exec(line)) !== null) {
    push(line.slice(last, m.index));
    if (m[2] === 'm') {
      const params = m[1] === '' ? [] : m[1].split(';').map((x) => (x === '' ? 0 : Number(x)));
      if (params.every((x) => Number.isFinite(x))) style = apply_sgr(style, params);
    }
    last = kEscape.lastIndex;
  }
  push(line.slice(last));
  return { segments, end: style };
}

/** The line without any escape sequence (for search and copy). */
export function strip_ansi(line: string): string {
  return line.replace(kEscape, '');
}

/** True for a tqdm-style progress line (`42%|████▌ | 42/100 [00:03<00:04, 13.2it/s]`). */
export function is_progress_line(line: string): boolean {
  const s = strip_ansi(line);
  return /\d+%\|.*\|\s*\d+(\.\d+)?[kMG]?\/\d+/.test(s) || /\|\s*\d+\/\d+\s*\[\d+:\d+<[^\]]*\]/.test(s) ||
         /\d+(\.\d+)?(it|s)\/(s|it)\]\s*$/.test(s);
}
