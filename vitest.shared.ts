import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Tests run on sources: every @dropwatch/* import resolves to src, no build needed. */
export const alias = [
  { find: '@dropwatch/db/testing', replacement: src('./packages/db/src/testing/index.ts') },
  { find: '@dropwatch/db/migrate', replacement: src('./packages/db/src/migrate.ts') },
  { find: '@dropwatch/migrations', replacement: src('./migrations/index.ts') },
  ...['core', 'db', 'discovery', 'api', 'client'].map((name) => ({
    find: `@dropwatch/${name}`,
    replacement: src(`./packages/${name}/src/index.ts`),
  })),
];

/** Packages whose tests need PostgreSQL pass `withDatabase: true`. */
export function packageTestConfig(options: { withDatabase?: boolean } = {}): ViteUserConfig {
  return defineConfig({
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      globalSetup: options.withDatabase ? [src('./packages/db/src/testing/global-setup.ts')] : [],
      reporters: process.env.VITEST_JSON_REPORT
        ? [
            'default',
            [
              'json',
              {
                outputFile: process.env.VITEST_JSON_REPORT.replace(
                  '{pkg}',
                  process.env.npm_package_name?.replace('@dropwatch/', '') ?? 'pkg',
                ),
              },
            ],
          ]
        : ['default'],
    },
  });
}
