import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const readJson = (p: string) => JSON.parse(readFileSync(path.join(root, p), 'utf8')) as Record<string, unknown>;

/** Declared but reached in ways an import scan cannot see. */
const NOT_IMPORTED_BUT_NEEDED: Record<string, readonly string[]> = {
  // The generated .d.ts of the client reference @trpc/server types.
  'packages/client': ['@trpc/server'],
};

/** The module a dependency is imported as: `@types/x` types the untyped package x (`@types/a__b`: @a/b). */
function importedAs(dep: string): string {
  if (!dep.startsWith('@types/')) return dep;
  const name = dep.slice('@types/'.length);
  return name.includes('__') ? `@${name.replace('__', '/')}` : name;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

describe('workspace manifests', () => {
  const workspaces = readJson('package.json').workspaces as string[];

  it.each(workspaces)('%s imports every dependency it declares', (ws) => {
    const pkg = readJson(`${ws}/package.json`) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const text = sources(path.join(root, ws)).join('\n');
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    const unused = declared.filter(
      (dep) =>
        !(NOT_IMPORTED_BUT_NEEDED[ws] ?? []).includes(dep) &&
        !new RegExp(`['"]${importedAs(dep).replace(/[./]/g, '\\$&')}(/[^'"]*)?['"]`).test(text),
    );
    expect(unused).toEqual([]);
  });

  it('engines and .nvmrc name a Node the toolchain runs on (vite 8.3 wants ^20.19)', () => {
    const engines = (readJson('package.json').engines as { node: string }).node;
    const vite = (readJson('node_modules/vite/package.json').engines as { node: string }).node;
    expect(engines).toBe(vite);
    const nvmrc = readFileSync(path.join(root, '.nvmrc'), 'utf8').trim();
    expect(nvmrc).toBe('20');
  });
});
