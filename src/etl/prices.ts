/**
 * `wh etl prices`: a unified daily prices dataset (one schema; each row names its security and the
 * provider that served it) built through the unified fetcher and partitioned by year. Incremental
 * per symbol; one deterministic merge per affected year (existing rows and fetched rows, sorted by
 * (symbol, date), the newest row winning a key); a rerun with the same inputs writes no event and
 * leaves the same objects. A killed run is resumed by the next one (its request is re-fetched).
 */
import { createWriteStream, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { WarehouseError, eventCatalog, withLease, type EventLog } from '../log/index.js';
import { openDuck, quoteLiteral, type Duck } from '../engine/index.js';
import { manifestAt } from '../projections/index.js';
import { sessionsBetweenCount } from '../calendar/index.js';
import { makeOwnedTempDir, objectPath, refreshCatalogQuietly, reportHealth, writePartition, type HealthReportData, type StatFs, type StepHook } from '../store/index.js';
import { createCrspProvider, createFetcher, createProviderRegistry, createYahooProvider, symbolSchema, type Fetcher } from '../providers/index.js';
import { openWarehouse } from '../query/index.js';
import { planFetches, unfinishedRun, type Coverage, type EtlRequest } from './plan.js';
import { appendRows, csvHeader, pricesColumns } from './fetched-csv.js';

export const etlSourceSchema = z.enum(['crsp', 'yahoo', 'auto']);
export type EtlSource = z.infer<typeof etlSourceSchema>;

export interface PricesEtlOptions {
  readonly dir: string;
  /** The warehouse log, opened for writing. */
  readonly log: EventLog;
  /** Target dataset (default `prices_daily`). */
  readonly dataset?: string;
  /** Symbols (tickers, or permnos for CRSP); or `universe`. */
  readonly symbols?: readonly string[];
  /** Take the symbols of the universe on this date (the fetcher's first provider that has one). */
  readonly universe?: string;
  readonly start: string;
  readonly end: string;
  readonly source?: EtlSource;
  /** `WH_ENV`: `production` gates development providers (Yahoo). */
  readonly env?: string;
  readonly allowDevelopmentInProduction?: boolean;
  readonly whVersion: string;
  readonly logger?: Logger;
  /** Symbols per fetcher call (default: about a million rows per call, at most 5000 symbols). */
  readonly batch?: number;
  readonly leaseTtlMs?: number;
  /** Injected statfs and write-step hook (tests: a full disk, a crash at a step). */
  readonly statfs?: StatFs;
  readonly onStep?: StepHook;
}

export interface PricesEtlResult {
  readonly dataset: string;
  readonly status: 'written' | 'unchanged';
  readonly symbols: number;
  readonly fetches: number;
  readonly fetchedRows: number;
  /** Symbols no provider served over the fetched ranges. */
  readonly unserved: readonly string[];
  readonly partitions: readonly { readonly partition: string; readonly status: 'written' | 'unchanged'; readonly rows: number }[];
  readonly resumedRun: string | null;
  readonly health: HealthReportData | null;
  readonly durationMs: number;
}

const silent = pino({ level: 'silent' });
const ROWS_PER_FETCH = 1_000_000;
const MAX_BATCH = 5000;

/** NYSE sessions in [start, end]; outside the calendar's range, weekdays as an estimate. */
function tradingDays(start: string, end: string): number {
  try {
    return sessionsBetweenCount(start, end);
  } catch {
    return Math.ceil(((Date.parse(end) - Date.parse(start)) / 86_400_000 + 1) * (5 / 7));
  }
}
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const COLS = pricesColumns.map((c) => c.name).join(', ');

function check(o: PricesEtlOptions): { dataset: string; start: string; end: string } {
  const dataset = o.dataset ?? 'prices_daily';
  if (!eventCatalog().datasetNameSchema.safeParse(dataset).success) throw new WarehouseError('INVALID_ARGUMENT', `"${dataset}" is not a valid dataset name`, { suggestion: 'lowercase letters, digits and _, e.g. prices_daily' });
  for (const [k, v] of [['--start', o.start], ['--end', o.end]] as const) {
    if (!isoDate.safeParse(v).success || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new WarehouseError('INVALID_ARGUMENT', `${k} "${v}" is not a date`, { suggestion: 'use YYYY-MM-DD' });
  }
  if (o.start > o.end) throw new WarehouseError('INVALID_ARGUMENT', `--start ${o.start} is after --end ${o.end}`, { suggestion: 'swap them' });
  if ((o.symbols === undefined || o.symbols.length === 0) === (o.universe === undefined)) {
    throw new WarehouseError('INVALID_ARGUMENT', 'give either --symbols or --universe <date>', { suggestion: 'e.g. --symbols AAPL,MSFT or --universe 2024-06-28' });
  }
  return { dataset, start: o.start, end: o.end };
}

function fetcherFor(session: Parameters<typeof createCrspProvider>[0], o: PricesEtlOptions, logger: Logger): Fetcher {
  const source = o.source ?? 'auto';
  return createFetcher({
    registry: createProviderRegistry([createCrspProvider(session), createYahooProvider(session)]),
    priority: source === 'auto' ? ['crsp', 'yahoo'] : [source],
    env: o.env,
    allowDevelopmentInProduction: o.allowDevelopmentInProduction,
    onMissing: 'report',
    logger,
  });
}

/**
 * Bring the prices dataset up to date for the request.
 * @throws WarehouseError `INVALID_ARGUMENT` (bad dates, names, symbols), `LEASE_HELD`, write-path errors.
 */
export async function runPricesEtl(o: PricesEtlOptions): Promise<PricesEtlResult> {
  const started = performance.now();
  const logger = o.logger ?? silent;
  const { dataset, start, end } = check(o);
  const wh = await openWarehouse(o.dir);
  // The fetched rows and DuckDB's spill files, in a directory this process owns (`wh gc` leaves it alone while the ETL runs).
  const work = makeOwnedTempDir(o.dir, 'etl');
  const tmp = join(work, 'fetched.csv');
  let duck: Duck | undefined;
  try {
    const fetcher = fetcherFor(wh.session, o, logger);
    const symbols = o.universe !== undefined
      ? [...(await fetcher.getUniverse(o.universe)).symbols]
      : [...new Set(o.symbols!.map((s) => {
          const r = symbolSchema.safeParse(s);
          if (!r.success) throw new WarehouseError('INVALID_ARGUMENT', `"${s.slice(0, 30)}" is not a symbol`, { suggestion: 'letters, digits and . - = ^ /, e.g. AAPL,BRK.B' });
          return r.data;
        }))].sort();
    if (symbols.length === 0) throw new WarehouseError('INVALID_ARGUMENT', `no provider has a universe on ${o.universe}`, { suggestion: 'pick a trading day inside the CRSP data, or give --symbols' });
    const coverage = new Map<string, Coverage>();
    if (wh.session.datasets.includes(dataset)) {
      for (const r of await wh.rows(`SELECT symbol, CAST(min(date) AS VARCHAR) AS first, CAST(max(date) AS VARCHAR) AS last FROM ${dataset} GROUP BY symbol`)) {
        coverage.set(String(r['symbol']), { first: String(r['first']), last: String(r['last']) });
      }
    }
    const request: EtlRequest = { symbols, start, end };
    const resume = unfinishedRun(o.log, dataset);
    // Symbols per fetcher call: about a million rows per call (bounded memory), whatever the range.
    const batch = o.batch ?? Math.max(1, Math.min(MAX_BATCH, Math.floor(ROWS_PER_FETCH / Math.max(1, tradingDays(start, end)))));
    const fetches = planFetches(request, coverage, resume, batch);
    const base = { dataset, symbols: symbols.length, fetches: fetches.length, resumedRun: resume?.runId ?? null };
    if (fetches.length === 0) {
      logger.info({ dataset }, 'every symbol is up to date; nothing to fetch');
      return { ...base, status: 'unchanged', fetchedRows: 0, unserved: [], partitions: [], health: null, durationMs: performance.now() - started };
    }

    // Fetch every batch into one CSV the writer's DuckDB reads (bounded memory: one batch at a time).
    const out = createWriteStream(tmp);
    out.write(csvHeader);
    let fetchedRows = 0;
    const unserved = new Set<string>();
    for (const [i, f] of fetches.entries()) {
      const r = await fetcher.getDailyPrices(f.symbols, f.start, f.end);
      fetchedRows += await appendRows(out, r.table, i, r.servedBy);
      for (const [s, p] of Object.entries(r.servedBy)) if (p === null) unserved.add(s);
      logger.info({ dataset, batch: i + 1, of: fetches.length, symbols: f.symbols.length, start: f.start, end: f.end, rows: r.table.numRows }, 'fetched');
    }
    await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
    wh.close();

    duck = await openDuck({ threads: 2, memoryLimit: '512MB', tempDirectory: join(work, 'duckdb') });
    const types = `{${pricesColumns.map((c) => `'${c.name}': '${c.type}'`).join(', ')}, 'ord': 'INTEGER'}`;
    await duck.run(`CREATE TEMP TABLE fetched AS SELECT * FROM read_csv(${quoteLiteral(tmp)}, header = true, columns = ${types}, quote = '"', escape = '"')`);
    const years = (await duck.all(`SELECT DISTINCT CAST(year(date) AS VARCHAR) AS y FROM fetched ORDER BY 1`)).rows.map((r) => String(r['y']));
    const result = await mergeYears(o, duck, dataset, years, request, resume, logger, started);
    return { ...base, ...result, fetchedRows, unserved: [...unserved].sort(), durationMs: performance.now() - started };
  } finally {
    wh.close();
    duck?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The merged rows of one year: existing and fetched, sorted by key, the newest row winning each key. */
function mergeSql(dir: string, existing: string | undefined, year: string): string {
  const old = existing === undefined ? '' : `SELECT ${COLS}, 0 AS src, 0 AS ord FROM read_parquet(${quoteLiteral(objectPath(dir, existing))}) UNION ALL `;
  return `SELECT ${COLS} FROM (
      SELECT *, row_number() OVER (PARTITION BY symbol, date ORDER BY src DESC, ord DESC, series, permno, provider, close) AS rn
      FROM (${old}SELECT ${COLS}, 1 AS src, ord FROM fetched WHERE year(date) = ${Number(year)}))
    WHERE rn = 1 ORDER BY symbol, date`;
}

async function mergeYears(o: PricesEtlOptions, duck: Duck, dataset: string, years: readonly string[], request: EtlRequest, resume: EtlRequest | null, logger: Logger, started: number) {
  const current = new Map(manifestAt(o.log, undefined, dataset).map((m) => [m.partition, m]));
  // Which years would change? Only those get a merge; none changed: no event at all.
  const changed: string[] = [];
  for (const y of years) {
    const e = current.get(y);
    if (e === undefined) { changed.push(y); continue; }
    // A fetched row (the latest fetch of its key) with no identical row in the object changes the year.
    const same = pricesColumns.map((c) => `f.${c.name} IS NOT DISTINCT FROM x.${c.name}`).join(' AND ');
    const diff = await duck.all(`SELECT count(*)::BIGINT AS n FROM (
        SELECT * FROM fetched WHERE year(date) = ${Number(y)} QUALIFY row_number() OVER (PARTITION BY symbol, date ORDER BY ord DESC, series, permno, provider, close) = 1) f
      ANTI JOIN read_parquet(${quoteLiteral(objectPath(o.dir, e.object))}) x ON f.symbol = x.symbol AND f.date = x.date AND ${same}`);
    if (Number(diff.rows[0]?.['n'] ?? 0) > 0) changed.push(y);
  }
  const partitions: { partition: string; status: 'written' | 'unchanged'; rows: number }[] = years
    .filter((y) => !changed.includes(y))
    .map((y) => ({ partition: y, status: 'unchanged', rows: current.get(y)?.rows ?? 0 }));
  if (changed.length === 0 && resume === null) return { status: 'unchanged' as const, partitions, health: null };
  return withLease(o.log, `dataset:${dataset}`, { purpose: `etl ${dataset}`, ttlMs: o.leaseTtlMs }, async (lease) => {
    const runId = randomUUID();
    const before = o.log.head().seq;
    const symbols = [...new Set([...request.symbols, ...(resume?.symbols ?? [])])].sort();
    const startDate = resume !== null && resume.start < request.start ? resume.start : request.start;
    const endDate = resume !== null && resume.end > request.end ? resume.end : request.end;
    o.log.append([{ type: 'EtlStarted', data: { runId, dataset, source: o.source ?? 'auto', symbols, start: startDate, end: endDate, partitions: changed } }], lease);
    let written = 0;
    for (const y of changed) {
      const e = manifestAt(o.log, undefined, dataset).find((m) => m.partition === y);
      const res = await writePartition(
        { dir: o.dir, log: o.log, duck, lease, logger, statfs: o.statfs, onStep: o.onStep },
        {
          dataset, partition: y, selectSql: mergeSql(o.dir, e?.object, y), columns: [...pricesColumns], key: ['symbol', 'date'], sortKey: ['symbol', 'date'],
          estimatedBytes: (e?.bytes ?? 0) * 2 + 1_000_000, refreshCatalog: false,
          lineage: { kind: 'derive', source: `fetcher:${o.source ?? 'auto'}`, sourceHash: null, sql: null, vintage: null, whVersion: o.whVersion },
        },
      );
      if (res.status === 'written') written += 1;
      partitions.push({ partition: y, status: res.status, rows: res.entry.rows });
      logger.info({ dataset, partition: y, status: res.status, rows: res.entry.rows }, 'partition');
    }
    await refreshCatalogQuietly(o.dir, o.log, logger);
    const fetchedRows = Number((await duck.all('SELECT count(*)::BIGINT AS n FROM fetched')).rows[0]?.['n'] ?? 0);
    o.log.append([{ type: 'EtlCompleted', data: { runId, dataset, written, unchanged: years.length - written, rows: fetchedRows, durationMs: Math.round(performance.now() - started) } }], lease);
    const health = written === 0 ? null : await reportHealth({ dir: o.dir, log: o.log, duck, dataset, trigger: 'etl', previousSeq: before, logger }).catch((err: Error) => {
      logger.warn({ err: err.message }, 'health report failed; the ETL itself is committed');
      return null;
    });
    partitions.sort((a, b) => (a.partition < b.partition ? -1 : 1));
    return { status: written > 0 ? ('written' as const) : ('unchanged' as const), partitions, health };
  });
}
