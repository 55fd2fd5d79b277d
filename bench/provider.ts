/**
 * Provider overhead at CRSP scale: a warehouse holding a generated `crsp_dsf` (N permnos x Y years
 * of weekday rows with the WRDS columns, one partition per year ingested with `ingestFile`),
 * `crsp_dsenames` and `crsp_dsedelist`. In the same run, interleaved, with the same thread count:
 *
 * - selective: `dailyPrices` (one permno, its full history; every DATA-RULES rule applied) on an
 *   open warehouse session, against raw DuckDB `read_parquet([the same object files])` selecting
 *   that permno's rows (all WRDS columns) on an open connection; both sides return an Arrow table
 *   built the same way (`toArrow`). Goal: ratio <= 1.1.
 * - the same against raw `read_parquet(..., union_by_name = true)`, the reader the warehouse's views
 *   use (so the difference is the provider's own work); the SQL work without materializing the
 *   result in JS (a hash of every row); and the
 *   provider against a hand-written query applying the same rules over the raw files (informative).
 * - universe as of a date: `universe(d)` against a hand-written names screen + first-trade check over
 *   the raw files (informative), and its absolute time.
 *
 *   node dist/bench/provider.js [--quick] [--permnos N] [--years N] [--reps N] [--threads N] [--keep]
 */
