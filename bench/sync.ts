/**
 * Sync throughput vs raw COPY, and memory at two scales.
 *
 * Baseline (same run, same server, same queries): `COPY (SELECT ...) TO STDOUT (FORMAT csv)` of
 * every partition of crsp_dsf, drained and discarded. Measured: `syncDatasets` of crsp_dsf into a
 * new warehouse (COPY → FIFO → DuckDB sort → Parquet → fsync → validate → event). Goal: >= 0.8.
 * Memory: peak RSS of a child `wh sync` at scale 1 and scale 10 (goal: flat within 1.2x).
 *
 *   node dist/bench/sync.js [--scale N (default 10)] [--quick (scale 4, one repetition)]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWarehouse, openWarehouseLog } from '../src/projections/index.js';
import { createDatabase, startPostgres, type PgConnectionConfig } from '../src/sync/pg/pg-server.js';
import { connectWrds, findDatasets, Secret, syncDatasets, type SqlSource } from '../src/sync/index.js';
import { generateWrdsSample } from '../src/sync/wrds-sample/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const scaleArg = args.indexOf('--scale');
const SCALE = scaleArg >= 0 ? Number(args[scaleArg + 1]) : quick ? 4 : 10;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function rawCopy(source: SqlSource, years: number[]): Promise<{ rows: number; ms: number }> {
  const t = performance.now();
  let rows = 0;
  for (const y of years) {
    const stream = await source.copyOut(`SELECT * FROM "crsp"."dsf" WHERE "date" >= '${y}-01-01' AND "date" < '${y + 1}-01-01'`);
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      for (let i = 0; i < b.length; i++) if (b[i] === 10) rows += 1;
    }
  }
  return { rows, ms: performance.now() - t };
}

async function syncOnce(db: PgConnectionConfig): Promise<{ rows: number; ms: number }> {
  const root = mkdtempSync(join(tmpdir(), 'wh-bench-sync-'));
  const dir = join(root, 'wh');
  initWarehouse(dir, 'bench');
  const log = openWarehouseLog(dir);
  const source = await connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), queriesPerMinute: 1e9 });
  try {
    const t = performance.now();
    const [r] = await syncDatasets({ dir, log, source, datasets: findDatasets(['crsp_dsf']), whVersion: 'bench' });
    if (r?.status !== 'synced') throw new Error(`sync failed: ${JSON.stringify(r?.error)}`);
    return { rows: r.rows, ms: performance.now() - t };
  } finally {
    await source.close();
    log.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function peakRssOfCliSync(db: PgConnectionConfig): number {
  const root = mkdtempSync(join(tmpdir(), 'wh-bench-rss-'));
  const dir = join(root, 'wh');
  initWarehouse(dir, 'bench');
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(repo, 'dist', 'cli', 'main.js'), 'sync', 'crsp_dsf', '--quiet', '--rate-limit', '1000000', '-w', dir], {
    env: { ...process.env, WRDS_HOST: db.host, WRDS_PORT: String(db.port), WRDS_DATABASE: db.database, WRDS_USERNAME: db.user, WRDS_SSLMODE: 'disable', PGPASSWORD: db.password },
    encoding: 'utf8',
  });
  rmSync(root, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`wh sync failed: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return kb / 1024;
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const small = await createDatabase(server, 'bench_s1');
    const big = await createDatabase(server, `bench_s${SCALE}`);
    console.log(`generating samples at scale 1 and ${SCALE} (2015-2024)...`);
    await generateWrdsSample(small, { seed: 7, scale: 1, taqDays: 0 });
    await generateWrdsSample(big, { seed: 7, scale: SCALE, taqDays: 0 });
    const years = Array.from({ length: 10 }, (_, i) => 2015 + i);
    const source = await connectWrds({ settings: { host: big.host, port: big.port, database: big.database, user: big.user, sslmode: 'disable' }, password: new Secret(big.password), queriesPerMinute: 1e9 });
    const raws: number[] = [];
    const syncs: number[] = [];
    let rows = 0;
    try {
      for (let i = 0; i < (quick ? 1 : 3); i++) {
        const raw = await rawCopy(source, years);
        const s = await syncOnce(big);
        if (s.rows !== raw.rows) throw new Error(`row mismatch: sync ${s.rows}, raw ${raw.rows}`);
        rows = raw.rows;
        raws.push((raw.rows * 1000) / raw.ms);
        syncs.push((s.rows * 1000) / s.ms);
      }
    } finally {
      await source.close();
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rawRate = med(raws);
    const syncRate = med(syncs);
    console.log(`crsp_dsf at scale ${SCALE}: ${rows.toLocaleString()} rows in 10 yearly partitions`);
    console.log(`raw COPY TO STDOUT (drained):  ${Math.round(rawRate).toLocaleString()} rows/s`);
    console.log(`wh sync (to verified Parquet): ${Math.round(syncRate).toLocaleString()} rows/s`);
    console.log(`ratio sync/raw = ${(syncRate / rawRate).toFixed(2)}  (goal >= 0.8)`);
    const rss1 = peakRssOfCliSync(small);
    const rssN = peakRssOfCliSync(big);
    console.log(`peak RSS of \`wh sync crsp_dsf\`: scale 1 ${rss1.toFixed(0)} MiB, scale ${SCALE} ${rssN.toFixed(0)} MiB, ratio ${(rssN / rss1).toFixed(2)}  (goal <= 1.2)`);
  } finally {
    await server.stop();
  }
}

await main();
