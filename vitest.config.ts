import { defineConfig } from 'vitest/config';

/**
 * Tiers by file suffix (shared/STYLE.md): `*.test.ts` unit, `*.prop.test.ts` property,
 * `*.int.test.ts` integration (real PostgreSQL, files, processes), `*.e2e.test.ts` the built `wh`.
 * `npm test` runs them all; `npm run test:unit` (or `vitest run --project prop`, ...) runs one tier.
 */
const tiers = {
  unit: { include: ['test/**/*.test.ts'], exclude: ['test/**/*.prop.test.ts', 'test/**/*.int.test.ts', 'test/**/*.e2e.test.ts'] },
  prop: { include: ['test/**/*.prop.test.ts'], exclude: [] },
  int: { include: ['test/**/*.int.test.ts'], exclude: [] },
  e2e: { include: ['test/**/*.e2e.test.ts'], exclude: [] },
} as const;

export default defineConfig({
  test: {
    pool: 'forks',
    // One PostgreSQL per run, one database per spec file (test/support/pg-test-database.ts).
    globalSetup: ['test/support/pg-global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: Object.entries(tiers).map(([name, t]) => ({
      extends: true,
      test: { name, include: [...t.include], exclude: ['**/node_modules/**', ...t.exclude] },
    })),
  },
});
