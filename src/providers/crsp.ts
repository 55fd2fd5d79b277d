/**
 * The CRSP provider: prices, the point-in-time universe, ticker lookup and data gaps, read through
 * a {@link WarehouseSession}. Two time axes combine in every call: the session is the warehouse as
 * of a point (what it held), and the market date(s) in the options say what was knowable then.
 * Every value the caller gives is bound as a `$n` parameter; table and column names come from the
 * fixed specs below, never from input. The DATA-RULES rule applied is named where it is applied.
 *
 * The plumbing shared by the other providers (option parsing, bound parameters, the NYSE session
 * table in SQL, running a query to Arrow) lives at the top of this file; index.ts does not export it.
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { NYSE_KNOWN_RANGE, holidays, isCalendarError, isIsoDate, sessions as calendarSessions } from '../calendar/index.js';
import type { DuckParam } from '../engine/index.js';
import { WarehouseError } from '../log/index.js';
import { toArrow } from '../query/index.js';
import type { WarehouseSession } from '../query/index.js';

// ---------------------------------------------------------------------------------------------
// Shared plumbing

/** Which CRSP files: the legacy SIZ files (frozen at 2024-12-31) or the CIZ (v2) files. */
export type CrspFormat = 'legacy' | 'ciz';

/** SQL and its bound parameters: what a provider runs, or what `wh ... --format parquet` COPYs. */
export interface ProviderQuery {
  readonly sql: string;
  readonly params: readonly DuckParam[];
}

/** A planned provider call: the query, and a check of the caller's identifiers. */
export interface ProviderPlan {
  readonly query: ProviderQuery;
  /**
   * Throws `INVALID_ARGUMENT` naming identifiers the warehouse does not know. `present` (the
   * permnos the query returned) lets a caller skip the lookup when every one came back.
   */
  verify(present?: ReadonlySet<number>): Promise<void>;
}

/** Collects bound parameters; each call returns the `$n` placeholder of the value it bound. */
export class Params {
  readonly values: DuckParam[] = [];
  bind(value: DuckParam): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  date(value: string): string {
    return `CAST(${this.bind(value)} AS DATE)`;
  }
  list(values: readonly DuckParam[]): string {
    return values.map((v) => this.bind(v)).join(', ');
  }
  query(sql: string): ProviderQuery {
    return { sql, params: [...this.values] };
  }
}

/** Most identifiers one call accepts. */
export const MAX_SYMBOLS = 10_000;
/** A real calendar day, 'YYYY-MM-DD' (2024-02-30 is refused). */
export const isoDateSchema = z.string().refine((s) => isIsoDate(s), 'expected a real date YYYY-MM-DD');
/** A ticker: letters, digits and . - / only (no quotes, spaces or separators), upper-cased. */
export const tickerSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9./-]{0,11}$/, 'not a ticker (letters, digits, . - / ; at most 12 characters)');
/** A CRSP permno: a positive 32-bit integer (numeric strings are accepted and converted). */
export const permnoSchema = z.coerce.number().int().min(1).max(2_147_483_647);
/** Which CRSP files a call reads; legacy by default. */
export const crspFormatSchema = z.enum(['legacy', 'ciz']).default('legacy');

