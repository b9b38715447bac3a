import { writeFile } from 'node:fs/promises';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createOrm, startEmbeddedPostgres, withDatabase, type EmbeddedPostgresHandle } from '@dropwatch/db';
import { migrate } from '@dropwatch/db/migrate';
import { adminQuery, freePort } from '@dropwatch/db/testing';
import { compareVariants, formatTable, type BenchContext, type ResultRow } from './harness.js';
import { SCENARIOS } from './scenarios/index.js';

const USAGE = `usage: npm run bench -- [scenario …] [--rounds N] [--warmup N] [--out results.json]
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')} (default: all)
PostgreSQL: BENCH_DATABASE_URL or DATABASE_URL (maintenance db), else an embedded one.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
  const chosen = positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(warmup) || warmup < 0) {
    throw new Error('--rounds must be ≥ 1 and --warmup ≥ 0');
  }

  let adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  let embedded: EmbeddedPostgresHandle | undefined;
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(tmpdir(), 'dropwatch-bench-pg-'));
    await chmod(tmp, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'data'), port: await freePort() });
    adminUrl = embedded.url;
  }

  const results: ResultRow[] = [];
  try {
    for (const scenario of chosen) {
      const dbName = `dw_bench_${scenario.name.replaceAll('-', '_')}_${process.pid}`;
      await adminQuery(adminUrl, `drop database if exists "${dbName}" with (force)`);
      await adminQuery(adminUrl, `create database "${dbName}"`);
      const databaseUrl = withDatabase(adminUrl, dbName);
      await migrate(databaseUrl, 3);
      const orm = await createOrm({ databaseUrl, poolMax: 10, applicationName: 'dropwatch-bench' });
      const log = (m: string) => process.stderr.write(`[${scenario.name}] ${m}\n`);
      const ctx: BenchContext = {
        adminUrl,
        databaseUrl,
        orm,
        rounds,
        warmup,
        compare: (spec) => compareVariants(scenario.name, spec, { rounds, warmup }, results),
        record: (row) => results.push({ scenario: scenario.name, ...row }),
        log,
      };
      log(`running: ${scenario.description}`);
      try {
        await scenario.run(ctx);
      } finally {
        await orm.close(true);
        await adminQuery(adminUrl, `drop database if exists "${dbName}" with (force)`);
      }
    }
  } finally {
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }

  process.stdout.write(`${formatTable(results)}\n`);
  if (values.out) {
    await writeFile(values.out, JSON.stringify({ at: new Date().toISOString(), rounds, warmup, results }, null, 2));
    process.stdout.write(`results written to ${values.out}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
