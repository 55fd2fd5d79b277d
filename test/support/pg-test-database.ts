/**
 * One fresh database per test file on the run's shared PostgreSQL (started by
 * test/support/pg-global-setup.ts), as emmett's postgreSQLTestDatabase does.
 *
 * @example
 * const db = await createTestDatabase('wrds_sample');
 * afterAll(() => db.drop());
 * await db.session.query('SELECT 1');
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase, dropDatabase, openPgSession } from '../../src/dev/pg-server.js';
import type { PgConnectionConfig, PgSession } from '../../src/dev/pg-server.js';
import type {} from './pg-global-setup.js';

/** A database made for one test file. */
export interface TestDatabase {
  readonly config: PgConnectionConfig;
  /** An open session on it (closed by `drop`). */
  readonly session: PgSession;
  /** Closes the session and drops the database. */
  drop(): Promise<void>;
}

/** The run's shared server, connected to its `postgres` database. */
export function testServer(): PgConnectionConfig {
  const provided = inject('whPostgres');
  if (provided === undefined) {
    throw new Error('no test PostgreSQL: add test/support/pg-global-setup.ts to globalSetup in vitest.config.ts');
  }
  return { host: provided.host, port: provided.port, user: provided.user, password: provided.password, database: provided.database };
}

/** Creates database `<prefix>_<random>` and opens a session on it. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const server = testServer();
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40)}_${randomBytes(5).toString('hex')}`;
  const config = await createDatabase(server, name);
  const session = await openPgSession(config);
  return {
    config,
    session,
    async drop() {
      await session.end();
      await dropDatabase(server, name);
    },
  };
}
