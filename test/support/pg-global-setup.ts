/**
 * vitest globalSetup: one real PostgreSQL per test run, shared by every *.int.test.ts file, which
 * each make their own database (test/support/pg-test-database.ts). Wire it in vitest.config.ts:
 *   test: { globalSetup: ['test/support/pg-global-setup.ts'] }
 * WH_PG_BACKEND=embedded|system forces where the binaries come from (default: embedded, else system).
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../src/dev/pg-server.js';

/** What the tests receive through `inject('whPostgres')`. */
export interface ProvidedPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly backend: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    whPostgres: ProvidedPostgres;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const forced = process.env['WH_PG_BACKEND'];
  const backend = forced === 'embedded' || forced === 'system' ? forced : 'auto';
  const server = await startPostgres({ backend });
  project.provide('whPostgres', {
    host: server.host, port: server.port, user: server.user, password: server.password, database: server.database, backend: server.backend,
  });
  return async () => {
    await server.stop();
  };
}
