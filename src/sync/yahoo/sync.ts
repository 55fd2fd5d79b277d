/**
 * `syncYahoo`: Yahoo Finance daily bars and split/dividend events into the warehouse, for
 * development only. Two phases:
 *
 * 1. Stage (nothing recorded): for each symbol, fetch the chart, check and parse it, and write its
 *    bars and events as NDJSON under `tmp/yahoo-<run>/` (one symbol in memory at a time). Any bad
 *    argument, bad payload or unreachable source stops here: the log is untouched.
 * 2. Write, holding `dataset:yahoo_daily` then `dataset:yahoo_events`: per symbol, its events
 *    partition then its bars partition, each through `writePartition` (DuckDB `read_json` of the
 *    staged file → sorted Parquet), with lineage { kind 'sync', source: the request URL, sourceHash:
 *    SHA-256 of the body, vintage: the fetch date }. Unchanged content records no PartitionWritten.
 *
 * A partition holds exactly the window of the last sync of that symbol (all rows on one price
 * basis: split-adjusted as of one fetch date). Afterwards, if the warehouse holds crsp_dsf and
 * crsp_dsenames, closes are compared with CRSP's (see `driftAgainstCrsp`).
 */
import { randomUUID } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { WarehouseError, isWarehouseError, withLease, type Column, type EventLog, type Lease, type Lineage } from '../../log/index.js';
import { manifestAt } from '../../projections/index.js';
import { viewStatements } from '../../store/index.js';
import { openDuck, quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { StatFs } from '../../store/index.js';
import { refreshCatalogQuietly, writePartition } from '../../store/index.js';
import { makeOwnedTempDir } from '../../store/index.js';
import { adjustmentFactors, checkAgainstYahoo, type YahooCheck } from '../../pricing/index.js';
import { chartPeriod, createYahooClient, normalizeSymbol, type YahooClient, type YahooClientOptions } from './client.js';
import { parseChart, type ParsedChart, type PriceBasis } from './parse.js';

export const YAHOO_DAILY = 'yahoo_daily';
export const YAHOO_EVENTS = 'yahoo_events';

const c = (name: string, type: string): Column => ({ name, type });
/** Columns of `yahoo_daily` (key symbol, date). */
export const yahooDailyColumns: readonly Column[] = [
  c('symbol', 'VARCHAR'), c('date', 'DATE'), c('open', 'DOUBLE'), c('high', 'DOUBLE'), c('low', 'DOUBLE'), c('close', 'DOUBLE'),
  c('volume', 'BIGINT'), c('adjclose', 'DOUBLE'), c('currency', 'VARCHAR'), c('source_currency', 'VARCHAR'),
  c('price_basis', 'VARCHAR'), c('exchange_tz', 'VARCHAR'), c('epoch_s', 'BIGINT'),
];
/** Columns of `yahoo_events` (key symbol, date, kind; kind is 'split' or 'dividend'). */
export const yahooEventColumns: readonly Column[] = [
  c('symbol', 'VARCHAR'), c('date', 'DATE'), c('kind', 'VARCHAR'), c('numerator', 'DOUBLE'), c('denominator', 'DOUBLE'),
  c('amount', 'DOUBLE'), c('currency', 'VARCHAR'), c('epoch_s', 'BIGINT'),
];

/**
 * The partition key of a symbol: letters, digits, `.` and `-` as they are; any other character as
 * `_` + two hex digits; an `x` in front when the result would not start with a letter or digit.
 * Injective (symbols are upper case and never contain `_`): `^GSPC` → `x_5EGSPC`, `EURUSD=X` → `EURUSD_3DX`.
 */
export function symbolPartition(symbol: string): string {
  const body = normalizeSymbol(symbol).replace(/[^A-Z0-9.-]/g, (ch) => `_${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return /^[A-Z0-9]/.test(body) ? body : `x${body}`;
}

export interface YahooSyncOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly symbols: readonly string[];
  /** First and last day (YYYY-MM-DD, inclusive, exchange-local). */
  readonly start: string;
  readonly end: string;
  /** Default the real `https://query2.finance.yahoo.com`; a replay server in tests. */
  readonly baseUrl?: string;
  readonly whVersion: string;
  readonly logger?: Logger;
  /** The environment as the CLI read it; only `WH_ENV` is looked at. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Run even when `WH_ENV` is 'production'. */
  readonly allowProduction?: boolean;
  /** Store GBp/ZAc/ILA prices in GBP/ZAR/ILS (÷ 100). Default: as Yahoo gives them. */
  readonly minorToMajor?: boolean;
  /** Client settings (rate, retries, injected fetch/clock); `baseUrl` and `logger` come from above. */
  readonly clientOptions?: Omit<YahooClientOptions, 'baseUrl' | 'logger'>;
  /** Median |relative difference| to CRSP above which a drift warning is logged (default 0.01). */
  readonly driftThreshold?: number;
  readonly leaseTtlMs?: number;
  readonly statfs?: StatFs;
}

export interface YahooSymbolResult {
  readonly symbol: string;
  readonly partition: string;
  readonly url: string;
  readonly sourceHash: string;
  readonly vintage: string;
  readonly bars: number;
  readonly events: number;
  /** 'skipped' when the window held no bar: the symbol's partitions are left as they were. */
  readonly daily: 'written' | 'unchanged' | 'skipped';
  readonly eventsStatus: 'written' | 'unchanged' | 'skipped';
  readonly priceBasis: PriceBasis;
  readonly basisEvidence: string;
  readonly currency: string | null;
  /** Local adjustment vs Yahoo's adjclose (up to Yahoo's anchor); null without adjclose. */
  readonly adjCheck: YahooCheck | null;
  /** Comparison with CRSP; null when the warehouse has no CRSP daily file or no match. */
  readonly drift: DriftReport | null;
  readonly notes: readonly string[];
}

export interface YahooSyncResult {
  readonly runId: string;
  readonly symbols: readonly YahooSymbolResult[];
}

interface Staged {
  readonly symbol: string;
  readonly partition: string;
  readonly url: string;
  readonly sha256: string;
  readonly vintage: string;
  readonly barsFile: string;
  readonly eventsFile: string;
  readonly bars: number;
  readonly events: number;
  readonly parsed: Omit<ParsedChart, 'bars' | 'dividends'>;
  readonly adjCheck: YahooCheck | null;
}

const silent = pino({ level: 'silent' });
/** Yahoo's adjclose may differ from the local series by float32 rounding; more than this is a mismatch. */
const ADJ_TOLERANCE = 1e-4;

/**
 * Refuse the development source in production unless explicitly allowed.
 * @throws WarehouseError INVALID_ARGUMENT naming the `allowProduction` flag.
 */
export function assertDevelopmentSource(env: YahooSyncOptions['env'], allowProduction: boolean | undefined): void {
  if (env?.['WH_ENV'] === 'production' && allowProduction !== true) {
    throw new WarehouseError('INVALID_ARGUMENT', 'the Yahoo Finance source is for development only and WH_ENV is "production"', {
      suggestion: 'use WRDS/CRSP data in production; to override deliberately pass allowProduction: true (`wh yahoo sync --allow-production`)',
      details: { source: 'yahoo', kind: 'production_refused' },
    });
  }
}

/**
 * Sync daily bars and events of `symbols` over [start, end].
 * @throws WarehouseError: INVALID_ARGUMENT (bad symbol, range, base URL; production), the client's
 * errors (`details.kind`), LeaseHeldError; in all of these nothing but lease bookkeeping is recorded.
 * @example
 * ```ts
 * await syncYahoo({ dir, log, symbols: ['AAPL'], start: '2020-01-01', end: '2020-12-31', whVersion: '0.1.0', env: process.env });
 * ```
 */
export async function syncYahoo(o: YahooSyncOptions): Promise<YahooSyncResult> {
  assertDevelopmentSource(o.env, o.allowProduction);
  const symbols = [...new Set(o.symbols.map(normalizeSymbol))];
  if (symbols.length === 0) {
    throw new WarehouseError('INVALID_ARGUMENT', 'no symbol given', { suggestion: 'name symbols, e.g. --symbols AAPL,MSFT' });
  }
  chartPeriod(o.start, o.end);
  const logger = (o.logger ?? silent).child({ source: 'yahoo' });
  const client = createYahooClient({ ...o.clientOptions, baseUrl: o.baseUrl, logger });
  const runId = randomUUID();
  const stageDir = makeOwnedTempDir(o.dir, 'yahoo');
  try {
    const staged: Staged[] = [];
    for (const symbol of symbols) staged.push(await stage(client, o, symbol, stageDir, logger));
    const duck = await openDuck({ threads: 2, memoryLimit: '1GB', tempDirectory: join(stageDir, 'duckdb') });
    try {
      const written = await writeAll(o, duck, runId, staged, client.baseUrl, logger);
      const results: YahooSymbolResult[] = [];
      for (const [i, s] of staged.entries()) {
        const drift = await driftAgainstCrsp({ dir: o.dir, log: o.log, duck, symbol: s.symbol, barsFile: s.barsFile, splits: s.parsed.splits, priceBasis: s.parsed.priceBasis, threshold: o.driftThreshold ?? 0.01, logger });
        if (drift?.alerted) {
          const message = `${s.symbol}: Yahoo closes differ from CRSP abs(prc) by a median ${(drift.medianAbsRelDiff * 100).toFixed(2)} % over ${drift.matched} day(s)`;
          o.log.append([{ type: 'SyncAlert', data: { alert: 'source_drift', dataset: 'yahoo_daily', message } }]);
        }
        if (s.adjCheck !== null && s.adjCheck.maxRelError > ADJ_TOLERANCE) {
          const message = `${s.symbol}: local adjustment differs from Yahoo's adjclose by up to ${(s.adjCheck.maxRelError * 100).toFixed(3)} %`;
          o.log.append([{ type: 'SyncAlert', data: { alert: 'adjclose_mismatch', dataset: 'yahoo_daily', message } }]);
        }
        results.push({ ...summary(s), ...written[i]!, drift });
      }
      return { runId, symbols: results };
    } finally {
      duck.close();
    }
  } finally {
    await rm(stageDir, { recursive: true, force: true });
  }
}

function summary(s: Staged): Omit<YahooSymbolResult, 'daily' | 'eventsStatus' | 'drift'> {
  return {
    symbol: s.symbol, partition: s.partition, url: s.url, sourceHash: s.sha256, vintage: s.vintage, bars: s.bars, events: s.events,
    priceBasis: s.parsed.priceBasis, basisEvidence: s.parsed.basisEvidence, currency: s.parsed.currency, adjCheck: s.adjCheck, notes: s.parsed.notes,
  };
}

/** Fetch, check, parse and stage one symbol; its rows leave memory when this returns. */
async function stage(client: YahooClient, o: YahooSyncOptions, symbol: string, stageDir: string, logger: Logger): Promise<Staged> {
  const chart = await client.fetchChart({ symbol, start: o.start, end: o.end });
  const parsed = parseChart(chart.result, { symbol, from: o.start, to: o.end, minorToMajor: o.minorToMajor });
  const partition = symbolPartition(symbol);
  const base = { symbol, currency: parsed.currency };
  const barLines = parsed.bars.map((b) =>
    JSON.stringify({ ...base, date: b.date, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, adjclose: b.adjclose, source_currency: parsed.sourceCurrency, price_basis: parsed.priceBasis, exchange_tz: parsed.exchangeTimezone, epoch_s: b.epochS }),
  );
  const eventLines = [
    ...parsed.splits.map((s) => JSON.stringify({ ...base, date: s.date, kind: 'split', numerator: s.numerator, denominator: s.denominator, amount: null, epoch_s: s.epochS })),
    ...parsed.dividends.map((d) => JSON.stringify({ ...base, date: d.date, kind: 'dividend', numerator: null, denominator: null, amount: d.amount, epoch_s: d.epochS })),
  ];
  const barsFile = join(stageDir, `${partition}.bars.ndjson`);
  const eventsFile = join(stageDir, `${partition}.events.ndjson`);
  writeFileSync(barsFile, barLines.map((l) => l + '\n').join(''));
  writeFileSync(eventsFile, eventLines.map((l) => l + '\n').join(''));
  const adjCheck = checkAgainstYahoo(parsed.bars, adjustmentFactors(parsed.bars, parsed, parsed.priceBasis));
  if (adjCheck !== null && adjCheck.maxRelError > ADJ_TOLERANCE) {
    logger.warn(
      { alert: 'yahoo_adjclose_mismatch', symbol, maxRelError: adjCheck.maxRelError, worstDate: adjCheck.worstDate },
      `${symbol}: the local adjustment differs from Yahoo's adjclose by up to ${(adjCheck.maxRelError * 100).toFixed(3)} % (events missing from the payload?)`,
    );
  }
  for (const note of parsed.notes) logger.info({ symbol }, note);
  const { bars: _b, dividends: _d, ...rest } = parsed;
  return { symbol, partition, url: chart.url, sha256: chart.sha256, vintage: chart.fetchedAt.slice(0, 10), barsFile, eventsFile, bars: parsed.bars.length, events: eventLines.length, parsed: rest, adjCheck };
}

const spec = (cols: readonly Column[]): string => `{${cols.map((col) => `${quoteLiteral(col.name)}: ${quoteLiteral(col.type)}`).join(', ')}}`;
const readStaged = (file: string, cols: readonly Column[]): string =>
  `read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = ${spec(cols)})`;

/** Phase 2: both leases, SyncStarted, per symbol events then bars, SyncCompleted (or SyncFailed). */
async function writeAll(o: YahooSyncOptions, duck: Duck, runId: string, staged: readonly Staged[], baseUrl: string, logger: Logger): Promise<Pick<YahooSymbolResult, 'daily' | 'eventsStatus'>[]> {
  const started = Date.now();
  const vintage = staged[0]?.vintage ?? null;
  const partitions = staged.map((s) => s.partition);
  const source = `yahoo v8 chart ${baseUrl}`;
  return withLease(o.log, `dataset:${YAHOO_DAILY}`, { purpose: `yahoo sync ${YAHOO_DAILY}`, ttlMs: o.leaseTtlMs }, (daily) =>
    withLease(o.log, `dataset:${YAHOO_EVENTS}`, { purpose: `yahoo sync ${YAHOO_EVENTS}`, ttlMs: o.leaseTtlMs }, async (events) => {
      const leases: [string, Lease][] = [[YAHOO_DAILY, daily], [YAHOO_EVENTS, events]];
      for (const [dataset, lease] of leases) {
        o.log.append([{ type: 'SyncStarted', data: { runId, dataset, source, vintage, comment: `${o.start}..${o.end}`, partitions, full: true } }], lease);
      }
      const out: Pick<YahooSymbolResult, 'daily' | 'eventsStatus'>[] = [];
      let current: string | null = null;
      try {
        for (const s of staged) {
          current = s.partition;
          if (s.bars === 0) {
            logger.warn({ symbol: s.symbol, start: o.start, end: o.end }, `${s.symbol}: no bar in the window; its partitions are left as they were`);
            out.push({ daily: 'skipped', eventsStatus: 'skipped' });
            continue;
          }
          const lineage: Lineage = { kind: 'sync', source: s.url, sourceHash: s.sha256, sql: null, vintage: s.vintage, whVersion: o.whVersion };
          const ev = await writeOne(o, duck, events, logger, { dataset: YAHOO_EVENTS, partition: s.partition, file: s.eventsFile, rows: s.events, columns: yahooEventColumns, key: ['symbol', 'date', 'kind'], lineage });
          const bars = await writeOne(o, duck, daily, logger, { dataset: YAHOO_DAILY, partition: s.partition, file: s.barsFile, rows: s.bars, columns: yahooDailyColumns, key: ['symbol', 'date'], lineage });
          out.push({ daily: bars, eventsStatus: ev });
        }
      } catch (e) {
        const err = isWarehouseError(e) ? e : new WarehouseError('IO_ERROR', (e as Error).message, { cause: e });
        if (out.length > 0) await refreshCatalogQuietly(o.dir, o.log, logger);
        for (const [dataset, lease] of leases) {
          try {
            o.log.append([{ type: 'SyncFailed', data: { runId, dataset, partition: current, code: err.code, message: err.message } }], lease);
          } catch {
            // Fenced out or unwritable: the failure still reaches the caller.
          }
        }
        throw err;
      }
      const wrote: Record<string, number> = { [YAHOO_DAILY]: out.filter((r) => r.daily === 'written').length, [YAHOO_EVENTS]: out.filter((r) => r.eventsStatus === 'written').length };
      if ((wrote[YAHOO_DAILY] ?? 0) + (wrote[YAHOO_EVENTS] ?? 0) > 0) await refreshCatalogQuietly(o.dir, o.log, logger);
      for (const [dataset, lease] of leases) {
        const rows = staged.reduce((n, s) => n + (s.bars === 0 ? 0 : dataset === YAHOO_DAILY ? s.bars : s.events), 0);
        const written = wrote[dataset] ?? 0;
        const skipped = out.filter((r) => r.daily === 'skipped').length;
        o.log.append([{ type: 'SyncCompleted', data: { runId, dataset, vintage, written, unchanged: staged.length - written - skipped, skipped, rows, durationMs: Date.now() - started } }], lease);
      }
      return out;
    }),
  );
}

interface OneWrite {
  readonly dataset: string;
  readonly partition: string;
  readonly file: string;
  readonly rows: number;
  readonly columns: readonly Column[];
  readonly key: readonly string[];
  readonly lineage: Lineage;
}

async function writeOne(o: YahooSyncOptions, duck: Duck, lease: Lease, logger: Logger, w: OneWrite): Promise<'written' | 'unchanged'> {
  const res = await writePartition(
    { dir: o.dir, log: o.log, duck, lease, logger, statfs: o.statfs },
    {
      dataset: w.dataset,
      partition: w.partition,
      selectSql: `SELECT ${w.columns.map((col) => quoteIdent(col.name)).join(', ')} FROM ${readStaged(w.file, w.columns)} ORDER BY ${w.key.map(quoteIdent).join(', ')}`,
      columns: w.columns,
      key: w.key,
      sortKey: w.key,
      estimatedBytes: Math.max(1 << 16, statSync(w.file).size),
      refreshCatalog: false,
      validate: async (_tmp, rows) => (rows === w.rows ? null : { rule: 'row_count', message: `expected ${w.rows} rows, wrote ${rows}` }),
      lineage: w.lineage,
    },
  );
  return res.status;
}

/** How Yahoo's closes compare with CRSP's prices for one symbol. */
export interface DriftReport {
  readonly symbol: string;
  readonly permnos: readonly number[];
  /** Dates with both a Yahoo close and a CRSP price for the one permno the ticker named that day. */
  readonly matched: number;
  /** Median |Yahoo as-traded close × basisRatio / |prc| − 1|. */
  readonly medianAbsRelDiff: number;
  /** 1, or the split ratio (after the window, so not in the payload) that separates the two series. */
  readonly basisRatio: number;
  readonly alerted: boolean;
}

export interface DriftOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly duck: Duck;
  readonly symbol: string;
  /** The staged NDJSON bars (date, close) of the symbol. */
  readonly barsFile: string;
  readonly splits: readonly { readonly date: string; readonly numerator: number; readonly denominator: number }[];
  readonly priceBasis: PriceBasis;
  readonly threshold: number;
  readonly logger: Logger;
}

/**
 * p/q with q ≤ 10 within 0.2 % of `g`, when g is at least 3:2 away from 1 (a plausible product of
 * split ratios), or undefined. Ratios near 1 (a 21:20 stock dividend) are indistinguishable from
 * a level error and are left to the alert.
 */
function splitLike(g: number): number | undefined {
  if (!(g >= 1.5 || g <= 1 / 1.5)) return undefined;
  for (let q = 1; q <= 10; q++) {
    const p = Math.round(g * q);
    if (p >= 1 && p <= 400 && Math.abs(p / q - g) / g < 0.002) return p / q;
  }
  return undefined;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Compare Yahoo closes with CRSP `abs(prc)` on the dates they share, through the permno that
 * crsp_dsenames gives the ticker ON EACH DATE (tickers are reused; dates where it names two permnos
 * are left out). Yahoo's split-adjusted closes are first restated as traded with the splits in the
 * payload; a constant split-like ratio left over (a split after the window that the payload cannot
 * show) is reported as `basisRatio`, not as drift. Logs a warning (`alert: 'yahoo_crsp_drift'`)
 * when the median relative difference exceeds `threshold`. Returns null when there is nothing to
 * compare. Reads only: no lease, no event.
 */
export async function driftAgainstCrsp(o: DriftOptions): Promise<DriftReport | null> {
  const entries = manifestAt(o.log).filter((e) => e.dataset === 'crsp_dsf' || e.dataset === 'crsp_dsenames');
  if (!entries.some((e) => e.dataset === 'crsp_dsf') || !entries.some((e) => e.dataset === 'crsp_dsenames')) return null;
  if (!/^[A-Z]{1,8}$/.test(o.symbol)) return null;
  let rows: readonly Record<string, unknown>[];
  try {
    for (const stmt of viewStatements(o.dir, entries)) await o.duck.run(stmt);
    const res = await o.duck.all(
      `WITH y AS (SELECT date, close FROM ${readStaged(o.barsFile, yahooDailyColumns)}),
       n AS (SELECT DISTINCT permno, CAST(namedt AS DATE) AS lo, coalesce(CAST(nameendt AS DATE), DATE '9999-12-31') AS hi FROM crsp_dsenames WHERE ticker = $1),
       m AS (SELECT y.date, any_value(y.close) AS close, min(n.permno) AS permno, count(DISTINCT n.permno) AS k FROM y JOIN n ON y.date BETWEEN n.lo AND n.hi GROUP BY y.date)
       SELECT CAST(m.date AS VARCHAR) AS date, m.close, CAST(m.permno AS BIGINT) AS permno, abs(CAST(d.prc AS DOUBLE)) AS prc
       FROM m JOIN crsp_dsf d ON d.permno = m.permno AND CAST(d.date AS DATE) = m.date
       WHERE m.k = 1 AND d.prc IS NOT NULL AND d.prc <> 0 ORDER BY m.date`,
      [o.symbol],
    );
    rows = res.rows;
  } catch (e) {
    o.logger.warn({ symbol: o.symbol, err: (e as Error).message.split('\n')[0] }, 'CRSP drift check skipped (crsp_dsf/crsp_dsenames lack the expected columns?)');
    return null;
  }
  if (rows.length === 0) return null;
  const ratios = rows.map((r) => {
    const date = String(r['date']);
    const later = o.priceBasis === 'split_adjusted' ? o.splits.filter((s) => s.date > date).reduce((f, s) => f * (s.numerator / s.denominator), 1) : 1;
    return Number(r['prc']) / (Number(r['close']) * later);
  });
  const rel = (g: number): number => median(ratios.map((x) => Math.abs(g / x - 1)));
  let basisRatio = 1;
  let medianAbsRelDiff = rel(1);
  const g = splitLike(median(ratios));
  if (medianAbsRelDiff > o.threshold && g !== undefined && g !== 1) {
    basisRatio = g;
    medianAbsRelDiff = rel(g);
  }
  const permnos = [...new Set(rows.map((r) => Number(r['permno'])))];
  const alerted = medianAbsRelDiff > o.threshold;
  if (alerted) {
    o.logger.warn(
      { alert: 'yahoo_crsp_drift', symbol: o.symbol, permnos, matched: rows.length, medianAbsRelDiff, basisRatio },
      `${o.symbol}: Yahoo closes differ from CRSP abs(prc) by a median ${(medianAbsRelDiff * 100).toFixed(2)} % over ${rows.length} day(s)`,
    );
  }
  return { symbol: o.symbol, permnos, matched: rows.length, medianAbsRelDiff, basisRatio, alerted };
}
