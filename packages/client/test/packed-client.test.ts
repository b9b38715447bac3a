/**
 * The client as a consumer gets it: packed, installed outside the workspace with nothing but
 * its peers, and type-checked by a strict consumer, once against the lowest tRPC (and
 * superjson) its peer ranges allow, with a React Query app, and once against the newest.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const clientDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(clientDir, '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

interface Manifest {
  private?: boolean;
  sideEffects?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** A consumer that only type-checks if the router's types are real (not `any`). */
const CONSUMER = `
import {
  createDropwatchClient, destinationTarget, DESTINATION_CHANNEL_LABELS, DESTINATION_CHANNELS, TRPCClientError,
  type AppRouter, type Destination, type DestinationChannel, type DropDto, type RouterInputs, type RouterOutputs,
} from '@dropwatch/client';

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

/** The destination channels, typed by the router's own union. */
export function channelChoices(d: Destination): string[] {
  type _channel = Assert<NotAny<DestinationChannel>>;
  const add: RouterInputs['destinations']['add']['channel'] = DESTINATION_CHANNELS[0]!;
  // @ts-expect-error -- no such channel
  void DESTINATION_CHANNEL_LABELS.sms;
  return [add, ...DESTINATION_CHANNELS.map((c) => DESTINATION_CHANNEL_LABELS[c]), destinationTarget(d)];
}

/** The error shape the README documents: code, input issues, domain code. */
export function describeError(err: unknown): string {
  if (!(err instanceof TRPCClientError)) return 'unexpected';
  const e = err as TRPCClientError<AppRouter>;
  const code: string | undefined = e.data?.code;
  const issue: { path: readonly (string | number)[]; message: string } | undefined = e.data?.zodError?.issues[0];
  const appCode: string | null | undefined = e.data?.appCode;
  return [code, issue?.message, appCode, e.message].join(' ');
}
`;

