/**
 * Query overhead: `runQuery` (resolve the point, read the manifest, open DuckDB, create the views,
 * run, close) against raw DuckDB `read_parquet([the same object files])` with the same SQL, a fresh
 * connection each time and the same thread count, interleaved in the same run. The warehouse holds
 * a `prices` dataset of daily rows (permno x weekday) with one partition per year, each ingested
 * with `ingestFile` (key permno,date). Goal: overhead ratio <= 1.1 on a selective query.
 *
 *   node dist/bench/query.js [--quick] [--permnos N] [--years N] [--reps N] [--threads N] [--keep]
 */
import { join } from 'node:path';
import { z } from 'zod';
import { openDuck, quoteLiteral } from '../src/engine/index.js';
import type { EventLog } from '../src/log/index.js';
import { initWarehouse, objectFaults, objectPath, openWarehouseLog, recordedDamage } from '../src/store/index.js';
import { manifestAt, resolvePoint } from '../src/projections/index.js';
import { runQuery, toArrow, viewStatements } from '../src/query/index.js';
import { ingestFile } from '../src/sync/index.js';
import { isMain, nowMs, parseCli, report, row, say, stats, tempDir, timeAsync, timeSync, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/query.js [options]
  --quick        300 permnos x 3 years, 8 repetitions
  --permnos N    securities (default 2000)
  --years N      yearly partitions from 2015 (default 10)
  --reps N       timed repetitions per side (default 40)
  --threads N    DuckDB threads on both sides (default 2)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F (used by run-all)`;

const optionsSchema = z.object({
  permnos: z.coerce.number().int().positive().optional(),
  years: z.coerce.number().int().min(1).max(30).optional(),
  reps: z.coerce.number().int().positive().optional(),
  threads: z.coerce.number().int().positive().default(2),
});
export type QueryBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const FIRST_YEAR = 2015;
const FIRST_PERMNO = 10_000;

/** Write one Parquet file of daily rows per year with DuckDB; returns their paths. */
export async function generate(dir: string, permnos: number, years: number): Promise<string[]> {
  const duck = await openDuck({ threads: 2 });
  const files: string[] = [];
  try {
    for (let y = FIRST_YEAR; y < FIRST_YEAR + years; y++) {
      const file = join(dir, `prices-${y}.parquet`);
      await duck.run(`COPY (
        SELECT p.permno::INTEGER AS permno, t.d::DATE AS date,
               round(5 + (hash(p.permno, t.d) % 20000) / 100.0, 2) AS prc,
               ((hash(t.d, p.permno) % 2001)::DOUBLE - 1000) / 50000.0 AS ret,
               (hash(p.permno) % 5000000)::BIGINT AS vol
        FROM range(${FIRST_PERMNO}, ${FIRST_PERMNO + permnos}) p(permno),
             range(DATE '${y}-01-01', DATE '${y + 1}-01-01', INTERVAL 1 DAY) t(d)
        WHERE dayofweek(t.d) BETWEEN 1 AND 5
      ) TO ${quoteLiteral(file)} (FORMAT parquet)`);
      files.push(file);
    }
  } finally {
    duck.close();
  }
  return files;
}

/** A warehouse with one `prices` partition per year, each ingested through `ingestFile`. */
export async function buildWarehouse(root: string, files: readonly string[]): Promise<string> {
  const dir = join(root, 'wh');
  initWarehouse(dir, 'bench');
  const log = openWarehouseLog(dir);
  try {
    for (const [i, file] of files.entries()) {
      await ingestFile({ dir, log, dataset: 'prices', partition: String(FIRST_YEAR + i), file, key: ['permno', 'date'], whVersion: 'bench' });
    }
  } finally {
    log.close();
  }
  return dir;
}

/** The same SQL against raw `read_parquet([...])` in a fresh DuckDB. */
async function rawQuery(files: readonly string[], sql: string, threads: number, unionByName = false): Promise<readonly Record<string, unknown>[]> {
  const duck = await openDuck({ threads });
  try {
    const source = `read_parquet([${files.map(quoteLiteral).join(', ')}]${unionByName ? ', union_by_name = true' : ''})`;
    return (await duck.all(sql.replaceAll('FROM prices', `FROM ${source}`))).rows;
  } finally {
    duck.close();
  }
}

interface Case {
  readonly metric: string;
  readonly sql: string;
  readonly goal: boolean;
  /**
   * `runQuery` on the open log; `open+runQuery` also opens the log read-only inside the timed
   * region (the `wh query` path); `raw-union` is raw DuckDB with `union_by_name = true`, the reader
   * wh's views use, to separate that option's cost from wh's own.
   */
  readonly subject: 'runQuery' | 'open+runQuery' | 'raw-union' | 'size-check';
}

/** Median ms of subject and baseline over `reps`, alternating which runs first. */
async function compare(dir: string, log: EventLog, files: readonly string[], c: Case, reps: number, threads: number) {
  const subject = async (): Promise<readonly Record<string, unknown>[]> => {
    if (c.subject === 'raw-union') return rawQuery(files, c.sql, threads, true);
    if (c.subject === 'runQuery' || c.subject === 'size-check') return (await runQuery(dir, log, c.sql, { threads })).rows;
    const ro = openWarehouseLog(dir, { readonly: true });
    try {
      return (await runQuery(dir, ro, c.sql, { threads })).rows;
    } finally {
      ro.close();
    }
  };
  // 'size-check': runQuery with the per-object size/damage check against runQuery without it (issue 10: <= 2 %).
  const baseline = async (): Promise<readonly Record<string, unknown>[]> =>
    c.subject === 'size-check' ? (await runQuery(dir, log, c.sql, { threads, uncheckedObjects: true })).rows : rawQuery(files, c.sql, threads);
  const same = JSON.stringify(await subject()) === JSON.stringify(await baseline());
  for (let k = 0; k < 2; k++) (await subject(), await baseline());
  const s: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) (s.push(await timeAsync(subject)), b.push(await timeAsync(baseline)));
    else (b.push(await timeAsync(baseline)), s.push(await timeAsync(subject)));
  }
  return { subject: stats(s), baseline: stats(b), same };
}

/** Median ms of wh's own work before DuckDB: resolve the point, read the manifest, build the view SQL (stat every object). */
function preparationMs(dir: string, log: EventLog, reps: number): number {
  const t: number[] = [];
  for (let k = 0; k < reps; k++) t.push(timeSync(() => void viewStatements(dir, manifestAt(log, resolvePoint(log, undefined).seq))));
  return stats(t).median;
}

function cases(years: number): Case[] {
  const y = FIRST_YEAR + Math.floor(years / 2);
  const selective = `SELECT date, prc, ret FROM prices WHERE permno = ${FIRST_PERMNO + 42} AND date BETWEEN DATE '${y}-03-01' AND DATE '${y}-06-30' ORDER BY date`;
  return [
    { metric: 'selective (1 permno, 4 months), runQuery', sql: selective, goal: true, subject: 'runQuery' },
    { metric: 'selective, open read-only log + runQuery', sql: selective, goal: false, subject: 'open+runQuery' },
    { metric: 'selective, raw with union_by_name = true', sql: selective, goal: false, subject: 'raw-union' },
    { metric: 'selective, object size check: with vs without (runQuery both)', sql: selective, goal: false, subject: 'size-check' },
    { metric: 'full scan aggregate, runQuery', sql: 'SELECT count(*) AS n, round(avg(ret), 9) AS r, max(date) AS d FROM prices', goal: false, subject: 'runQuery' },
  ];
}

/** Run the query benchmark; returns its rows. */
export async function runQueryBench(options: QueryBenchOptions): Promise<BenchRow[]> {
  const permnos = options.permnos ?? (options.quick ? 300 : 2000);
  const years = options.years ?? (options.quick ? 3 : 10);
  const reps = options.reps ?? (options.quick ? 8 : 40);
  const tmp = tempDir('query', options.keep);
  const rows: BenchRow[] = [];
  try {
    let t0 = nowMs();
    const files = await generate(tmp.path, permnos, years);
    say(`query: generated ${permnos} permnos x ${years} years of weekdays in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    t0 = nowMs();
    const dir = await buildWarehouse(tmp.path, files);
    const log = openWarehouseLog(dir, { readonly: true });
    const entries = manifestAt(log, undefined, 'prices');
    const objects = entries.sort((a, b) => (a.partition < b.partition ? -1 : 1)).map((e) => objectPath(dir, e.object));
    const totalRows = entries.reduce((n, e) => n + e.rows, 0);
    say(`  ingested ${entries.length} partitions, ${totalRows.toLocaleString('en-US')} rows in ${((nowMs() - t0) / 1000).toFixed(1)} s; ${reps} reps per side, ${options.threads} threads`);
    for (const c of cases(years)) {
      const m = await compare(dir, log, objects, c, reps, options.threads);
      say(
        `  ${c.metric}: median ${m.subject.median.toFixed(2)} ms (min ${m.subject.min.toFixed(2)}, p99 ${m.subject.p99.toFixed(2)}) ` +
          `vs ${c.subject === 'size-check' ? 'without the check' : 'raw read_parquet'} ${m.baseline.median.toFixed(2)} ms (min ${m.baseline.min.toFixed(2)}, p99 ${m.baseline.p99.toFixed(2)}); ` +
          `ratio of medians ${(m.subject.median / m.baseline.median).toFixed(2)}, of minimums ${(m.subject.min / m.baseline.min).toFixed(2)}${m.same ? '' : '  RESULTS DIFFER'}`,
      );
      const goal = c.goal ? { text: '<= 1.10', met: (r: number) => r <= 1.1 } : null;
      rows.push(row('query', c.metric, m.subject.median, 'ms', m.baseline.median, c.subject === 'size-check' ? 'with/without' : 'wh/raw', goal));
    }
    // The size/damage check alone (a stat per object + two indexed log reads), timed directly: on a
    // loaded machine the A/B row above is dominated by noise. Its share of the selective query
    // without the check is what issue 10 bounds (<= 2 %).
    const checkT: number[] = [];
    for (let k = 0; k < 500; k++) checkT.push(timeSync(() => void objectFaults(dir, manifestAt(log), recordedDamage(log))));
    const check = stats(checkT).median;
    const sizeRow = rows.find((r) => r.metric.startsWith('selective, object size check'));
    const without = sizeRow?.baseline ?? rows[0]?.baseline ?? null;
    say(`  the object check alone (stat ${entries.length} objects + recorded damage): median ${check.toFixed(3)} ms = ${without === null ? '?' : ((check / without) * 100).toFixed(2)} % of the selective query without it`);
    rows.push(row('query', '  object size/damage check alone, share of selective query', check, 'ms', without, 'share', { text: '<= 0.02', met: (r) => r <= 0.02 }));
    const prep = preparationMs(dir, log, 200);
    say(`  wh's work before DuckDB (resolvePoint + manifestAt + viewStatements): median ${prep.toFixed(3)} ms`);
    rows.push(row('query', "  wh's work before DuckDB (resolve, manifest, view SQL)", prep, 'ms', rows[0]?.baseline ?? null, 'share of raw'));
    rows.push(...(await arrowConversion(objects, options.threads, Math.max(3, Math.round(reps / 8)))));
    log.close();
  } finally {
    tmp.dispose();
  }
  return rows;
}