/** Parse provider options; a failure is `INVALID_ARGUMENT` naming the option and the problem. */
export function parseProviderOptions<T extends z.ZodTypeAny>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  throw new WarehouseError('INVALID_ARGUMENT', `${what}: invalid ${path === '' ? 'options' : path}: ${issue?.message ?? 'invalid'}`, {
    suggestion: 'dates are YYYY-MM-DD with start <= end; permnos are positive integers; tickers are letters and digits',
    details: { issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}

/** Refuse a reversed range (a refinement message shared by every schema with start/end). */
export const ordered = (o: { start: string; end: string }): boolean => o.start <= o.end;
/** The refinement options that name a reversed range. */
export const REVERSED = { message: 'start is after end (reversed date range)', path: ['start'] };

/** Throw `UNKNOWN_DATASET` unless every dataset is in the warehouse at the session's point. */
export function requireDatasets(session: WarehouseSession, names: readonly string[]): void {
  const missing = names.filter((n) => !session.datasets.includes(n));
  if (missing.length === 0) return;
  throw new WarehouseError('UNKNOWN_DATASET', `dataset${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the warehouse at ${session.point.label}`, {
    suggestion: `sync ${missing.length > 1 ? 'them' : 'it'} (\`wh sync ${missing.join(' ')}\`) or read at a later --as-of; present: ${session.datasets.join(', ') || '(none)'}`,
    details: { missing },
  });
}

/** Run a query in the session and return an Arrow table. */
export async function runTable(session: WarehouseSession, q: ProviderQuery): Promise<Table> {
  try {
    return toArrow(await session.duck.columns(q.sql, q.params));
  } catch (e) {
    throw queryFailed(e, session);
  }
}

/** Run a query in the session and return JSON-safe rows (dates as 'YYYY-MM-DD'). */
export async function runRows(session: WarehouseSession, q: ProviderQuery): Promise<Record<string, unknown>[]> {
  try {
    return [...(await session.duck.all(q.sql, q.params)).rows];
  } catch (e) {
    throw queryFailed(e, session);
  }
}

function queryFailed(e: unknown, session: WarehouseSession): WarehouseError {
  return new WarehouseError('QUERY_FAILED', `provider query failed: ${((e as Error).message ?? String(e)).split('\n')[0]}`, {
    suggestion: `check that the datasets have their WRDS columns (\`wh query "DESCRIBE crsp_dsf"\`); datasets at ${session.point.label}: ${session.datasets.join(', ')}`,
    cause: e,
  });
}

let closures: string | undefined;
/**
 * CTEs `closed` and `sessions` (NYSE sessions over the calendar's known range, one row per day),
 * built from the calendar's weekday rule and its list of full-day closures, bound as one parameter.
 * DATA-RULES "Calendars": days outside the known range are not sessions (refused, never guessed).
 */
export function sessionsCte(p: Params): string {
  closures ??= holidays(NYSE_KNOWN_RANGE.start, NYSE_KNOWN_RANGE.end)
    .map((h) => h.date)
    .join(',');
  return `closed AS (SELECT CAST(unnest(string_split(${p.bind(closures)}, ',')) AS DATE) AS d),
  sessions AS (
    SELECT CAST(g AS DATE) AS d FROM generate_series(${p.date(NYSE_KNOWN_RANGE.start)}, ${p.date(NYSE_KNOWN_RANGE.end)}, INTERVAL 1 DAY) t(g)
    WHERE (isodow(g) <= 5 OR (isodow(g) = 6 AND g < DATE '1952-09-29')) AND CAST(g AS DATE) NOT IN (SELECT d FROM closed))`;
}

/** NYSE sessions in [start, end]; dates outside the calendar's range are `INVALID_ARGUMENT`. */
export function sessionsBetween(start: string, end: string): string[] {
  try {
    return calendarSessions(start, end);
  } catch (e) {
    if (!isCalendarError(e)) throw e;
    throw new WarehouseError('INVALID_ARGUMENT', `${start}..${end}: ${e.message}`, {
      suggestion: `use dates within ${NYSE_KNOWN_RANGE.start}..${NYSE_KNOWN_RANGE.end}, the range the NYSE calendar knows`,
      cause: e,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Specs: the only identifiers that reach SQL

type Frequency = 'daily' | 'monthly';

interface NamesSpec {
  readonly table: string;
  readonly start: string;
  readonly end: string;
  readonly ticker: string;
}

interface PriceSpec {
  readonly table: string;
  readonly date: string;
  /** SQL over alias `f`. */
  readonly cols: { readonly prc: string; readonly ret: string; readonly shrout: string; readonly cfac: string; readonly vol: string; readonly open: string; readonly high: string; readonly low: string; readonly midpoint: string };
  readonly names: NamesSpec;
  readonly delist: DelistSpec;
}

/**
 * Where a format keeps its delisting events, and which delisting return wh applies on top of the
 * price file's own return (SQL over alias `d`).
 */
interface DelistSpec {
  readonly table: string;
  readonly date: string;
  /** Rows that are real delistings (legacy writes code 100 for securities still listed). */
  readonly filter: string;
  readonly code: string;
  /**
   * The delisting return to combine with the period's return, NULL when none applies.
   * Legacy: `dlret`, else Shumway's -30 % for a performance code. CIZ: the return is already
   * inside dlyret/mthret, so only Shumway's -30 % when CRSP has none for a performance delisting.
   */
  readonly applied: string;
}

// DATA-RULES "Delisting returns, legacy files": dlret missing with dlstcd 500 or 520-584 -> -30% (Shumway 1997).
const LEGACY_SHUMWAY = 'd.dlstcd = 500 OR d.dlstcd BETWEEN 520 AND 584';
const legacyDelist = (table: string): DelistSpec => ({
  table, date: 'dlstdt', filter: 'd.dlstcd <> 100', code: 'CAST(d.dlstcd AS INTEGER)',
  applied: `CASE WHEN d.dlret IS NOT NULL THEN CAST(d.dlret AS DOUBLE) WHEN ${LEGACY_SHUMWAY} THEN -0.30 END`,
});
/**
 * DATA-RULES "Delisting returns, CIZ files": CRSP's delisting return is inside dlyret/mthret; when
 * it has none (delret NULL) for a performance-related delisting, apply Shumway's -30 % as for
 * legacy files. CIZ splits the legacy code into action/status/reason/payment; action 'DEL'
 * (dropped by the exchange) is the CIZ counterpart of the legacy 5xx family; mergers ('MER') and
 * exchange moves ('EXC') are not performance-related.
 */
const CIZ_DELIST: DelistSpec = {
  table: 'crsp_stkdelists', date: 'delistingdt', filter: 'true', code: 'CAST(NULL AS INTEGER)',
  applied: "CASE WHEN d.delret IS NULL AND d.delactiontype = 'DEL' THEN -0.30 END",
};

const LEGACY_NAMES_D: NamesSpec = { table: 'crsp_dsenames', start: 'namedt', end: 'nameendt', ticker: 'ticker' };
const LEGACY_NAMES_M: NamesSpec = { ...LEGACY_NAMES_D, table: 'crsp_msenames' };
const CIZ_NAMES: NamesSpec = { table: 'crsp_stksecurityinfohist', start: 'secinfostartdt', end: 'secinfoenddt', ticker: 'ticker' };

// bidlo/askhi are the day's low/high only when prc > 0; otherwise they hold the bid and ask.
const legacyCols = (open: string) => ({
  prc: 'f.prc', ret: 'f.ret', shrout: 'f.shrout', cfac: 'f.cfacpr', vol: 'f.vol', open,
  high: 'CASE WHEN f.prc > 0 THEN f.askhi END', low: 'CASE WHEN f.prc > 0 THEN f.bidlo END', midpoint: 'f.prc < 0',
});

const PRICE_SPECS: Readonly<Record<`${CrspFormat}:${Frequency}`, PriceSpec>> = {
  'legacy:daily': { table: 'crsp_dsf', date: 'date', cols: legacyCols('f.openprc'), names: LEGACY_NAMES_D, delist: legacyDelist('crsp_dsedelist') },
  'legacy:monthly': { table: 'crsp_msf', date: 'date', cols: legacyCols('NULL'), names: LEGACY_NAMES_M, delist: legacyDelist('crsp_msedelist') },
  'ciz:daily': {
    table: 'crsp_dsf_v2', date: 'dlycaldt', names: CIZ_NAMES, delist: CIZ_DELIST,
    cols: { prc: 'f.dlyprc', ret: 'f.dlyret', shrout: 'f.shrout', cfac: 'f.dlycumfacpr', vol: 'f.dlyvol', open: 'f.dlyopen', high: 'f.dlyhigh', low: 'f.dlylow', midpoint: "f.dlyprcflg = 'BA'" },
  },
  'ciz:monthly': {
    table: 'crsp_msf_v2', date: 'mthcaldt', names: CIZ_NAMES, delist: CIZ_DELIST,
    cols: { prc: 'f.mthprc', ret: 'f.mthret', shrout: 'f.shrout', cfac: 'NULL', vol: 'f.mthvol', open: 'NULL', high: 'NULL', low: 'NULL', midpoint: "f.mthprcflg = 'BA'" },
  },
};

// ---------------------------------------------------------------------------------------------
// Prices

/** Options of {@link dailyPrices} / {@link monthlyPrices}: permnos and/or tickers, the market range, the format, `adjustTo`. */
export const priceOptionsSchema = z
  .object({
    permnos: z.array(permnoSchema).max(MAX_SYMBOLS).optional(),
    tickers: z.array(tickerSchema).max(MAX_SYMBOLS).optional(),
    start: isoDateSchema,
    end: isoDateSchema,
    format: crspFormatSchema,
    /** Express adjusted prices in the terms of this date (default: the release's last date). */
    adjustTo: isoDateSchema.optional(),
  })
  .refine((o) => (o.permnos?.length ?? 0) + (o.tickers?.length ?? 0) > 0, { message: 'name at least one permno or ticker', path: ['permnos'] })
  .refine(ordered, REVERSED);
/** What callers pass to the price functions (before defaults). */
export type PriceOptions = z.input<typeof priceOptionsSchema>;

/** Internal: the fetcher asks for unknown symbols to be left out rather than refused. */
export interface PlanPricesOptions {
  readonly unknown?: 'error' | 'skip';
}

interface Window {
  /** A whole-range permno window (true) or a ticker's names-record window (false). */
  readonly byPermno: boolean;
  readonly symbol: string;
  readonly permno: number;
  readonly lo: string;
  readonly hi: string;
}

/**
 * Ticker → permno windows through the names history (DATA-RULES "Tickers are not identities"): each
 * names record carrying the ticker that overlaps [start, end] gives a window; the security's last
 * record extends to `end` so its delisting row (after its last name date) is kept.
 */
async function tickerWindows(session: WarehouseSession, spec: NamesSpec, tickers: readonly string[], start: string, end: string): Promise<Window[]> {
  if (tickers.length === 0) return [];
  const p = new Params();
  const s = p.date(start);
  const e = p.date(end);
  const rows = await runRows(
    session,
    p.query(`WITH nm AS (
      SELECT CAST(permno AS INTEGER) AS permno, upper(${spec.ticker}) AS ticker, CAST(${spec.start} AS DATE) AS lo, CAST(${spec.end} AS DATE) AS hi FROM ${spec.table}),
    last AS (SELECT permno, max(hi) AS last_hi FROM nm GROUP BY permno)
    SELECT nm.ticker AS symbol, nm.permno, CAST(greatest(nm.lo, ${s}) AS VARCHAR) AS lo,
      CAST(CASE WHEN nm.hi >= last.last_hi THEN ${e} ELSE least(nm.hi, ${e}) END AS VARCHAR) AS hi
    FROM nm JOIN last ON nm.permno = last.permno
    WHERE nm.ticker IN (${p.list(tickers)}) AND nm.lo <= ${e} AND nm.hi >= ${s}
    ORDER BY symbol, permno, lo`),
  );
  return rows.map((r) => ({ byPermno: false, symbol: String(r['symbol']), permno: Number(r['permno']), lo: String(r['lo']), hi: String(r['hi']) }));
}

function unknownSymbols(what: string, names: readonly (string | number)[], session: WarehouseSession, hint: string): WarehouseError {
  return new WarehouseError('INVALID_ARGUMENT', `unknown ${what}${names.length > 1 ? 's' : ''}: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''} (warehouse at ${session.point.label})`, {
    suggestion: hint,
    details: { unknown: names },
  });
}

/** Permnos of `permnos` that have no names record at all. */
async function unknownPermnos(session: WarehouseSession, spec: NamesSpec, permnos: readonly number[]): Promise<number[]> {
  if (permnos.length === 0) return [];
  const p = new Params();
  const rows = await runRows(session, p.query(`SELECT DISTINCT CAST(permno AS INTEGER) AS permno FROM ${spec.table} WHERE permno IN (${p.list(permnos)})`));
  const known = new Set(rows.map((r) => Number(r['permno'])));
  return permnos.filter((x) => !known.has(x));
}

/**
 * Plan a price query (see {@link dailyPrices}). Ticker windows are resolved here (one small query);
 * the returned plan's `verify` checks permnos lazily.
 */
export async function planPrices(session: WarehouseSession, frequency: Frequency, options: PriceOptions, internal: PlanPricesOptions = {}): Promise<ProviderPlan> {
  const o = parseProviderOptions(priceOptionsSchema, options, `${frequency} prices`);
  const spec = PRICE_SPECS[`${o.format}:${frequency}`];
  requireDatasets(session, [spec.table, spec.names.table, spec.delist.table]);
  const permnos = [...new Set(o.permnos ?? [])];
  const tickers = [...new Set(o.tickers ?? [])];
  const byTicker = await tickerWindows(session, spec.names, tickers, o.start, o.end);
  const missingTickers = tickers.filter((t) => !byTicker.some((w) => w.symbol === t));
  if (missingTickers.length > 0 && internal.unknown !== 'skip') {
    throw unknownSymbols('ticker', missingTickers, session, `no security carried it between ${o.start} and ${o.end} in ${spec.names.table}; check the ticker and dates (\`wh universe --ticker T --date D\`)`);
  }
  const windows: Window[] = [...permnos.map((permno) => ({ byPermno: true, symbol: String(permno), permno, lo: o.start, hi: o.end })), ...byTicker];
  const query = pricesQuery(spec, frequency, windows, o.start, o.end, o.adjustTo);
  return {
    query,
    verify: async (present) => {
      if (internal.unknown === 'skip') return;
      const unknown = await unknownPermnos(session, spec.names, permnos.filter((x) => present === undefined || !present.has(x)));
      if (unknown.length > 0) throw unknownSymbols('permno', unknown, session, `not in ${spec.names.table}; check the permno (\`wh universe --date D\` lists securities)`);
    },
  };
}

function pricesQuery(spec: PriceSpec, frequency: Frequency, windows: readonly Window[], start: string, end: string, adjustTo: string | undefined): ProviderQuery {
  const p = new Params();
  const s = p.date(start);
  const e = p.date(end);
  const c = spec.cols;
  // Permnos alone need no window table: the scan filters directly (the selective fast path).
  const direct = windows.length > 0 && windows.every((w) => w.byPermno);
  const ids = windows.length === 0 ? 'NULL' : p.list([...new Set(windows.map((w) => w.permno))]);
  const symbol = (alias: string): string => (direct ? `CAST(${alias}.permno AS VARCHAR)` : 's.symbol');
  const within = (alias: string, col: string): string => (direct ? '' : `JOIN sel s ON ${alias}.permno = s.permno AND ${col} BETWEEN s.lo AND s.hi`);
  const monthly = frequency === 'monthly';
  const ctes: string[] = [];
  if (monthly) ctes.push(sessionsCte(p), `month_end AS (SELECT CAST(date_trunc('month', d) AS DATE) AS m, max(d) AS d FROM sessions GROUP BY 1)`);
  if (!direct) {
    // An empty selection (every ticker unknown, skipped) still yields a well-typed, empty result.
    ctes.push(windows.length === 0
      ? `sel AS (SELECT CAST(NULL AS VARCHAR) AS symbol, CAST(NULL AS INTEGER) AS permno, CAST(NULL AS DATE) AS lo, CAST(NULL AS DATE) AS hi WHERE false)`
      : `sel(symbol, permno, lo, hi) AS (VALUES ${windows.map((w) => `(CAST(${p.bind(w.symbol)} AS VARCHAR), CAST(${p.bind(w.permno)} AS INTEGER), ${p.date(w.lo)}, ${p.date(w.hi)})`).join(', ')})`);
  }
  ctes.push(`px AS (
      SELECT ${symbol('f')} AS symbol, CAST(f.permno AS INTEGER) AS permno, CAST(f.${spec.date} AS DATE) AS date,
        CAST(${c.prc} AS DOUBLE) AS prc, CAST(${c.ret} AS DOUBLE) AS ret, CAST(${c.shrout} AS DOUBLE) AS shrout, CAST(${c.cfac} AS DOUBLE) AS cfac,
        CAST(${c.vol} AS DOUBLE) AS vol, CAST(${c.open} AS DOUBLE) AS open, CAST(${c.high} AS DOUBLE) AS high, CAST(${c.low} AS DOUBLE) AS low,
        coalesce(${c.midpoint}, false) AS is_midpoint
      FROM ${spec.table} f ${within('f', `f.${spec.date}`)}
      WHERE f.permno IN (${ids}) AND f.${spec.date} BETWEEN ${s} AND ${e})`);
  const dx = spec.delist;
  const rowDate = monthly ? `coalesce(me.d, CAST(d.${dx.date} AS DATE))` : `CAST(d.${dx.date} AS DATE)`;
  const key = (col: string): string => (monthly ? `CAST(date_trunc('month', ${col}) AS DATE)` : col);
  ctes.push(
    `dl AS (
      SELECT ${symbol('d')} AS symbol, CAST(d.permno AS INTEGER) AS permno, CAST(d.${dx.date} AS DATE) AS dlstdt, ${dx.code} AS dlstcd,
        ${dx.applied} AS dlret, ${rowDate} AS row_date
      FROM ${dx.table} d ${monthly ? `LEFT JOIN month_end me ON me.m = CAST(date_trunc('month', d.${dx.date}) AS DATE)` : ''} ${within('d', rowDate)}
      WHERE d.permno IN (${ids}) AND ${dx.filter} AND ${rowDate} BETWEEN ${s} AND ${e})`,
    // DATA-RULES "Delisting returns, legacy files" (and CIZ with Shumway): when the delisting period has no ret row, add one.
    `j AS (
      SELECT coalesce(px.symbol, dl.symbol) AS symbol, coalesce(px.permno, dl.permno) AS permno, coalesce(px.date, dl.row_date) AS date,
        px.prc, px.ret, px.shrout, px.cfac, px.vol, px.open, px.high, px.low, coalesce(px.is_midpoint, false) AS is_midpoint,
        dl.dlret, dl.dlstcd, px.permno IS NULL AS added_delisting
      FROM px FULL JOIN dl ON px.symbol = dl.symbol AND px.permno = dl.permno AND ${key('px.date')} = ${key('dl.dlstdt')}
      WHERE px.permno IS NOT NULL OR dl.dlret IS NOT NULL)`,
    // A row dated after the security's delisting (a monthly file's month-end row in the delisting month) has no price that day.
    `gone AS (SELECT CAST(d.permno AS INTEGER) AS permno, min(CAST(d.${dx.date} AS DATE)) AS dlstdt FROM ${dx.table} d WHERE d.permno IN (${ids}) AND ${dx.filter} GROUP BY 1)`,
  );
  const rows = 'j';
  const dlCols = 'j.dlret, j.dlstcd';
  // DATA-RULES "Delisting returns": (1+ret)(1+dlret)-1, never ret+dlret; dlret alone when ret is missing.
  const totalRet = 'CASE WHEN j.dlret IS NULL THEN j.ret WHEN j.ret IS NULL THEN j.dlret ELSE (1 + j.ret) * (1 + j.dlret) - 1 END';
  const added = 'j.added_delisting';
  ctes.push(`nm AS (SELECT CAST(permno AS INTEGER) AS permno, CAST(${spec.names.start} AS DATE) AS namedt, ${spec.names.ticker} AS ticker FROM ${spec.names.table} WHERE permno IN (${ids}))`);
  let factorTo = 'j.cfac';
  let anchorJoin = '';
  if (adjustTo !== undefined) {
    const a = p.date(adjustTo);
    // The factor on date A: the security's last row on or before A (its first row when A precedes it).
    ctes.push(`anchor AS (
      SELECT CAST(f.permno AS INTEGER) AS permno,
        coalesce(arg_max(CAST(${c.cfac} AS DOUBLE), f.${spec.date}) FILTER (WHERE f.${spec.date} <= ${a}), arg_min(CAST(${c.cfac} AS DOUBLE), f.${spec.date})) AS cfac_a
      FROM ${spec.table} f WHERE f.permno IN (${ids}) AND ${c.cfac} IS NOT NULL GROUP BY 1)`);
    factorTo = 'j.cfac / anchor.cfac_a';
    anchorJoin = 'LEFT JOIN anchor ON anchor.permno = j.permno';
  }
  const noPrice = 'j.prc IS NULL OR j.prc = 0 OR j.date > coalesce(gone.dlstdt, DATE \'9999-12-31\')';
  const sql = `WITH ${ctes.join(',\n')}
  SELECT j.date, j.permno, j.symbol, nm.ticker,
    j.prc AS prc_raw,
    -- DATA-RULES "Negative prices": abs(prc); 0 or NULL is missing, never zero (and none on a row dated after the delisting).
    CASE WHEN ${noPrice} THEN NULL ELSE abs(j.prc) END AS price,
    j.is_midpoint,
    -- DATA-RULES "Missing returns": NULL stays NULL.
    j.ret,
    ${dlCols},
    ${totalRet} AS total_ret,
    j.shrout,
    -- DATA-RULES "Market cap": abs(prc) * shrout * 1000 (shrout in thousands).
    CASE WHEN ${noPrice} THEN NULL ELSE abs(j.prc) * j.shrout * 1000 END AS market_cap,
    j.cfac AS cfacpr,
    -- DATA-RULES "Adjustment factors": abs(prc_t) * cfacpr_A / cfacpr_t (to the release's last date: abs(prc_t) / cfacpr_t).
    CASE WHEN ${noPrice} OR j.cfac IS NULL OR j.cfac = 0 THEN NULL ELSE abs(j.prc) / (${factorTo}) END AS adj_price,
    j.open, j.high, j.low, j.vol,
    ${added} AS added_delisting
  FROM ${rows} j ASOF LEFT JOIN nm ON j.permno = nm.permno AND j.date >= nm.namedt LEFT JOIN gone ON gone.permno = j.permno ${anchorJoin}
  ORDER BY j.permno, j.date, j.symbol`;
  return p.query(sql);
}

async function prices(session: WarehouseSession, frequency: Frequency, options: PriceOptions): Promise<Table> {
  const plan = await planPrices(session, frequency, options);
  const table = await runTable(session, plan.query);
  const present = new Set<number>();
  for (const v of table.getChild('permno') ?? []) if (typeof v === 'number') present.add(v);
  await plan.verify(present);
  return table;
}

/**
 * Daily prices of the named securities over [start, end], one row per security and session (plus
 * an added row on a legacy delisting date that has no price row). Columns: date, permno, symbol (as
 * asked), ticker (names history as of the date), prc_raw, price = |prc| (NULL for 0/NULL),
 * is_midpoint, ret (NULL stays NULL), dlret (the delisting return applied: legacy `dlret`, or -0.30
 * by Shumway when missing for codes 500/520-584; CIZ only Shumway's -0.30 when CRSP has no delisting
 * return for a 'DEL' delisting, its own being inside dlyret), dlstcd (legacy), total_ret, shrout,
 * market_cap (NULL with the price, and on a row dated after the delisting), cfacpr,
 * adj_price (in the terms of `adjustTo`, default the release's last date), open, high, low, vol,
 * added_delisting. Rows are dated on or before `end`: nothing after the market date is returned.
 * Tickers resolve by date: a ticker reused by another security returns each one in its own window.
 *
 * @throws WarehouseError `INVALID_ARGUMENT` (bad or reversed dates, unknown ticker or permno,
 *   malformed symbol), `UNKNOWN_DATASET` (the files are not in the warehouse at this point).
 * @example
 * ```ts
 * const wh = await openWarehouse(dir, { asOf: 'paper-v1' });
 * const t = await dailyPrices(wh.session, { tickers: ['IBM'], start: '2020-01-01', end: '2020-12-31' });
 * ```
 */
export function dailyPrices(session: WarehouseSession, options: PriceOptions): Promise<Table> {
  return prices(session, 'daily', options);
}

/**
 * Monthly prices, as {@link dailyPrices}; a legacy delisting in a month with no `ret` row adds a
 * row dated the month's last NYSE session (its delisting date outside the calendar's range).
 */
export function monthlyPrices(session: WarehouseSession, options: PriceOptions): Promise<Table> {
  return prices(session, 'monthly', options);
}

// ---------------------------------------------------------------------------------------------
// Universe and ticker lookup

/** Options of {@link universe}, {@link tickerToPermno} and {@link gaps}: the CRSP format. */
export const universeOptionsSchema = z.object({ format: crspFormatSchema });
/** The CRSP format option (legacy by default). */
export type UniverseOptions = z.input<typeof universeOptionsSchema>;

/**
 * CTEs `recent` and `early`: the securities of `nm` with a price row on or before d (DATA-RULES
 * "Survivorship": from the first trading date on, nothing before). Almost every listed security
 * traded in the 31 days before d, which one year file answers; only the rest are looked up in
 * older files (an empty rest scans nothing).
 */
const traded = (table: string, date: string, d: string): string => `recent AS (SELECT DISTINCT permno FROM ${table} WHERE ${date} BETWEEN ${d} - 31 AND ${d}),
    rest AS (SELECT permno FROM nm WHERE permno NOT IN (SELECT permno FROM recent)),
    early AS (SELECT DISTINCT permno FROM ${table} WHERE ${date} < ${d} - 31 AND permno IN (SELECT permno FROM rest))`;

const UNIVERSE_SQL: Readonly<Record<CrspFormat, (d: string) => string>> = {
  legacy: (d) => `WITH nm AS (
      SELECT CAST(permno AS INTEGER) AS permno, CAST(permco AS INTEGER) AS permco, ticker, comnam, CAST(shrcd AS INTEGER) AS shrcd,
        CAST(exchcd AS INTEGER) AS exchcd, CAST(namedt AS DATE) AS namedt, CAST(nameendt AS DATE) AS nameendt
      FROM crsp_dsenames
      -- DATA-RULES "Universe screen, legacy": shrcd/exchcd from the names history as of d, never the header.
      WHERE CAST(namedt AS DATE) <= ${d} AND ${d} <= CAST(nameendt AS DATE)
        AND CAST(shrcd AS INTEGER) IN (10, 11) AND CAST(exchcd AS INTEGER) IN (1, 2, 3)
      QUALIFY row_number() OVER (PARTITION BY permno ORDER BY namedt DESC) = 1),
    ${traded('crsp_dsf', 'date', d)},
    gone AS (SELECT permno FROM crsp_dsedelist WHERE dlstcd <> 100 AND dlstdt < ${d})
    SELECT ${d} AS date, nm.* FROM nm
    WHERE (nm.permno IN (SELECT permno FROM recent) OR nm.permno IN (SELECT permno FROM early)) AND nm.permno NOT IN (SELECT permno FROM gone)
    ORDER BY nm.permno`,
  ciz: (d) => `WITH nm AS (
      SELECT CAST(permno AS INTEGER) AS permno, CAST(permco AS INTEGER) AS permco, ticker, issuernm AS comnam, primaryexch,
        sharetype, securitytype, securitysubtype, CAST(secinfostartdt AS DATE) AS secinfostartdt, CAST(secinfoenddt AS DATE) AS secinfoenddt
      FROM crsp_stksecurityinfohist
      WHERE CAST(secinfostartdt AS DATE) <= ${d} AND ${d} <= CAST(secinfoenddt AS DATE)
        -- DATA-RULES "Universe screen, CIZ" (WRDS.md): the common-stock screen on the record in force on d.
        AND sharetype = 'NS' AND securitytype = 'EQTY' AND securitysubtype = 'COM' AND usincflg = 'Y'
        AND issuertype IN ('ACOR', 'CORP') AND primaryexch IN ('N', 'A', 'Q') AND conditionaltype IN ('RW', 'NW') AND tradingstatusflg = 'A'
      QUALIFY row_number() OVER (PARTITION BY permno ORDER BY secinfostartdt DESC) = 1),
    ${traded('crsp_dsf_v2', 'dlycaldt', d)},
    gone AS (SELECT permno FROM crsp_stkdelists WHERE delistingdt < ${d})
    SELECT ${d} AS date, nm.* FROM nm
    WHERE (nm.permno IN (SELECT permno FROM recent) OR nm.permno IN (SELECT permno FROM early)) AND nm.permno NOT IN (SELECT permno FROM gone)
    ORDER BY nm.permno`,
};

const UNIVERSE_DATASETS: Readonly<Record<CrspFormat, readonly string[]>> = {
  legacy: ['crsp_dsenames', 'crsp_dsf', 'crsp_dsedelist'],
  ciz: ['crsp_stksecurityinfohist', 'crsp_dsf_v2', 'crsp_stkdelists'],
};

/** Plan {@link universe}. */
export function planUniverse(session: WarehouseSession, date: string, options: UniverseOptions = {}): ProviderPlan {
  const d = parseProviderOptions(isoDateSchema, date, 'universe date');
  const o = parseProviderOptions(universeOptionsSchema, options, 'universe');
  requireDatasets(session, UNIVERSE_DATASETS[o.format]);
  const p = new Params();
  const sql = UNIVERSE_SQL[o.format](p.date(d));
  return { query: p.query(sql), verify: async () => undefined };
}

/**
 * The common-stock universe on market date `date`, survivorship-free: every security listed on
 * that date (later delistings included), from its first trading date on, screened with the names
 * record in force on the date (legacy: shrcd 10/11 and exchcd 1/2/3; CIZ: the WRDS common-stock
 * screen). One row per permno, ordered by permno.
 *
 * @throws WarehouseError `INVALID_ARGUMENT` (bad date), `UNKNOWN_DATASET`.
 * @example
 * ```ts
 * const u = await universe(wh.session, '2016-01-08');  // still holds securities that delisted later
 * ```
 */
export async function universe(session: WarehouseSession, date: string, options: UniverseOptions = {}): Promise<Table> {
  return runTable(session, planUniverse(session, date, options).query);
}

/**
 * The permno that carried `ticker` on `date`, from the names history as of that date (DATA-RULES
 * "Tickers are not identities"): a reused ticker resolves to whichever security held it then.
 * When two securities carry it on the same day, the one named most recently (then the lowest permno).
 *
 * @returns the permno, or null when no security carried the ticker on that date.
 * @throws WarehouseError `INVALID_ARGUMENT` (malformed ticker or date), `UNKNOWN_DATASET`.
 */
export async function tickerToPermno(session: WarehouseSession, ticker: string, date: string, options: UniverseOptions = {}): Promise<number | null> {
  const t = parseProviderOptions(tickerSchema, ticker, 'ticker');
  const day = parseProviderOptions(isoDateSchema, date, 'date');
  const o = parseProviderOptions(universeOptionsSchema, options, 'ticker lookup');
  const spec = o.format === 'legacy' ? LEGACY_NAMES_D : CIZ_NAMES;
  requireDatasets(session, [spec.table]);
  const p = new Params();
  const d = p.date(day);
  const rows = await runRows(
    session,
    p.query(`SELECT CAST(permno AS INTEGER) AS permno FROM ${spec.table}
      WHERE upper(${spec.ticker}) = ${p.bind(t)} AND CAST(${spec.start} AS DATE) <= ${d} AND ${d} <= CAST(${spec.end} AS DATE)
      ORDER BY CAST(${spec.start} AS DATE) DESC, permno LIMIT 1`),
  );
  const first = rows[0];
  return first === undefined ? null : Number(first['permno']);
}

// ---------------------------------------------------------------------------------------------
// Gaps

/** Why a session has no usable price. */
export type GapReason = 'not_listed' | 'no_trade' | 'vendor_gap';

/** Arguments of {@link gaps}: one permno, a market range, the format. */
export const gapOptionsSchema = z
  .object({ permno: permnoSchema, start: isoDateSchema, end: isoDateSchema, format: crspFormatSchema })
  .refine(ordered, REVERSED);

const GAP_SPECS: Readonly<Record<CrspFormat, { readonly prices: PriceSpec; readonly delist: string; readonly delistDate: string; readonly delistFilter: string }>> = {
  legacy: { prices: PRICE_SPECS['legacy:daily'], delist: 'crsp_dsedelist', delistDate: 'dlstdt', delistFilter: 'dlstcd <> 100' },
  ciz: { prices: PRICE_SPECS['ciz:daily'], delist: 'crsp_stkdelists', delistDate: 'delistingdt', delistFilter: 'true' },
};

/**
 * The NYSE sessions in [start, end] on which `permno` has no usable price, with the reason:
 * `not_listed` (before its first trading date, outside its names history, or on/after its
 * delisting), `no_trade` (a row with a NULL or zero price: halted or untraded), `vendor_gap`
 * (listed, but no row). Holidays and weekends are never gaps (DATA-RULES "Calendars").
 *
 * @throws WarehouseError `INVALID_ARGUMENT` (unknown permno, bad or reversed dates, dates outside
 *   the NYSE calendar), `UNKNOWN_DATASET`.
 */
export async function gaps(session: WarehouseSession, permno: number, start: string, end: string, options: UniverseOptions = {}): Promise<Table> {
  return runTable(session, (await planGaps(session, permno, start, end, options)).query);
}

/** Plan {@link gaps} (the permno is checked here). */
export async function planGaps(session: WarehouseSession, permno: number, start: string, end: string, options: UniverseOptions = {}): Promise<ProviderPlan> {
  const o = parseProviderOptions(gapOptionsSchema, { permno, start, end, format: options.format }, 'gaps');
  const spec = GAP_SPECS[o.format];
  const px = spec.prices;
  requireDatasets(session, [px.table, px.names.table, spec.delist]);
  if ((await unknownPermnos(session, px.names, [o.permno])).length > 0) {
    throw unknownSymbols('permno', [o.permno], session, `not in ${px.names.table}; check the permno`);
  }
  const p = new Params();
  const id = p.bind(o.permno);
  const sql = `WITH ses AS (SELECT CAST(unnest(string_split(${p.bind(sessionsBetween(o.start, o.end).join(','))}, ',')) AS DATE) AS d),
    px AS (SELECT CAST(f.${px.date} AS DATE) AS date, CAST(${px.cols.prc} AS DOUBLE) AS prc FROM ${px.table} f
      WHERE f.permno = ${id} AND f.${px.date} BETWEEN ${p.date(o.start)} AND ${p.date(o.end)}),
    first AS (SELECT min(CAST(${px.date} AS DATE)) AS first_date FROM ${px.table} WHERE permno = ${id}),
    nm AS (SELECT CAST(${px.names.start} AS DATE) AS lo, CAST(${px.names.end} AS DATE) AS hi FROM ${px.names.table} WHERE permno = ${id}),
    gone AS (SELECT min(CAST(${spec.delistDate} AS DATE)) AS at FROM ${spec.delist} WHERE permno = ${id} AND ${spec.delistFilter})
    SELECT ses.d AS date, CAST(${id} AS INTEGER) AS permno,
      CASE WHEN px.date IS NOT NULL THEN 'no_trade'
        WHEN first.first_date IS NULL OR ses.d < first.first_date OR ses.d >= coalesce(gone.at, DATE '9999-12-31')
          OR NOT EXISTS (SELECT 1 FROM nm WHERE ses.d BETWEEN nm.lo AND nm.hi) THEN 'not_listed'
        ELSE 'vendor_gap' END AS reason
    FROM ses LEFT JOIN px ON px.date = ses.d CROSS JOIN first CROSS JOIN gone
    WHERE px.date IS NULL OR px.prc IS NULL OR px.prc = 0
    ORDER BY date`;
  return { query: p.query(sql), verify: async () => undefined };
}
