import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const clientDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(clientDir, '../..');
const require = createRequire(import.meta.url);
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const version = (pkg: string) => (require(path.join(root, 'node_modules', pkg, 'package.json')) as { version: string }).version;

/** A consumer that only type-checks if the router's types are real (not `any`). */
const CONSUMER = `
import { createDropwatchClient, type DropDto, type RouterInputs, type RouterOutputs } from '@dropwatch/client';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Assert<T extends true> = T;
type NotAny<T> = IsAny<T> extends true ? false : true;

const client = createDropwatchClient({ url: 'http://127.0.0.1:3000', token: 'dw_x' });

export async function poll(cursor?: string): Promise<string> {
  const page = await client.feed.newDrops.query({ cursor, limit: 50 });
  type Page = typeof page;
  type _page = Assert<NotAny<Page>>;
  type _drops = Assert<NotAny<Page['drops']>>;
  type _name = Assert<NotAny<Page['drops'][number]['venue']['name']>>;
  type _dto = Assert<NotAny<DropDto>>;
  type _in = Assert<NotAny<RouterInputs['feed']['newDrops']>>;
  type _out = Assert<NotAny<RouterOutputs['feed']['live']>>;
  const first: DropDto | undefined = page.drops[0];
  const opened: Date | undefined = first?.openedAt;
  const sizes: number[] | undefined = first?.partySizes;
  // @ts-expect-error -- the cursor is a string, not a number
  const wrong: number = page.cursor;
  // @ts-expect-error -- limit must be a number
  await client.feed.newDrops.query({ limit: 'ten' });
  // @ts-expect-error -- no such procedure
  await client.feed.nothing.query();
  void opened; void sizes; void wrong;
  const live = await client.feed.live.query({ market: 'nyc', partySizes: [2] });
  const justOpened: DropDto[] = live.justOpened;
  void justOpened;
  client.feed.onDrop.subscribe({ market: 'nyc' }, { onData: (e) => { const d: DropDto = e.data; const id: string = e.id; void d; void id; } });
  return page.cursor;
}
`;

/** Proves the assertion bites: the same check on an \`any\` must fail to compile. */
const ANY_PROBE = `
type IsAny<T> = 0 extends 1 & T ? true : false;
type Assert<T extends true> = T;
type NotAny<T> = IsAny<T> extends true ? false : true;
declare const page: any;
type _page = Assert<NotAny<typeof page>>;
export {};
`;

const tsconfig = (files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      // tRPC 11's own declarations use Disposable (TS 5.2+ lib esnext.disposable).
      lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
      types: [],
      noEmit: true,
      skipLibCheck: false,
    },
    files,
  });

describe('the packed client', () => {
  let work: string | undefined;
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs outside the workspace with only its runtime deps and infers real types under tsc --strict', async () => {
    // Fresh api declarations, then the client's build (JS + self-contained router types).
    await exec(process.execPath, [tsc, '-p', path.join(root, 'packages/api/tsconfig.build.json')], { cwd: root });
    await exec('npm', ['run', 'build'], { cwd: clientDir });
    const generated = await readFile(path.join(clientDir, 'dist/router-types.d.ts'), 'utf8');
    // Every module the generated types reference is @trpc/server (no workspace package, zod or ORM).
    const specifiers = [...generated.matchAll(/(?:import\(|from\s+)["']([^"']+)["']/g)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !/^@trpc\/server(\/|$)/.test(s!))).toEqual([]);

    work = await mkdtemp(path.join(tmpdir(), 'dropwatch-consumer-'));
    const packed = await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: clientDir });
    const tarball = path.join(work, packed.stdout.trim().split('\n').pop()!);

    const app = path.join(work, 'app');
    await exec('mkdir', ['-p', app]);
    await writeFile(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: {
          '@dropwatch/client': `file:${tarball}`,
          '@trpc/client': version('@trpc/client'),
          '@trpc/server': version('@trpc/server'),
          superjson: version('superjson'),
        },
      }),
    );
    const install = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
    try {
      await exec('npm', [...install, '--offline'], { cwd: app });
    } catch {
      // Not everything in the local cache: the registry, and nothing else.
      await exec('npm', [...install, '--prefer-offline'], { cwd: app });
    }
    const installed = JSON.parse(await readFile(path.join(app, 'node_modules/@dropwatch/client/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(installed.dependencies).sort()).toEqual(['@trpc/client', '@trpc/server', 'superjson']);

    await writeFile(path.join(app, 'consumer.ts'), CONSUMER);
    await writeFile(path.join(app, 'tsconfig.json'), tsconfig(['consumer.ts']));
    const checked = await exec(process.execPath, [tsc, '-p', app], { cwd: app }).catch((err: { stdout: string }) => err);
    expect('stdout' in checked ? checked.stdout : '').toBe('');

    await writeFile(path.join(app, 'probe.ts'), ANY_PROBE);
    await writeFile(path.join(app, 'tsconfig.probe.json'), tsconfig(['probe.ts']));
    const probe = await exec(process.execPath, [tsc, '-p', path.join(app, 'tsconfig.probe.json')], { cwd: app }).then(
      () => 'compiled',
      (err: { stdout: string }) => err.stdout,
    );
    expect(probe).toMatch(/probe\.ts.*TS2344/);

    // And the JS loads with nothing but those dependencies.
    const loaded = await exec(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('@dropwatch/client'); process.stdout.write(typeof m.createDropwatchClient)"],
      { cwd: app },
    );
    expect(loaded.stdout).toBe('function');
  }, 240_000);
});
