import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The packages' dependency direction: each may import only the ones below it.
 * core, migrations ← db ← discovery ← api ← server; the client imports the api's types only.
 */
const LAYERS = {
  'packages/core': [],
  migrations: [],
  'packages/db': ['core', 'migrations'],
  'packages/discovery': ['core', 'db'],
  'packages/api': ['core', 'db', 'discovery'],
  'apps/server': ['core', 'db', 'discovery', 'api', 'migrations'],
  // The dashboard is a frontend like any other: the SDK only.
  'apps/web': ['client'],
  // The operator CLI is a client like any other: the SDK only.
  'apps/cli': ['client'],
};
const PACKAGES = ['core', 'migrations', 'db', 'discovery', 'api', 'client', 'server', 'bench', 'web', 'cli'];
const forbidden = (allowed) =>
  PACKAGES.filter((p) => !allowed.includes(p)).flatMap((p) => [`@dropwatch/${p}`, `@dropwatch/${p}/*`]);
const layerRules = [
  ...Object.entries(LAYERS).map(([dir, allowed]) => ({
    files: [`${dir}/src/**/*.ts`, `${dir}/src/**/*.tsx`, ...(dir === 'migrations' ? ['migrations/*.ts'] : [])],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbidden(allowed),
              message: `${dir} may import only: ${allowed.join(', ') || 'no other package'}.`,
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['packages/client/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@dropwatch/api', '@dropwatch/api/*'],
              allowTypeImports: true,
              message: "The client imports the api's types only.",
            },
            { group: forbidden(['api']), message: "The client imports the api's types only." },
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/.dropwatch/**', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...layerRules,
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', 'apps/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      'no-console': 'off',
    },
  },
);
