// Every string of the admin app goes through an i18n key, in English and in French (SPEC §13):
// a key missing in one language, or used in the code and missing from both, shows raw to a user.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');
type Tree = { [key: string]: string | Tree };
const I18N = join(SRC, 'i18n');
/** One file per area and language (`<area>.<language>.json`); an area owns its top-level keys. */
function load(language: string): Tree {
  const merged: Tree = {};
  for (const file of readdirSync(I18N).filter((name) => name.endsWith(`.${language}.json`))) {
    const tree = JSON.parse(readFileSync(join(I18N, file), 'utf8')) as Tree;
    for (const key of Object.keys(tree)) if (key in merged) throw new Error(`top-level key "${key}" of ${file} is already owned by another area`);
    Object.assign(merged, tree);
  }
  return merged;
}

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const en = flatten(load('en'));
const fr = flatten(load('fr'));
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe('admin app translations', () => {
  it('English and French have the same keys', () => {
    expect([...en.keys()].filter((k) => !fr.has(k)), 'missing in the French files').toEqual([]);
    expect([...fr.keys()].filter((k) => !en.has(k)), 'missing in the English files').toEqual([]);
  });

  it('a translation keeps the placeholders of the English text and is never empty', () => {
    for (const [key, text] of en) {
      expect(placeholders(fr.get(key) ?? ''), key).toEqual(placeholders(text));
      expect(text.trim(), key).not.toBe('');
      expect((fr.get(key) ?? '').trim(), key).not.toBe('');
    }
  });

  it('every key the code names exists (t("…"), i18nKey="…", nav: "…")', () => {
    const used = new Map<string, string>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([\w.-]+)'|i18nKey="([\w.-]+)"|\b(?:nav|labelKey): '([\w.-]+)'/g)) used.set(m[1] ?? m[2] ?? m[3]!, file);
      // t(`prefix.${x}`): at least one key must exist under the prefix.
      for (const m of text.matchAll(/\bt\(\s*`([\w.-]+)\.\$\{/g)) used.set(`${m[1]}.*`, file);
    }
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter(([key]) => (key.endsWith('.*') ? ![...en.keys()].some((k) => k.startsWith(key.slice(0, -1))) : !en.has(key)));
    expect(missing.map(([key, file]) => `${key} (${file.slice(SRC.length + 1)})`)).toEqual([]);
  });
});