import { join } from 'node:path';
import { z } from 'zod';
import { openDuck, quoteLiteral, type Duck } from '../src/engine/index.js';
import { initWarehouse, objectPath, openWarehouseLog } from '../src/store/index.js';
import { manifestAt } from '../src/projections/index.js';
import { openWarehouse, toArrow } from '../src/query/index.js';
import { dailyPrices, planPrices, universe } from '../src/providers/index.js';
import { ingestFile } from '../src/sync/index.js';
import { isMain, nowMs, parseCli, report, row, say, stats, tempDir, timeAsync, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/provider.js [options]
  --quick        500 permnos x 4 years, 10 repetitions
  --permnos N    securities (default 5000)
  --years N      yearly partitions from 2005 (default 20)
  --reps N       timed repetitions per side (default 30)
  --threads N    DuckDB threads on both sides (default 2)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F (used by run-all)`;

const optionsSchema = z.object({
  permnos: z.coerce.number().int().positive().optional(),
  years: z.coerce.number().int().min(1).max(40).optional(),
  reps: z.coerce.number().int().positive().optional(),
  threads: z.coerce.number().int().positive().default(2),
});
export type ProviderBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const FIRST_YEAR = 2005;
const FIRST_PERMNO = 10_000;

/** One Parquet file per year of dsf-shaped rows, plus names and delistings; returns their paths. */
async function generate(dir: string, permnos: number, years: number): Promise<{ dsf: string[]; names: string; delist: string }> {
  const duck = await openDuck({ threads: 2 });
  const last = FIRST_YEAR + years - 1;
  // Every 10th security delists at a random point of the sample; every 7th lists late (first trade after 2005).
  const life = `(SELECT p AS permno,
      CASE WHEN p % 7 = 0 THEN DATE '${FIRST_YEAR}-01-03' + CAST(hash(p, 'ipo') % ${years * 300} AS INTEGER) ELSE DATE '${FIRST_YEAR}-01-03' END AS first_date,
      CASE WHEN p % 10 = 0 THEN DATE '${FIRST_YEAR}-06-01' + CAST(hash(p, 'del') % ${years * 330} AS INTEGER) ELSE DATE '${last}-12-31' END AS last_date
    FROM range(${FIRST_PERMNO}, ${FIRST_PERMNO + permnos}) t(p))`;
  const files: string[] = [];
  try {
    for (let y = FIRST_YEAR; y <= last; y++) {
      const file = join(dir, `dsf-${y}.parquet`);
      await duck.run(`COPY (
        SELECT 'C' || l.permno AS cusip, CAST(l.permno AS INTEGER) AS permno, CAST(l.permno + 40000 AS INTEGER) AS permco, CAST(t.d AS DATE) AS date,
          round(p * 0.99, 4) AS bidlo, round(p * 1.01, 4) AS askhi,
          CASE WHEN hash(l.permno, t.d) % 97 = 0 THEN -p WHEN hash(l.permno, t.d) % 499 = 0 THEN NULL ELSE p END AS prc,
          CAST(hash(l.permno) % 5000000 AS DOUBLE) AS vol,
          CASE WHEN hash(t.d, l.permno) % 211 = 0 THEN NULL ELSE ((hash(t.d, l.permno) % 2001)::DOUBLE - 1000) / 50000.0 END AS ret,
          round(p - 0.01, 4) AS bid, round(p + 0.01, 4) AS ask, CAST(1000 + l.permno % 9000 AS DOUBLE) AS shrout,
          CASE WHEN l.permno % 5 = 0 AND t.d < DATE '${FIRST_YEAR + Math.floor(years / 2)}-06-15' THEN 2.0 ELSE 1.0 END AS cfacpr,
          CASE WHEN l.permno % 5 = 0 AND t.d < DATE '${FIRST_YEAR + Math.floor(years / 2)}-06-15' THEN 2.0 ELSE 1.0 END AS cfacshr,
          round(p * 1.001, 4) AS openprc, CAST(hash(l.permno, t.d) % 900 AS INTEGER) AS numtrd, 0.0 AS retx
        FROM ${life} l, range(DATE '${y}-01-01', DATE '${y + 1}-01-01', INTERVAL 1 DAY) t(d),
          LATERAL (SELECT round(5 + (hash(l.permno, t.d) % 20000) / 100.0, 2) AS p)
        WHERE dayofweek(t.d) BETWEEN 1 AND 5 AND t.d BETWEEN l.first_date AND l.last_date
        ORDER BY permno, date
      ) TO ${quoteLiteral(file)} (FORMAT parquet)`);
      files.push(file);
    }
    const names = join(dir, 'names.parquet');
    await duck.run(`COPY (SELECT CAST(permno AS INTEGER) AS permno, first_date AS namedt, last_date AS nameendt, CAST(CASE WHEN permno % 13 = 0 THEN 12 ELSE 11 END AS INTEGER) AS shrcd,
        CAST(1 + permno % 3 AS INTEGER) AS exchcd, 'T' || permno AS ticker, 'FIRM ' || permno AS comnam, CAST(permno + 40000 AS INTEGER) AS permco FROM ${life} ORDER BY permno) TO ${quoteLiteral(names)} (FORMAT parquet)`);
    const delist = join(dir, 'delist.parquet');
    await duck.run(`COPY (SELECT CAST(permno AS INTEGER) AS permno, CAST(permno + 40000 AS INTEGER) AS permco, CASE WHEN permno % 10 = 0 THEN last_date + 1 ELSE last_date END AS dlstdt,
        CAST(CASE WHEN permno % 10 = 0 THEN (CASE WHEN permno % 20 = 0 THEN 552 ELSE 231 END) ELSE 100 END AS INTEGER) AS dlstcd,
        CASE WHEN permno % 10 = 0 AND permno % 20 <> 0 THEN 0.05 END AS dlret FROM ${life} ORDER BY permno) TO ${quoteLiteral(delist)} (FORMAT parquet)`);
    return { dsf: files, names, delist };
  } finally {
    duck.close();
  }
}

/** Median ms of subject and baseline over `reps`, alternating which runs first. */
async function compare(subject: () => Promise<unknown>, baseline: () => Promise<unknown>, reps: number) {
  for (let k = 0; k < 2; k++) (await subject(), await baseline());
  const s: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) (s.push(await timeAsync(subject)), b.push(await timeAsync(baseline)));
    else (b.push(await timeAsync(baseline)), s.push(await timeAsync(subject)));
  }
  return { subject: stats(s), baseline: stats(b) };
}

/** Run the provider benchmark; returns its rows. */
export async function runProviderBench(options: ProviderBenchOptions): Promise<BenchRow[]> {
  const permnos = options.permnos ?? (options.quick ? 500 : 5000);
  const years = options.years ?? (options.quick ? 4 : 20);
  const reps = options.reps ?? (options.quick ? 10 : 30);
  const tmp = tempDir('provider', options.keep);
  const rows: BenchRow[] = [];
  let raw: Duck | undefined;
  try {
    let t0 = nowMs();
    const gen = await generate(tmp.path, permnos, years);
    say(`provider: generated ${permnos} permnos x ${years} years of dsf rows in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    t0 = nowMs();
    const dir = join(tmp.path, 'wh');
    initWarehouse(dir, 'bench');
    const log = openWarehouseLog(dir);
    try {
      for (const [i, file] of gen.dsf.entries()) await ingestFile({ dir, log, dataset: 'crsp_dsf', partition: String(FIRST_YEAR + i), file, key: ['permno', 'date'], whVersion: 'bench' });
      await ingestFile({ dir, log, dataset: 'crsp_dsenames', partition: 'all', file: gen.names, key: ['permno', 'namedt'], whVersion: 'bench' });
      await ingestFile({ dir, log, dataset: 'crsp_dsedelist', partition: 'all', file: gen.delist, key: ['permno', 'dlstdt'], whVersion: 'bench' });
    } finally {
      log.close();
    }
    const ro = openWarehouseLog(dir, { readonly: true });
    const objects = (dataset: string): string[] => manifestAt(ro, undefined, dataset).sort((a, b) => (a.partition < b.partition ? -1 : 1)).map((e) => objectPath(dir, e.object));
    const [dsf, names, delist] = [objects('crsp_dsf'), objects('crsp_dsenames')[0]!, objects('crsp_dsedelist')[0]!];
    const total = manifestAt(ro, undefined, 'crsp_dsf').reduce((n, e) => n + e.rows, 0);
    ro.close();
    say(`  ingested ${dsf.length} dsf partitions, ${total.toLocaleString('en-US')} rows in ${((nowMs() - t0) / 1000).toFixed(1)} s; ${reps} reps per side, ${options.threads} threads`);

    const wh = await openWarehouse(dir, { threads: options.threads });
    raw = await openDuck({ threads: options.threads });
    const src = `read_parquet([${dsf.map(quoteLiteral).join(', ')}])`;
    try {
      const permno = FIRST_PERMNO + 20; // delists mid-sample (every 10th), with a split (every 5th)
      const start = `${FIRST_YEAR}-01-01`;
      const end = `${FIRST_YEAR + years - 1}-12-31`;
      const provider = () => dailyPrices(wh.session, { permnos: [permno], start, end });
      const rawSql = `SELECT * FROM ${src} WHERE permno = $1 AND date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE) ORDER BY date`;
      const rawArrow = async () => toArrow(await raw!.columns(rawSql, [permno, start, end]));
      const plan = await planPrices(wh.session, 'daily', { permnos: [permno], start, end });
      const providerCount = () => wh.session.duck.all(`SELECT count(*) AS n, bit_xor(hash(t)) AS h FROM (${plan.query.sql}) t`, plan.query.params);
      const rawCount = () => raw!.all(`SELECT count(*) AS n, bit_xor(hash(t)) AS h FROM (${rawSql}) t`, [permno, start, end]);
      const handWritten = async () =>
        toArrow(await raw!.columns(
          `WITH px AS (SELECT * FROM ${src} WHERE permno = $1 AND date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)),
            dl AS (SELECT permno, dlstdt, CASE WHEN dlret IS NOT NULL THEN dlret WHEN dlstcd = 500 OR dlstcd BETWEEN 520 AND 584 THEN -0.3 END AS dlret
                   FROM read_parquet(${quoteLiteral(delist)}) WHERE permno = $1 AND dlstcd <> 100 AND dlstdt BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE))
          SELECT coalesce(px.date, dl.dlstdt) AS date, coalesce(px.permno, dl.permno) AS permno, px.prc, CASE WHEN px.prc = 0 THEN NULL ELSE abs(px.prc) END AS price,
            px.ret, dl.dlret, CASE WHEN dl.dlret IS NULL THEN px.ret WHEN px.ret IS NULL THEN dl.dlret ELSE (1 + px.ret) * (1 + dl.dlret) - 1 END AS total_ret,
            abs(px.prc) * px.shrout * 1000 AS market_cap, abs(px.prc) / px.cfacpr AS adj_price
          FROM px FULL JOIN dl ON px.permno = dl.permno AND px.date = dl.dlstdt WHERE px.permno IS NOT NULL OR dl.dlret IS NOT NULL ORDER BY date`,
          [permno, start, end],
        ));
      const n = (await provider()).numRows;
      say(`  selective: permno ${permno}, ${start}..${end}: provider ${n} rows (with its added delisting row), raw ${(await rawArrow()).numRows} rows`);
      const m1 = await compare(provider, rawArrow, reps);
      say(`  selective (1 permno, full history) to Arrow: provider median ${m1.subject.median.toFixed(2)} ms (p99 ${m1.subject.p99.toFixed(2)}) vs raw read_parquet ${m1.baseline.median.toFixed(2)} ms, ratio ${(m1.subject.median / m1.baseline.median).toFixed(2)}`);
      rows.push(row('provider', 'selective (1 permno, full history) vs raw read_parquet, to Arrow', m1.subject.median, 'ms', m1.baseline.median, 'provider/raw', { text: '<= 1.10', met: (r) => r <= 1.1 }));
      // The warehouse's views read with union_by_name = true (older partitions may lack columns): the same read, raw.
      const srcUnion = src.replace(/\]\)$/, '], union_by_name = true)');
      const rawUnionArrow = async () => toArrow(await raw!.columns(rawSql.replace(src, srcUnion), [permno, start, end]));
      const mu = await compare(provider, rawUnionArrow, reps);
      say(`  selective vs raw read_parquet with union_by_name = true (the views' reader): ${mu.subject.median.toFixed(2)} ms vs ${mu.baseline.median.toFixed(2)} ms, ratio ${(mu.subject.median / mu.baseline.median).toFixed(2)}`);
      rows.push(row('provider', 'selective vs raw read_parquet, union_by_name = true', mu.subject.median, 'ms', mu.baseline.median, 'provider/raw', null));
      const m0 = await compare(providerCount, rawCount, reps);
      say(`  selective, DuckDB work only (hash of every row, no JS result): ${m0.subject.median.toFixed(2)} ms vs ${m0.baseline.median.toFixed(2)} ms, ratio ${(m0.subject.median / m0.baseline.median).toFixed(2)}`);
      rows.push(row('provider', 'selective, DuckDB work only (no JS result)', m0.subject.median, 'ms', m0.baseline.median, 'provider/raw', null));
      const m2 = await compare(provider, handWritten, reps);
      say(`  selective vs hand-written rules over raw files: ${m2.subject.median.toFixed(2)} ms vs ${m2.baseline.median.toFixed(2)} ms, ratio ${(m2.subject.median / m2.baseline.median).toFixed(2)}`);
      rows.push(row('provider', 'selective vs hand-written rules on raw files', m2.subject.median, 'ms', m2.baseline.median, 'provider/raw', null));

      const d = `${FIRST_YEAR + Math.floor(years / 2)}-03-15`;
      const uni = () => universe(wh.session, d);
      const uniRaw = async () =>
        toArrow(await raw!.columns(
          `WITH nm AS (SELECT * FROM read_parquet(${quoteLiteral(names)}) WHERE namedt <= CAST($1 AS DATE) AND CAST($1 AS DATE) <= nameendt AND shrcd IN (10, 11) AND exchcd IN (1, 2, 3))
          SELECT * FROM nm WHERE permno IN (SELECT DISTINCT permno FROM ${src} WHERE date <= CAST($1 AS DATE)) ORDER BY permno`,
          [d],
        ));
      say(`  universe on ${d}: ${(await uni()).numRows} securities`);
      const m3 = await compare(uni, uniRaw, reps);
      say(`  universe as of a date: provider median ${m3.subject.median.toFixed(2)} ms (p99 ${m3.subject.p99.toFixed(2)}) vs hand-written ${m3.baseline.median.toFixed(2)} ms, ratio ${(m3.subject.median / m3.baseline.median).toFixed(2)}`);
      rows.push(row('provider', `universe as of ${d} vs hand-written on raw files`, m3.subject.median, 'ms', m3.baseline.median, 'provider/raw', null));
    } finally {
      wh.close();
    }
  } finally {
    raw?.close();
    tmp.dispose();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const options = parseCli(
    process.argv.slice(2),
    { permnos: { type: 'string' }, years: { type: 'string' }, reps: { type: 'string' }, threads: { type: 'string' } },
    optionsSchema,
    USAGE,
  );
  report(await runProviderBench(options), options);
}