/**
 * The Arrow table a library read returns (`wh.sql`, `wh.arrow`, the providers), on a result of up
 * to 1M rows of every column type the prices carry (INTEGER, DATE, DOUBLE, BIGINT) plus a VARCHAR:
 * read in Arrow's layout straight from DuckDB's vectors (engine/columnar.ts) against the previous
 * path (every value as a JS value, then Arrow's builders), with the query alone in DuckDB (run and
 * materialized, no row read into JS) as the floor. Interleaved.
 */
async function arrowConversion(objects: readonly string[], threads: number, reps: number): Promise<BenchRow[]> {
  const duck = await openDuck({ threads });
  try {
    const sql = `SELECT *, 'P' || permno AS ticker FROM read_parquet([${objects.map(quoteLiteral).join(', ')}]) LIMIT 1000000`;
    const n = (await toArrow(await duck.columns(sql))).numRows;
    const [query, fast, values]: [number[], number[], number[]] = [[], [], []];
    for (let k = 0; k < reps; k++) {
      query.push(await timeAsync(() => duck.run(sql)));
      fast.push(await timeAsync(async () => toArrow(await duck.columns(sql))));
      values.push(await timeAsync(async () => toArrow(await duck.columns(sql, [], { asValues: true }))));
    }
    const [q, f, v] = [stats(query).median, stats(fast).median, stats(values).median];
    const rate = (ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
    say(`  Arrow read of ${n.toLocaleString('en-US')} rows x 6 columns: query alone ${q.toFixed(0)} ms; wh (Arrow layout from DuckDB's vectors) ${f.toFixed(0)} ms (${rate(f)} rows/s); JS values + Arrow's builders ${v.toFixed(0)} ms (${rate(v)} rows/s)`);
    return [
      row('query', `  Arrow read, ${n.toLocaleString('en-US')} rows: wh vs the query alone`, f, 'ms', q, 'wh/query (lower is better)'),
      row('query', `  Arrow read, ${n.toLocaleString('en-US')} rows: wh vs JS values + builders`, f, 'ms', v, 'wh/previous (lower is better)'),
    ];
  } finally {
    duck.close();
  }
}

if (isMain(import.meta.url)) {
  const options = parseCli(
    process.argv.slice(2),
    { permnos: { type: 'string' }, years: { type: 'string' }, reps: { type: 'string' }, threads: { type: 'string' } },
    optionsSchema,
    USAGE,
  );
  report(await runQueryBench(options), options);
}
