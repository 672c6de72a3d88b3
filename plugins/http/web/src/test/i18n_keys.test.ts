// Every translation key the UI uses exists in the English catalog, and zh-CN has exactly the same
// keys (so no page shows an untranslated key or English text in 简体中文).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import en from '@locales/en/web.json';
import zh from '@locales/zh-CN/web.json';

function keys(o: Record<string, unknown>, p = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${p}${k}.`) : [`${p}${k}`]));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f) ? [full] : [];
  });
}

const en_keys = new Set(keys(en));
const zh_keys = new Set(keys(zh));
// A key with plural forms is used without its _one/_other suffix.
const base = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');
const usable = new Set([...en_keys, ...[...en_keys].map(base)]);

describe('translation catalogs', () => {
  it('zh-CN has the same keys as en', () => {
    expect([...en_keys].filter((k) => !zh_keys.has(k))).toEqual([]);
    expect([...zh_keys].filter((k) => !en_keys.has(k))).toEqual([]);
  });

  it('has no empty strings', () => {
    const empty = (o: Record<string, unknown>) => keys(o).filter((k) => k.split('.').reduce<unknown>((n, s) => (n as Record<string, unknown>)[s], o) === '');
    expect(empty(en)).toEqual([]);
    expect(empty(zh)).toEqual([]);
  });

  it('every literal t("...") key in the sources exists', () => {
    const src_dir = path.resolve(__dirname, '..');
    const missing: string[] = [];
    for (const file of sources(src_dir)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'/g)) {
        if (!usable.has(m[1])) missing.push(`${path.relative(src_dir, file)}: ${m[1]}`);
      }
      // Template keys such as t(`status.${s}`) and t(`assets.type_${v}`): the prefix must exist.
      for (const m of text.matchAll(/\bt\(\s*`([a-z_]+\.[a-z_]*)\$\{/g)) {
        if (![...en_keys].some((k) => k.startsWith(m[1]))) missing.push(`${path.relative(src_dir, file)}: ${m[1]}*`);
      }
    }
    expect(missing).toEqual([]);
  });
});
