/**
 * Generates dist/router-types.d.ts: the api's router declaration (packages/api/dist/router.d.ts,
 * in which tsc already expanded every procedure's input and output) made self-contained, so the
 * packed client compiles with only @trpc/client, @trpc/server and superjson installed.
 *
 * - `import("<module>").Name` references to the api's own modules and to other workspace
 *   packages are replaced by `Name`, and Name's declaration is copied in from that module's
 *   .d.ts (following `export *` re-exports).
 * - Server-only types the client never touches (the request Context, which holds the ORM's
 *   EntityManager) become opaque: see OPAQUE.
 * - `appRouter` is declared, not exported (the client has no such runtime value), and
 *   `createCaller` (server-side) is dropped.
 * The build fails if anything but `@trpc/server` is still referenced.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.resolve(here, '..');
const apiDist = path.resolve(clientDir, '../api/dist');
const workspacePackages = path.resolve(clientDir, '..');
const out = path.join(clientDir, 'dist/router-types.d.ts');

/** Server-side types replaced by an opaque stand-in: clients never see the request context. */
const OPAQUE: Record<string, string> = {
  Context: '/** The server\'s per-request context (database session, config, user); opaque to clients. */\ntype Context = { readonly __serverContext: never };',
};
const ALLOWED = /^@trpc\/server(\/|$)/;

function resolveModule(spec: string, fromDir: string): string {
  if (spec.startsWith('.')) return path.resolve(fromDir, spec.replace(/\.js$/, '.d.ts'));
  const m = /^@dropwatch\/([^/]+)$/.exec(spec);
  if (m?.[1]) return path.join(workspacePackages, m[1], 'dist/index.d.ts');
  throw new Error(`router types reference ${spec}, which the packed client cannot resolve`);
}

/** The declaration text of `name` in `file` (or a module it re-exports), without `export`. */
function findDeclaration(file: string, name: string, seen = new Set<string>()): { text: string; file: string } {
  if (seen.has(file)) throw new Error(`cycle looking for ${name}`);
  seen.add(file);
  if (!existsSync(file)) throw new Error(`missing ${file} (build @dropwatch/api and its dependencies first)`);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  for (const st of source.statements) {
    if ((ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name.text === name) {
      const text = st.getText(source).replace(/^export\s+/, '').replace(/^declare\s+/, '');
      const jsDoc = ts.getJSDocCommentsAndTags(st).map((d) => d.getText(source)).join('\n');
      return { text: jsDoc ? `${jsDoc}\n${text}` : text, file };
    }
  }
  for (const st of source.statements) {
    if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const target = resolveModule(st.moduleSpecifier.text, path.dirname(file));
    const clause = st.exportClause;
    if (!clause) {
      try {
        return findDeclaration(target, name, seen);
      } catch {
        continue;
      }
    }
    if (ts.isNamedExports(clause)) {
      const el = clause.elements.find((e) => e.name.text === name);
      if (el) return findDeclaration(target, (el.propertyName ?? el.name).text, seen);
    }
  }
  throw new Error(`no declaration of ${name} in ${file}`);
}

function generate(): string {
  const routerFile = path.join(apiDist, 'router.d.ts');
  const source = ts.createSourceFile(routerFile, readFileSync(routerFile, 'utf8'), ts.ScriptTarget.ES2022, true);
  const imports: string[] = [];
  const kept: string[] = [];
  for (const st of source.statements) {
    const text = st.getText(source);
    if (ts.isImportDeclaration(st)) {
      const spec = (st.moduleSpecifier as ts.StringLiteral).text;
      if (!ALLOWED.test(spec)) throw new Error(`router.d.ts imports ${spec}`);
      imports.push(text);
    } else if (ts.isVariableStatement(st)) {
      const names = st.declarationList.declarations.map((d) => d.name.getText(source));
      if (names.includes('appRouter')) kept.push(text.replace(/^export\s+declare\s+const/, 'declare const'));
      // createCaller and any other runtime value stay on the server.
    } else {
      kept.push(text);
    }
  }
  let body = kept.join('\n');

  const helpers = new Map<string, string>();
  const pending: { spec: string; name: string; fromDir: string }[] = [];
  const rewrite = (text: string, fromDir: string) =>
    text.replace(/import\("([^"]+)"\)\.([A-Za-z_$][\w$]*)/g, (whole, spec: string, name: string) => {
      if (ALLOWED.test(spec)) return whole;
      pending.push({ spec, name, fromDir });
      return name;
    });
  body = rewrite(body, apiDist);
  while (pending.length > 0) {
    const { spec, name, fromDir } = pending.shift()!;
    if (helpers.has(name)) continue;
    if (OPAQUE[name]) {
      helpers.set(name, OPAQUE[name]);
      continue;
    }
    const found = findDeclaration(resolveModule(spec, fromDir), name);
    helpers.set(name, rewrite(found.text, path.dirname(found.file)));
  }

  const text = [
    '// Generated by packages/client/scripts/bundle-router-types.ts from @dropwatch/api. Do not edit.',
    ...imports,
    ...[...helpers.values()],
    body,
    '/** The drop every feed returns. */',
    "export type DropDto = RouterOutputs['feed']['justOpened']['drops'][number];",
    '',
  ].join('\n');
  const leftovers = [...text.matchAll(/(?:import\(|from\s+)["']([^"']+)["']/g)].map((m) => m[1]).filter((s) => s && !ALLOWED.test(s));
  if (leftovers.length > 0) throw new Error(`generated types still reference: ${[...new Set(leftovers)].join(', ')}`);
  return text;
}

writeFileSync(out, generate());
rmSync(`${out}.map`, { force: true });
process.stdout.write(`wrote ${path.relative(clientDir, out)}\n`);
