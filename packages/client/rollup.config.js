// @ts-check
/**
 * Bundles the client's declarations into one self-contained dist/index.d.ts: the api's router
 * types (in which tsc already expanded every procedure's input and output) and the workspace
 * types they name are inlined, so the published client compiles with only @trpc/client,
 * @trpc/server and superjson installed.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { dts } from 'rollup-plugin-dts';
import ts from 'typescript';

const require = createRequire(import.meta.url);
/**
 * Where tsc writes the unbundled declarations (tsconfig.build.json's declarationDir). Left in
 * place (the package's `files` leaves it out): deleting it would break a build running beside.
 */
const unbundled = 'dist/types-unbundled';
/** The only packages the bundled types may import: the consumer installs them (peers). */
const PEERS = /^@trpc\/(client|server)(\/|$)/;
/** Inlined, so the consumer needs none of them. */
const WORKSPACE = /^@dropwatch\//;
// The api's dist folder, found through its package exports like any other import.
const apiDist = path.dirname(require.resolve('@dropwatch/api'));
const apiContext = path.join(apiDist, 'context.d.ts');
const OPAQUE_CONTEXT =
  "/** The server's per-request context (database session, config, user); opaque to clients. */\n" +
  'export interface Context { readonly __serverContext: never }';

/**
 * The router's types name the server's request context (ORM session, config, signals), which
 * would drag the ORM's and zod's declarations into the client. No client type depends on
 * what it holds, so the api's `Context` is replaced by an opaque stand-in; the rest of that
 * module stays as it is, for the api modules that import it.
 * @returns {import('rollup').Plugin}
 */
function opaqueServerContext() {
  return {
    name: 'opaque-server-context',
    transform(code, id) {
      if (realpathSync(id) !== apiContext) return null;
      const source = ts.createSourceFile(id, code, ts.ScriptTarget.ES2022, true);
      const context = source.statements.find((st) => ts.isInterfaceDeclaration(st) && st.name.text === 'Context');
      if (!context) return this.error(`${id} declares no interface Context to make opaque`);
      return { code: code.slice(0, context.getStart(source)) + OPAQUE_CONTEXT + code.slice(context.end), map: null };
    },
  };
}

/**
 * Fails the build when the bundle still imports anything a consumer would not have installed
 * (zod, the ORM, a workspace package), instead of shipping types that do not compile.
 * @returns {import('rollup').Plugin}
 */
function onlyPeerImports() {
  return {
    name: 'only-peer-imports',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const stray = [...chunk.imports, ...chunk.dynamicImports].filter((id) => !PEERS.test(id));
        if (stray.length > 0)
          this.error(`${chunk.fileName} would import ${stray.join(', ')}, which a consumer does not install`);
      }
    },
  };
}

export default {
  input: `${unbundled}/index.d.ts`,
  output: { file: 'dist/index.d.ts', format: 'es' },
  // Workspace packages are resolved and inlined; everything else stays an import, which
  // onlyPeerImports then allows for the tRPC peers only.
  external: (id) => !WORKSPACE.test(id) && !id.startsWith('.') && !id.startsWith('\0') && !path.isAbsolute(id),
  plugins: [opaqueServerContext(), dts({ respectExternal: true, tsconfig: 'tsconfig.build.json' }), onlyPeerImports()],
};
