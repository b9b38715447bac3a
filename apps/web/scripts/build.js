// Bundles the dashboard and a standalone browser build of @dropwatch/client into dist/.
// esbuild because the dashboard is one small page: no framework, no dev server needed.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const staticDir = path.join(dist, 'static');
await rm(dist, { recursive: true, force: true });
await mkdir(staticDir, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'browser',
  target: ['es2022'],
  legalComments: 'none',
  logLevel: 'warning',
};
// The dashboard: content-hashed names, so the server can let browsers cache them for good.
const app = await build({
  ...common,
  entryPoints: { app: path.join(root, 'src/main.ts'), style: path.join(root, 'src/style.css') },
  entryNames: '[name]-[hash]',
  format: 'esm',
  outdir: staticDir,
  metafile: true,
});
// The SDK for pages on other origins (a plain <script> defines window.Dropwatch): a stable name.
await build({
  ...common,
  entryPoints: { 'dropwatch-client': path.join(root, 'src/sdk-global.ts') },
  format: 'iife',
  outdir: staticDir,
});

const outputs = Object.entries(app.metafile.outputs).filter(([, o]) => o.entryPoint);
const nameOf = (ext) => path.basename(outputs.find(([file]) => file.endsWith(ext))[0]);
const html = (await readFile(path.join(root, 'src/index.html'), 'utf8'))
  .replace('%APP_JS%', `/static/${nameOf('.js')}`)
  .replace('%APP_CSS%', `/static/${nameOf('.css')}`);
await writeFile(path.join(dist, 'index.html'), html);
const size = (await readFile(path.join(staticDir, nameOf('.js')))).length;
const digest = createHash('sha256').update(html).digest('hex').slice(0, 8);
process.stdout.write(`web: dist/index.html (${digest}), app ${Math.round(size / 1024)} KB minified\n`);
