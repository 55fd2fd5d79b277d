/**
 * Sync throughput vs raw COPY, and memory at two scales.
 *
 * Baseline (same run, same server, the very queries the sync sends, ORDER BY included):
 * `COPY (SELECT ...) TO STDOUT (FORMAT csv)` of every partition of crsp_dsf, one after the other,
 * drained and discarded. Measured: `syncDatasets` of crsp_dsf into a new warehouse (COPY → FIFO →
 * DuckDB → Parquet → fsync → validate → event). Goal: >= 0.8.
 *
 * Where the CPUs are matters, so both placements are measured:
 * - `server apart`: PostgreSQL pinned to CPU 0 and this process (wh) to CPU 1, as when the server
 *   is WRDS's machine and not the user's. Raw COPY is then bound by the server's single backend;
 *   the sync by whichever of the server and wh needs more CPU per row.
 * - `shared`: both on every CPU (no pinning). Raw COPY leaves a CPU mostly idle for the server's
 *   parallel scan, while the sync's Parquet encoding has to take it: on a 2-CPU machine this
 *   measures wh's CPU per row against the server's rather than the pipeline.
 * Memory: peak RSS of a child `wh sync crsp_dsf` at scale 1 and scale N (median of runs; goal: flat
 * within 1.2x).
 *
 *   node dist/bench/sync.js [--scale N (default 10)] [--quick (scale 4, one repetition)]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';
import { createDatabase, startPostgres, type PgConnectionConfig, type PostgresServer } from '../src/dev/pg-server.js';
import { connectWrds, findDatasets, Secret, selectFor, syncDatasets, type SqlSource } from '../src/sync/index.js';
import { generateWrdsSample } from '../src/dev/wrds-sample/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const scaleArg = args.indexOf('--scale');
const SCALE = scaleArg >= 0 ? Number(args[scaleArg + 1]) : quick ? 4 : 10;
const REPS = quick ? 1 : 3;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DSF = findDatasets(['crsp_dsf'])[0]!;

const connect = (db: PgConnectionConfig): Promise<SqlSource> =>
  connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), queriesPerMinute: 1e9 });

async function rawCopy(source: SqlSource, selects: readonly string[]): Promise<{ rows: number; ms: number }> {
  const t = performance.now();
  let rows = 0;
  for (const select of selects) {
    const stream = await source.copyOut(select);
    stream.resume();
    await new Promise((ok, fail) => stream.on('end', ok).on('error', fail));
    rows += (stream as unknown as { rowCount: number }).rowCount;
  }
  return { rows, ms: performance.now() - t };
}

async function syncOnce(db: PgConnectionConfig): Promise<{ rows: number; ms: number }> {
  const root = mkdtempSync(join(tmpdir(), 'wh-bench-sync-'));
  const dir = join(root, 'wh');
  initWarehouse(dir, 'bench');
  const log = openWarehouseLog(dir);
  const source = await connect(db);
  try {
    const t = performance.now();
    const [r] = await syncDatasets({ dir, log, source, datasets: [DSF], whVersion: 'bench' });
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
  return Number(r.stderr.trim().split('\n').pop()) / 1024;
}

/** The server's processes: the postmaster (first line of postmaster.pid) and its children. */
function serverPids(server: PostgresServer): number[] {
  const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Pin every thread of `pids` to `cpus` (taskset list syntax); false if taskset is missing or refuses. */
function pin(pids: readonly number[], cpus: string): boolean {
  return pids.every((pid) => spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' }).status === 0);
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function throughput(db: PgConnectionConfig, selects: readonly string[]): Promise<{ raw: number; sync: number; rows: number }> {
  const source = await connect(db);
  const raws: number[] = [];
  const syncs: number[] = [];
  let rows = 0;
  try {
    for (let i = 0; i < REPS; i++) {
      const raw = await rawCopy(source, selects);
      const s = await syncOnce(db);
      if (s.rows !== raw.rows) throw new Error(`row mismatch: sync ${s.rows}, raw ${raw.rows}`);
      rows = raw.rows;
      raws.push((raw.rows * 1000) / raw.ms);
      syncs.push((s.rows * 1000) / s.ms);
    }
  } finally {
    await source.close();
  }
  return { raw: median(raws), sync: median(syncs), rows };
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const small = await createDatabase(server, 'bench_s1');
    const big = await createDatabase(server, `bench_s${SCALE}`);
    console.log(`generating samples at scale 1 and ${SCALE} (2015-2024)...`);
    await generateWrdsSample(small, { seed: 7, scale: 1, taqDays: 0 });
    await generateWrdsSample(big, { seed: 7, scale: SCALE, taqDays: 0 });
    const source = await connect(big);
    const columns = await source.columns(DSF.schema, DSF.table);
    await source.query('VACUUM ANALYZE');
    await source.close();
    const selects = Array.from({ length: 10 }, (_, i) => selectFor(DSF, columns, String(2015 + i)));

    const all = `0-${availableParallelism() - 1}`;
    const placements: { name: string; setup: () => boolean }[] = [
      { name: 'server apart (PostgreSQL on CPU 0, wh on CPU 1)', setup: () => availableParallelism() >= 2 && pin(serverPids(server), '0') && pin([process.pid], '1') },
      { name: `shared (both on CPUs ${all})`, setup: () => (pin(serverPids(server), all) && pin([process.pid], all)) || availableParallelism() === 1 },
    ];
    for (const p of placements) {
      if (!p.setup()) {
        console.log(`${p.name}: skipped (needs 2 CPUs and taskset)`);
        continue;
      }
      const r = await throughput(big, selects);
      console.log(`${p.name}: crsp_dsf at scale ${SCALE}, ${r.rows.toLocaleString()} rows in 10 yearly partitions`);
      console.log(`  raw COPY TO STDOUT (drained):  ${Math.round(r.raw).toLocaleString()} rows/s`);
      console.log(`  wh sync (to verified Parquet): ${Math.round(r.sync).toLocaleString()} rows/s`);
      console.log(`  ratio sync/raw = ${(r.sync / r.raw).toFixed(2)}  (goal >= 0.8)`);
    }
    const rss1 = median(Array.from({ length: REPS }, () => peakRssOfCliSync(small)));
    const rssN = median(Array.from({ length: REPS }, () => peakRssOfCliSync(big)));
    console.log(`peak RSS of \`wh sync crsp_dsf\` (median of ${REPS}): scale 1 ${rss1.toFixed(0)} MiB, scale ${SCALE} ${rssN.toFixed(0)} MiB, ratio ${(rssN / rss1).toFixed(2)}  (goal <= 1.2)`);
  } finally {
    await server.stop();
  }
}

await main();
