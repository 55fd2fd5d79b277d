/**
 * Health report time vs the sync it follows: the WRDS-shaped sample (crsp_dsf, 10 yearly
 * partitions) at a scale, served by a local PostgreSQL, synced into a fresh warehouse with
 * `syncDatasets`, which records a health report of every written partition right after the sync.
 * The sync's own duration (SyncCompleted's, which ends before the report) is the baseline; the
 * report's `durationMs` is the figure. Goal: <= 10 %. Median of the repetitions.
 *
 *   node dist/bench/health.js [--quick (scale 1, one repetition)] [--scale N (default 4)] [--reps N (default 3)]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';
import { createDatabase, startPostgres } from '../src/dev/pg-server.js';
import { generateWrdsSample } from '../src/dev/wrds-sample/index.js';
import { connectWrds, findDatasets, Secret, syncDatasets } from '../src/sync/index.js';
import { isMain, parseCli, report, row, say, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/health.js [options]
  --quick        scale 1, one repetition
  --scale N      sample scale (default 4)
  --reps N       repetitions (default 3)
  --summary F    also write the result rows as JSON to F`;

const optionsSchema = z.object({
  scale: z.coerce.number().positive().optional(),
  reps: z.coerce.number().int().positive().optional(),
});
export type HealthBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runHealthBench(o: HealthBenchOptions): Promise<BenchRow[]> {
  const scale = o.scale ?? (o.quick ? 1 : 4);
  const reps = o.reps ?? (o.quick ? 1 : 3);
  const server = await startPostgres();
  try {
    const db = await createDatabase(server, `bench_health_${scale}`.replace('.', '_'));
    say(`generating the sample at scale ${scale}...`);
    await generateWrdsSample(db, { seed: 7, scale, taqDays: 0 });
    const syncs: number[] = [];
    const reports: number[] = [];
    let rows = 0;
    for (let i = 0; i < reps; i++) {
      const root = mkdtempSync(join(tmpdir(), 'wh-bench-health-'));
      const dir = join(root, 'wh');
      initWarehouse(dir, 'bench');
      const log = openWarehouseLog(dir);
      const source = await connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), queriesPerMinute: 1e9 });
      try {
        const [r] = await syncDatasets({ dir, log, source, datasets: findDatasets(['crsp_dsf']), whVersion: 'bench' });
        if (r?.status !== 'synced' || r.health == null) throw new Error(`sync failed or reported no health: ${JSON.stringify(r?.error)}`);
        syncs.push(r.durationMs);
        reports.push(r.health.durationMs);
        rows = r.rows;
        say(`  run ${i + 1}: sync ${(r.durationMs / 1000).toFixed(2)} s, health ${(r.health.durationMs / 1000).toFixed(2)} s, ${r.health.findings.length} findings over ${r.health.partitions.length} partitions`);
      } finally {
        await source.close();
        log.close();
        if (o.keep) say(`kept ${dir}`);
        else rmSync(root, { recursive: true, force: true });
      }
    }
    return [row('health', `health report after sync of crsp_dsf (${rows.toLocaleString('en-US')} rows)`, median(reports) / 1000, 's', median(syncs) / 1000, 'health/sync', { text: '<= 0.1', met: (r) => r <= 0.1 })];
  } finally {
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  const options = parseCli(process.argv.slice(2), { scale: { type: 'string' }, reps: { type: 'string' } }, optionsSchema, USAGE);
  report(await runHealthBench(options), options);
}
