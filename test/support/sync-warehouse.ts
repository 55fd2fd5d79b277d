/** Set-up shared by the tests that sync a test database into new warehouses. */
import { join } from 'node:path';
import type { PgConnectionConfig } from '../../src/dev/pg-server.js';
import { manifestAt } from '../../src/projections/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { tempDir } from './wh-cli.js';

/** The environment a `wh sync` child process reads its WRDS settings and password from. */
export function wrdsEnv(c: PgConnectionConfig): Record<string, string> {
  return { WRDS_HOST: c.host, WRDS_PORT: String(c.port), WRDS_DATABASE: c.database, WRDS_USERNAME: c.user, WRDS_SSLMODE: 'disable', PGPASSWORD: c.password };
}

/** A new, empty warehouse in a temporary directory (removed by cleanupTempDirs). */
export function newSyncWarehouse(prefix = 'wh-sync-'): string {
  const dir = join(tempDir(prefix), 'wh');
  initWarehouse(dir, 'test');
  return dir;
}

/** `dataset/partition` → object hash of the warehouse's current manifest. */
export function manifestObjects(dir: string): Record<string, string> {
  const log = openWarehouseLog(dir, { readonly: true });
  try {
    return Object.fromEntries(manifestAt(log).map((m) => [`${m.dataset}/${m.partition}`, m.object]));
  } finally {
    log.close();
  }
}
