/**
 * ETL incremental vs full rebuild: a warehouse holding a Yahoo-shaped `yahoo_daily` source of N
 * symbols x Y years of NYSE sessions (generated, ingested as Parquet). `runPricesEtl` builds
 * `prices_daily` from it through the unified fetcher; then the source gains one new session for
 * every symbol and the ETL runs again (incremental: one day per symbol fetched, one year merged).
 * Baseline, same run: a full rebuild of the same range into a fresh dataset. Goal: ratio <= 0.1.
 * Also printed: the health report of each ETL against the ETL it follows (goal <= 10 %).
 *
 *   node dist/bench/etl.js [--quick] [--symbols N (default 5000)] [--years N (default 5)]
 */
import { join } from 'node:path';
import { z } from 'zod';
import { openDuck, quoteLiteral } from '../src/engine/index.js';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';
import { sessions } from '../src/calendar/index.js';
import { ingestFile } from '../src/sync/index.js';
import { runPricesEtl } from '../src/etl/index.js';
import { isMain, nowMs, parseCli, report, row, say, tempDir, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/etl.js [options]
  --quick        500 symbols x 3 years
  --symbols N    symbols (default 5000)
  --years N      years of history ending 2024 (default 5)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F`;

const optionsSchema = z.object({
  symbols: z.coerce.number().int().positive().optional(),
  years: z.coerce.number().int().min(1).max(30).optional(),
});
export type EtlBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

/** yahoo_daily rows of `n` symbols on `days`, as one Parquet file. */
async function generate(file: string, n: number, days: readonly string[]): Promise<void> {
  const duck = await openDuck({ threads: 2 });
  try {
    await duck.run(`CREATE TEMP TABLE d AS SELECT CAST(unnest([${days.map(quoteLiteral).join(',')}]) AS DATE) AS date`);
    await duck.run(`COPY (SELECT date, 'S' || lpad(CAST(s AS VARCHAR), 5, '0') AS symbol,
        round(10 + s % 90 + 2 * sin(epoch(date) / 86400 / 7 + s), 4) AS close, close AS open, close + 1 AS high, close - 1 AS low, close AS adjclose, CAST(1000 + s AS DOUBLE) AS volume
      FROM d, range(${n}) t(s) ORDER BY symbol, date) TO ${quoteLiteral(file)} (FORMAT parquet)`);
  } finally {
    duck.close();
  }
}

export async function runEtlBench(o: EtlBenchOptions): Promise<BenchRow[]> {
  const n = o.symbols ?? (o.quick ? 500 : 5000);
  const years = o.years ?? (o.quick ? 3 : 5);
  const tmp = tempDir('etl', o.keep);
  try {
    const dir = join(tmp.path, 'wh');
    initWarehouse(dir, 'bench');
    const log = openWarehouseLog(dir);
    try {
      const start = `${2025 - years}-01-01`;
      const all = sessions(start, '2024-12-31');
      const last = all[all.length - 1]!;
      const before = all.slice(0, -1);
      symbolsLine(n, years, all.length);
      const symbols = Array.from({ length: n }, (_, s) => `S${String(s).padStart(5, '0')}`);
      const src = async (days: readonly string[], name: string) => {
        const file = join(tmp.path, `${name}.parquet`);
        await generate(file, n, days);
        await ingestFile({ dir, log, dataset: 'yahoo_daily', partition: 'all', file, key: ['symbol', 'date'], whVersion: 'bench' });
      };
      await src(before, 'before');
      const etl = (dataset: string) => runPricesEtl({ dir, log, dataset, symbols, start, end: '2024-12-31', source: 'yahoo', whVersion: 'bench' });
      say('initial build (not timed)...');
      await etl('prices_daily');
      await src(all, 'after');
      say(`incremental: one new session (${last}) for ${n} symbols...`);
      let t = nowMs();
      const inc = await etl('prices_daily');
      const incMs = nowMs() - t;
      say(`  ${(incMs / 1000).toFixed(2)} s, ${inc.fetchedRows} rows fetched, partitions ${inc.partitions.map((p) => `${p.partition}:${p.status}`).join(' ')}`);
      say(`full rebuild of ${years} years into a fresh dataset...`);
      t = nowMs();
      const full = await etl('prices_full');
      const fullMs = nowMs() - t;
      say(`  ${(fullMs / 1000).toFixed(2)} s, ${full.fetchedRows} rows`);
      const incHealth = inc.health?.durationMs ?? 0;
      const fullHealth = full.health?.durationMs ?? 0;
      return [
        row('etl', `incremental, 1 new day x ${n} symbols (${years}y)`, incMs / 1000, 's', fullMs / 1000, 'incremental/full rebuild', { text: '<= 0.1', met: (r) => r <= 0.1 }),
        row('etl', 'health after the incremental ETL', incHealth / 1000, 's', (incMs - incHealth) / 1000, 'health/ETL', { text: '<= 0.1', met: (r) => r <= 0.1 }),
        row('etl', 'health after the full rebuild', fullHealth / 1000, 's', (fullMs - fullHealth) / 1000, 'health/ETL', { text: '<= 0.1', met: (r) => r <= 0.1 }),
      ];
    } finally {
      log.close();
    }
  } finally {
    tmp.dispose();
  }
}

function symbolsLine(n: number, years: number, days: number): void {
  say(`source: ${n} symbols x ${days} sessions (${years} years) = ${(n * days).toLocaleString('en-US')} rows`);
}

if (isMain(import.meta.url)) {
  const options = parseCli(process.argv.slice(2), { symbols: { type: 'string' }, years: { type: 'string' } }, optionsSchema, USAGE);
  report(await runEtlBench(options), options);
}