/** A React Query app, built the way the README shows it, with the SDK's links. */
const REACT_CONSUMER = `
import { QueryClient, useQuery } from '@tanstack/react-query';
import { createTRPCClient } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { ReactNode } from 'react';
import { createDropwatchClient, createDropwatchLinks, type AppRouter, type DropDto } from '@dropwatch/client';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Assert<T extends true> = T;
type NotAny<T> = IsAny<T> extends true ? false : true;

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
const queryClient = new QueryClient();
const trpcClient = createTRPCClient<AppRouter>({ links: createDropwatchLinks({ url: 'https://dropwatch.example.com' }) });

export function App({ children }: { children: ReactNode }) {
  return <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>{children}</TRPCProvider>;
}

/** The SDK's own client fits the provider too: one tRPC copy, one AppRouter. */
export function AppWithSdkClient({ children }: { children: ReactNode }) {
  return (
    <TRPCProvider trpcClient={createDropwatchClient({ url: 'https://dropwatch.example.com' })} queryClient={queryClient}>
      {children}
    </TRPCProvider>
  );
}

export function useJustOpened(): DropDto[] | undefined {
  const trpc = useTRPC();
  const live = useQuery(trpc.feed.live.queryOptions({ market: 'nyc', partySizes: [2] }));
  type _data = Assert<NotAny<typeof live.data>>;
  // @ts-expect-error -- partySizes is a list of numbers
  trpc.feed.live.queryOptions({ partySizes: 'two' });
  // @ts-expect-error -- no such procedure
  trpc.feed.nothing.queryOptions();
  return live.data?.justOpened;
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

const tsconfig = (files: string[], overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      jsx: 'react-jsx',
      // tRPC 11's own declarations use Disposable (TS 5.2+ lib esnext.disposable).
      lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
      types: [],
      noEmit: true,
      // A library or a monorepo package emits declarations: what it exports (the React Query
      // context above) is then written out by name, so every type the router's types name must
      // be one the client exports (TS4023 otherwise).
      declaration: true,
      // Every declaration is checked, the bundled dist/index.d.ts first of all.
      skipLibCheck: false,
      ...overrides,
    },
    files,
  });

/** tsc's diagnostics for a project; '' when it compiles. */
const typecheck = (project: string) =>
  exec(process.execPath, [tsc, '-p', project], { cwd: path.dirname(project) }).then(
    () => '',
    (err: { stdout: string }) => err.stdout,
  );

/** The lowest version a caret range (`^11.22.1`) allows. */
const floorOf = (range: string) => {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!m?.[1]) throw new Error(`expected a caret range, got ${range}`);
  return m[1];
};

/** The newest published version inside a range, as npm resolves it. */
async function newestIn(pkg: string, range: string): Promise<string> {
  const { stdout } = await exec('npm', ['view', `${pkg}@${range}`, 'version', '--json']);
  const versions = JSON.parse(stdout) as string | string[];
  const newest = Array.isArray(versions) ? versions.at(-1) : versions;
  if (!newest) throw new Error(`no version of ${pkg} in ${range}`);
  return newest;
}

async function installConsumer(dir: string, dependencies: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }),
  );
  // --prefer-offline: the local cache first, the registry for what it lacks. Peer conflicts
  // fail the install (npm's default), which is part of what is tested.
  await exec(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--prefer-offline'],
    { cwd: dir },
  );
}

describe('the packed client', () => {
  let work: string;
  let tarball: string;
  let peers: Record<string, string>;

  beforeAll(async () => {
    // Fresh api declarations, then the client's build (JS + one bundled .d.ts).
    await exec(process.execPath, [tsc, '-p', path.join(root, 'packages/api/tsconfig.build.json')], { cwd: root });
    await exec('npm', ['run', 'build'], { cwd: clientDir });
    work = await mkdtemp(path.join(tmpdir(), 'dropwatch-consumer-'));
    const packed = await exec('npm', ['pack', '--pack-destination', work, '--json'], { cwd: clientDir });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    expect(info!.files.map((f) => f.path).sort()).toEqual([
      'CHANGELOG.md',
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/index.js.map',
      'package.json',
    ]);
    peers = (JSON.parse(await readFile(path.join(clientDir, 'package.json'), 'utf8')) as Manifest).peerDependencies;
  }, 180_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is publishable: tRPC and superjson are peers, eventsource an optional one, its types import tRPC only', async () => {
    const manifest = JSON.parse(await readFile(path.join(clientDir, 'package.json'), 'utf8')) as Manifest;
    expect(manifest.private).toBeUndefined();
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.dependencies).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual([
      '@trpc/client',
      '@trpc/server',
      'eventsource',
      'superjson',
    ]);
    expect(manifest.peerDependenciesMeta).toEqual({ eventsource: { optional: true } });

    const types = await readFile(path.join(clientDir, 'dist/index.d.ts'), 'utf8');
    const specifiers = [...types.matchAll(/(?:import\(|from\s+)["']([^"']+)["']/g)].map((m) => m[1]!);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !/^@trpc\/(client|server)(\/|$)/.test(s))).toEqual([]);
    // A consumer's declarations write an interface out by its name (a union alias in full), so
    // every interface the bundle declares must be one it exports.
    const interfaces = [...types.matchAll(/^interface (\w+)/gm)].map((m) => m[1]!);
    const exported = new Set(
      [...types.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
        m[1]!.split(',').map((name) => name.trim()),
      ),
    );
    expect(interfaces.length).toBeGreaterThan(0);
    expect(interfaces.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('type-checks a strict consumer and a React Query app against the lowest tRPC and superjson it allows', async () => {
    const trpc = floorOf(peers['@trpc/client']!);
    expect(floorOf(peers['@trpc/server']!)).toBe(trpc);
    const app = path.join(work, 'lowest');
    await installConsumer(app, {
      '@dropwatch/client': `file:${tarball}`,
      '@trpc/client': trpc,
      '@trpc/server': trpc,
      superjson: floorOf(peers.superjson!),
      // @trpc/tanstack-react-query pins its tRPC peers exactly: the lowest we allow is its own.
      '@trpc/tanstack-react-query': trpc,
      '@tanstack/react-query': '^5.80.3',
      react: '^19.0.0',
      '@types/react': '^19.0.0',
    });
    // One tRPC copy: the client uses the app's, which is what lets the provider accept it.
    expect(existsSync(path.join(app, 'node_modules/@dropwatch/client/node_modules'))).toBe(false);
    expect(
      (
        JSON.parse(await readFile(path.join(app, 'node_modules/@trpc/client/package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    ).toBe(trpc);

    await writeFile(path.join(app, 'consumer.ts'), CONSUMER);
    await writeFile(path.join(app, 'react-consumer.tsx'), REACT_CONSUMER);
    await writeFile(path.join(app, 'tsconfig.json'), tsconfig(['consumer.ts', 'react-consumer.tsx']));
    // tRPC 11.22's own server declarations (reached from @trpc/client) import node's http and
    // ws types and fail a lib check without them; that is tRPC's, fixed in later releases.
    // Everything else, the bundled client types first, must check cleanly.
    const diagnostics = (await typecheck(path.join(app, 'tsconfig.json')))
      .split(/\n(?=\S)/)
      .filter((d) => d.trim() !== '');
    const ours = diagnostics.filter((d) => !d.startsWith('node_modules/@trpc/server/dist/'));
    expect(ours).toEqual([]);
    // tsc reports declaration errors only for a program without other errors, and those of
    // tRPC 11.22 above hide them: the exported React Query context is checked again without
    // the lib check.
    await writeFile(
      path.join(app, 'tsconfig.declaration.json'),
      tsconfig(['react-consumer.tsx'], { skipLibCheck: true }),
    );
    expect(await typecheck(path.join(app, 'tsconfig.declaration.json'))).toBe('');

    await writeFile(path.join(app, 'probe.ts'), ANY_PROBE);
    await writeFile(path.join(app, 'tsconfig.probe.json'), tsconfig(['probe.ts']));
    expect(await typecheck(path.join(app, 'tsconfig.probe.json'))).toMatch(/probe\.ts.*TS2344/);
  }, 240_000);

  it('type-checks a strict consumer and loads against the newest tRPC and superjson it allows', async () => {
    const app = path.join(work, 'newest');
    const trpc = await newestIn('@trpc/client', peers['@trpc/client']!);
    await installConsumer(app, {
      '@dropwatch/client': `file:${tarball}`,
      '@trpc/client': trpc,
      '@trpc/server': trpc,
      superjson: await newestIn('superjson', peers.superjson!),
    });
    await writeFile(path.join(app, 'consumer.ts'), CONSUMER);
    await writeFile(path.join(app, 'tsconfig.json'), tsconfig(['consumer.ts']));
    expect(await typecheck(path.join(app, 'tsconfig.json'))).toBe('');

    // And the JS loads with nothing but those peers.
    const loaded = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@dropwatch/client'); const c = m.createDropwatchClient({ url: 'http://127.0.0.1:1' }); process.stdout.write(typeof c.feed.live.query + ' ' + m.DESTINATION_CHANNELS.join(','))",
      ],
      { cwd: app },
    );
    expect(loaded.stdout).toBe('function webhook,ntfy,telegram,email,webpush');
  }, 240_000);
});
