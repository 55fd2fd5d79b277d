/**
 * A warehouse synced from the generated WRDS-shaped sample: the sample is loaded into a fresh
 * database on the run's PostgreSQL, synced through the real WRDS client, and opened. Tests that
 * check a rule against the raw tables run plain SQL over the synced datasets (`raw`), or over the
 * source itself (`pg`), and compare with the providers.
 */
import { join } from 'node:path';
import { generateWrdsSample, type WrdsSampleOptions, type WrdsSampleResult } from '../../src/dev/wrds-sample/index.js';
import type { EventLog } from '../../src/log/index.js';
import { openWarehouse, type Warehouse } from '../../src/query/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { connectWrds, findDatasets, Secret, syncDatasets } from '../../src/sync/index.js';
import { createTestDatabase, type TestDatabase } from './pg-test-database.js';
import { tempDir } from './wh-cli.js';

/** Every CRSP and Compustat dataset the providers read. */
export const PROVIDER_DATASETS = [
  'crsp_dsf', 'crsp_msf', 'crsp_dsenames', 'crsp_msenames', 'crsp_dsedelist', 'crsp_msedelist', 'crsp_dsf_v2', 'crsp_msf_v2',
  'crsp_stksecurityinfohist', 'crsp_stkdelists', 'crsp_ccmxpf_lnkhist', 'comp_funda', 'comp_fundq',
] as const;

export interface SampleWarehouse {
  readonly dir: string;
  readonly log: EventLog;
  readonly db: TestDatabase;
  readonly sample: WrdsSampleResult;
  readonly wh: Warehouse;
  /** Rows of a query over the warehouse session (plain SQL over the synced raw datasets). */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Sync `datasets` again from the source database (after the test changed it); returns the log head. */
  resync(datasets: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/** Generate, sync and open a sample warehouse (defaults: seed 1, scale 1, 2015-2017, no TAQ). */
export async function buildSampleWarehouse(options: WrdsSampleOptions = {}, datasets: readonly string[] = PROVIDER_DATASETS): Promise<SampleWarehouse> {
  const db = await createTestDatabase('sample_wh');
  const sample = await generateWrdsSample(db.session, { seed: 1, scale: 1, fromYear: 2015, toYear: 2017, taqDays: 0, ...options });
  const dir = join(tempDir('wh-sample-'), 'wh');
  initWarehouse(dir, 'test');
  const log = openWarehouseLog(dir);
  const resync = async (names: readonly string[]): Promise<number> => {
    const c = db.config;
    const source = await connectWrds({
      settings: { host: c.host, port: c.port, database: c.database, user: c.user, sslmode: 'disable' },
      password: new Secret(c.password), queriesPerMinute: 1_000_000, retryBaseMs: 10, maxRetries: 1,
    });
    try {
      const results = await syncDatasets({ dir, log, source, datasets: findDatasets([...names]), whVersion: 'test' });
      const bad = results.filter((r) => r.status !== 'synced' && r.status !== 'unchanged');
      if (bad.length > 0) throw new Error(`sample sync failed: ${bad.map((r) => `${r.dataset}: ${r.status}`).join(', ')}`);
    } finally {
      await source.close();
    }
    return log.head().seq;
  };
  await resync(datasets);
  const wh = await openWarehouse(dir);
  return {
    dir, log, db, sample, wh, resync,
    raw: async (sql, params = []) => [...(await wh.session.duck.all(sql, params as never)).rows],
    close: async () => {
      wh.close();
      log.close();
      await db.drop();
    },
  };
}
