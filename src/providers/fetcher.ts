/**
 * The unified fetcher (seed T4.2): one {@link DataProvider} interface with one daily-price schema
 * (date, symbol, open, high, low, close, adj_close, volume, ret), a registry, and a priority order
 * with per-symbol fallback. Every result says which provider served each symbol and why each
 * provider before it was skipped (`no_data`, `not_configured`, `gated`, `error`). Production
 * gating: development-only providers (Yahoo) are skipped as `gated` when the environment is
 * `production` unless explicitly allowed, and research providers (CRSP) are always tried first
 * there. Usage metrics go out as pino log lines (`msg: 'provider usage'`).
 */
import { DateDay, Float64, Int32, Utf8, makeTable, vectorFromArray, type Table } from 'apache-arrow';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { WarehouseError, isWarehouseError } from '../log/index.js';
import type { WarehouseSession } from '../query/index.js';
import { identify, type SplitSymbol } from './series.js';
import { adjustmentFactors } from '../pricing/index.js';
import { adjustEventsOf, groupBySymbol, priceBasisOf } from './yahoo.js';

export type { SplitSymbol };
import { Params, isoDateSchema, MAX_SYMBOLS, ordered, parseProviderOptions, planPrices, requireDatasets, REVERSED, runRows, runTable, tickerSchema, universe, type CrspFormat } from './crsp.js';

/**
 * The unified daily-price columns a provider returns, in order: the security's identity (`permno`
 * for CRSP; `exchange` with the symbol for Yahoo; NULL where a source has none) beside the symbol.
 */
export const unifiedPriceColumns = ['date', 'symbol', 'permno', 'exchange', 'open', 'high', 'low', 'close', 'adj_close', 'volume', 'ret'] as const;
/**
 * The columns the fetcher returns: the unified ones plus `series` (the symbol, or `SYMBOL@permno`
 * when the symbol named several securities within the range: each is its own series, never
 * spliced) and `provider` (which provider served the row).
 */
export const fetchedPriceColumns = ['date', 'symbol', 'series', 'provider', 'permno', 'exchange', 'open', 'high', 'low', 'close', 'adj_close', 'volume', 'ret'] as const;

/** A source of daily prices and universes behind the unified schema. */
export interface DataProvider {
  /** Registry key, e.g. 'crsp', 'yahoo'. */
  readonly name: string;
  /** False for development-only sources: refused (`gated`) when the environment is production unless allowed. */
  readonly productionSafe: boolean;
  /** Whether it can serve at all (e.g. its dataset is in the warehouse); the detail says what is missing. */
  configured(): Promise<{ readonly ok: true } | { readonly ok: false; readonly detail: string }>;
  /**
   * Daily rows of `symbols` (upper case) in [start, end] with the unified columns, typed date DATE,
   * symbol VARCHAR, permno INTEGER, exchange VARCHAR, the rest DOUBLE (a provider without identity
   * columns gets them as NULL). Symbols it does not know are left out (not an error).
   */
  getDailyPrices(symbols: readonly string[], start: string, end: string): Promise<Table>;
  /** The symbols tradeable on `asOfDate` (survivorship-free where the source allows). */
  getUniverse(asOfDate: string): Promise<readonly string[]>;
}

/** A name → provider map. */
export interface ProviderRegistry {
  register(provider: DataProvider): void;
  get(name: string): DataProvider | undefined;
  names(): string[];
}

/** A registry holding `providers`; registering a name twice replaces the first. */
export function createProviderRegistry(providers: readonly DataProvider[] = []): ProviderRegistry {
  const map = new Map<string, DataProvider>();
  const registry: ProviderRegistry = {
    register: (p) => void map.set(p.name, p),
    get: (name) => map.get(name),
    names: () => [...map.keys()],
  };
  providers.forEach((p) => registry.register(p));
  return registry;
}

/** Why a provider did not serve: it had no rows, cannot serve at all, is gated in production, or failed. */
export type SkipReason = 'no_data' | 'not_configured' | 'gated' | 'error';

/** One provider's turn: what it served, or why it was skipped, for which symbols. */
export interface Attempt {
  readonly provider: string;
  readonly outcome: 'served' | 'skipped';
  readonly reason?: SkipReason;
  readonly detail?: string;
  readonly symbols: readonly string[];
  readonly rows?: number;
  readonly ms?: number;
}

/** What {@link Fetcher.getDailyPrices} returns. */
export interface FetchResult {
  /** {@link fetchedPriceColumns}; rows grouped by serving provider (in priority order), then symbol, series, date. */
  readonly table: Table;
  /** Symbols split into separate series because they named different securities within the range. */
  readonly splits: readonly SplitSymbol[];
  /** Symbol → the provider that served it (null: none did). */
  readonly servedBy: Readonly<Record<string, string | null>>;
  readonly attempts: readonly Attempt[];
}

/** What {@link Fetcher.getUniverse} returns: the first non-empty universe in priority order. */
export interface UniverseResult {
  readonly symbols: readonly string[];
  readonly provider: string | null;
  readonly attempts: readonly Attempt[];
}

/** Options of {@link createFetcher}. */
export interface FetcherOptions {
  readonly registry: ProviderRegistry;
  /** Provider names in the order tried. Default `['crsp', 'yahoo']`. */
  readonly priority?: readonly string[];
  /** The environment (the CLI passes `WH_ENV`); `production` gates development-only providers. */
  readonly env?: string;
  /** Let development-only providers serve in production (still after the research ones). */
  readonly allowDevelopmentInProduction?: boolean;
  /** 'error' (default): refuse when some symbol was served by no provider; 'report': return it as null. */
  readonly onMissing?: 'error' | 'report';
  readonly logger?: Logger;
}

/** Daily prices and universes from the first provider that has them. */
export interface Fetcher {
  /** The order providers are tried in, after production gating reordered it. */
  order(): string[];
  getDailyPrices(symbols: readonly string[], start: string, end: string): Promise<FetchResult>;
  getUniverse(asOfDate: string): Promise<UniverseResult>;
}

/** A symbol any provider could know: letters, digits and . - = ^ / (no quotes, spaces or separators). */
export const symbolSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9^][A-Z0-9.=^/-]{0,19}$/, 'not a symbol (letters, digits, . - = ^ / ; at most 20 characters)');
const fetchSchema = z.object({ symbols: z.array(symbolSchema).min(1).max(MAX_SYMBOLS), start: isoDateSchema, end: isoDateSchema }).refine(ordered, REVERSED);

/**
 * A fetcher over the registry's providers in `priority` order, each symbol falling back to the next
 * provider when the previous one had no data for it.
 *
 * @example
 * ```ts
 * const wh = await openWarehouse(dir);
 * const fetcher = createFetcher({ registry: createProviderRegistry([createCrspProvider(wh.session), createYahooProvider(wh.session)]), env: 'production' });
 * const { table, servedBy, attempts } = await fetcher.getDailyPrices(['IBM'], '2020-01-01', '2020-12-31');
 * ```
 */
export function createFetcher(options: FetcherOptions): Fetcher {
  const logger = options.logger ?? pino({ level: 'silent' });
  const production = options.env === 'production';
  const priority = [...(options.priority ?? ['crsp', 'yahoo'])];
  const safe = (name: string): boolean => options.registry.get(name)?.productionSafe ?? true;
  // In production, research providers first (CRSP before Yahoo), whatever the configured order.
  const order = production ? [...priority.filter(safe), ...priority.filter((n) => !safe(n))] : priority;

  /** Why `name` cannot be asked at all, or null when it can. */
  const unusable = async (name: string): Promise<{ reason: SkipReason; detail: string } | null> => {
    const p = options.registry.get(name);
    if (p === undefined) return { reason: 'not_configured', detail: `no provider "${name}" registered (registered: ${options.registry.names().join(', ') || 'none'})` };
    if (production && !p.productionSafe && options.allowDevelopmentInProduction !== true) {
      return { reason: 'gated', detail: `${name} is a development source and WH_ENV is production` };
    }
    const c = await p.configured();
    return c.ok ? null : { reason: 'not_configured', detail: c.detail };
  };

  const log = (op: string, a: Attempt): void => logger.info({ op, provider: a.provider, outcome: a.outcome, reason: a.reason, symbols: a.symbols.length, rows: a.rows, ms: a.ms }, 'provider usage');

  return {
    order: () => [...order],
    async getDailyPrices(symbols, start, end) {
      const o = parseProviderOptions(fetchSchema, { symbols, start, end }, 'fetch');
      let remaining = [...new Set(o.symbols)];
      const servedBy: Record<string, string | null> = Object.fromEntries(remaining.map((s) => [s, null]));
      const attempts: Attempt[] = [];
      const tables: Table[] = [];
      const splits: SplitSymbol[] = [];
      for (const name of order) {
        if (remaining.length === 0) break;
        const skip = await unusable(name);
        if (skip !== null) {
          attempts.push({ provider: name, outcome: 'skipped', ...skip, symbols: remaining });
          log('getDailyPrices', attempts.at(-1)!);
          continue;
        }
        const t0 = performance.now();
        let table: Table;
        try {
          table = await options.registry.get(name)!.getDailyPrices(remaining, o.start, o.end);
        } catch (e) {
          if (isWarehouseError(e) && e.code === 'INVALID_ARGUMENT') throw e;
          attempts.push({ provider: name, outcome: 'skipped', reason: 'error', detail: (e as Error).message ?? String(e), symbols: remaining });
          log('getDailyPrices', attempts.at(-1)!);
          continue;
        }
        const ms = performance.now() - t0;
        const got = new Set<string>();
        for (const v of table.getChild('symbol') ?? []) if (typeof v === 'string') got.add(v);
        const served = remaining.filter((s) => got.has(s));
        const missing = remaining.filter((s) => !got.has(s));
        if (served.length > 0) {
          served.forEach((s) => (servedBy[s] = name));
          const identified = identify(table, name);
          tables.push(identified.table);
          splits.push(...identified.splits);
          attempts.push({ provider: name, outcome: 'served', symbols: served, rows: table.numRows, ms });
          log('getDailyPrices', attempts.at(-1)!);
        }
        if (missing.length > 0) {
          attempts.push({ provider: name, outcome: 'skipped', reason: 'no_data', detail: `no rows between ${o.start} and ${o.end}`, symbols: missing, ms });
          log('getDailyPrices', attempts.at(-1)!);
        }
        remaining = missing;
      }
      if (remaining.length > 0 && options.onMissing !== 'report') {
        const why = attempts.filter((a) => a.outcome === 'skipped').map((a) => `${a.provider}: ${a.reason}${a.detail === undefined ? '' : ` (${a.detail})`}`);
        throw new WarehouseError('INVALID_ARGUMENT', `no provider had data for ${remaining.slice(0, 10).join(', ')} between ${o.start} and ${o.end}`, {
          suggestion: `check the symbols and dates; tried ${order.join(' → ') || '(no providers)'}: ${why.join('; ')}`,
          details: { unknown: remaining, attempts },
        });
      }
      const table = tables.length === 0 ? identify(emptyUnified(), '').table : tables.slice(1).reduce((a, b) => a.concat(b), tables[0]!);
      logger.info({ op: 'getDailyPrices', symbols: o.symbols.length, rows: table.numRows, servedBy, splits: splits.map((x) => x.symbol) }, 'fetch done');
      return { table, servedBy, attempts, splits };
    },
    async getUniverse(asOfDate) {
      const d = parseProviderOptions(isoDateSchema, asOfDate, 'universe date');
      const attempts: Attempt[] = [];
      for (const name of order) {
        const skip = await unusable(name);
        if (skip !== null) {
          attempts.push({ provider: name, outcome: 'skipped', ...skip, symbols: [] });
          log('getUniverse', attempts.at(-1)!);
          continue;
        }
        const t0 = performance.now();
        const symbols = await options.registry.get(name)!.getUniverse(d);
        const a: Attempt = symbols.length > 0
          ? { provider: name, outcome: 'served', symbols: [], rows: symbols.length, ms: performance.now() - t0 }
          : { provider: name, outcome: 'skipped', reason: 'no_data', detail: `no universe on ${d}`, symbols: [] };
        attempts.push(a);
        log('getUniverse', a);
        if (symbols.length > 0) return { symbols, provider: name, attempts };
      }
      return { symbols: [], provider: null, attempts };
    },
  };
}

/** An empty table with the unified columns and types. */
function emptyUnified(): Table {
  const f = () => vectorFromArray([], new Float64());
  return makeTable({
    date: vectorFromArray([], new DateDay()), symbol: vectorFromArray([], new Utf8()), permno: vectorFromArray([], new Int32()), exchange: vectorFromArray([], new Utf8()),
    open: f(), high: f(), low: f(), close: f(), adj_close: f(), volume: f(), ret: f(),
  } as never) as unknown as Table;
}

// ---------------------------------------------------------------------------------------------
// Providers over the warehouse

const UNIFIED_SELECT = 'date, symbol, permno, exchange, open, high, low, close, adj_close, volume, ret';

/** Options of {@link createCrspProvider}. */
export interface CrspProviderOptions {
  readonly format?: CrspFormat;
}

/**
 * CRSP daily prices behind the unified schema: symbols are tickers resolved through the names
 * history by date (all digits: a permno); close = |prc| (NULL when missing), adj_close in the terms
 * of `end` (no split after `end` leaks in), volume = vol, ret = the total return (legacy: delisting
 * returns included). The universe is the survivorship-free CRSP universe's tickers on the date.
 */
export function createCrspProvider(session: WarehouseSession, options: CrspProviderOptions = {}): DataProvider {
  const format = options.format ?? 'legacy';
  const datasets = format === 'legacy' ? ['crsp_dsf', 'crsp_dsenames', 'crsp_dsedelist'] : ['crsp_dsf_v2', 'crsp_stksecurityinfohist', 'crsp_stkdelists'];
  return {
    name: 'crsp',
    productionSafe: true,
    async configured() {
      try {
        requireDatasets(session, datasets);
        return { ok: true };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
    async getDailyPrices(symbols, start, end) {
      const permnos = symbols.filter((s) => /^\d{1,10}$/.test(s)).map(Number);
      // Symbols CRSP could never carry (e.g. '^GSPC') are not an error here: the next provider may know them.
      const tickers = symbols.filter((s) => !/^\d+$/.test(s) && tickerSchema.safeParse(s).success);
      if (permnos.length + tickers.length === 0) return emptyUnified();
      const plan = await planPrices(session, 'daily', { permnos, tickers, start, end, format, adjustTo: end }, { unknown: 'skip' });
      return runTable(session, {
        sql: `SELECT date, symbol, permno, CAST(NULL AS VARCHAR) AS exchange, open, high, low, price AS close, adj_price AS adj_close, vol AS volume, total_ret AS ret
          FROM (${plan.query.sql}) ORDER BY symbol, permno, date`,
        params: plan.query.params,
      });
    },
    async getUniverse(asOfDate) {
      const t = await universe(session, asOfDate, { format });
      const out = new Set<string>();
      for (const v of t.getChild('ticker') ?? []) if (typeof v === 'string' && v !== '') out.add(v.toUpperCase());
      return [...out].sort();
    },
  };
}

/** Options of {@link createYahooProvider}. */
export interface YahooProviderOptions {
  /** Dataset written by `wh yahoo sync` (default 'yahoo_daily'). */
  readonly dataset?: string;
}

/** Build a Yahoo provider for a session: the typed hook the fetcher's registry takes. */
export type YahooProviderFactory = (session: WarehouseSession, options?: YahooProviderOptions) => DataProvider;

/**
 * Adjustment factors (`symbol|date` → factor) of the window's bars: dividends, and splits when the
 * bars are stored as traded, from `yahoo_events` up to `end` (one query for every symbol).
 */
async function windowFactors(session: WarehouseSession, bars: readonly Record<string, unknown>[], end: string): Promise<Map<string, number>> {
  const bySymbol = groupBySymbol(bars);
  let events = new Map<string, Record<string, unknown>[]>();
  if (session.datasets.includes('yahoo_events') && bySymbol.size > 0) {
    const p = new Params();
    events = groupBySymbol(
      await runRows(
        session,
        p.query(`SELECT upper(symbol) AS symbol, CAST(CAST(date AS DATE) AS VARCHAR) AS date, kind, numerator, denominator, amount FROM yahoo_events
          WHERE upper(symbol) IN (${p.list([...bySymbol.keys()])}) AND CAST(date AS DATE) <= ${p.date(end)} ORDER BY symbol, date`),
      ),
    );
  }
  const out = new Map<string, number>();
  for (const [symbol, list] of bySymbol) {
    const bars1 = list.map((b) => ({ date: String(b['date']), close: Number(b['close']) }));
    const { factors } = adjustmentFactors(bars1, adjustEventsOf(events.get(symbol) ?? []), priceBasisOf(list[0]!['basis']));
    list.forEach((b, i) => out.set(`${symbol}|${String(b['date'])}`, factors[i]!));
  }
  return out;
}

/**
 * Yahoo daily bars already synced into the warehouse (`yahoo_daily`: date, symbol, open, high, low,
 * close, volume), a development-only source (gated in production). adj_close has CRSP's meaning
 * (the CRSP provider's `adjustTo = end`) and `wh yahoo prices --adjusted`'s: back-adjusted locally
 * from `yahoo_events` (src/pricing), in terms of the last bar on or before `end`; ret is adj_close
 * over the previous bar's, minus 1. Yahoo has no universe: `getUniverse` returns none.
 */
export const createYahooProvider: YahooProviderFactory = (session, options = {}) => {
  const dataset = options.dataset ?? 'yahoo_daily';
  if (!/^[a-z][a-z0-9_]*$/.test(dataset)) throw new WarehouseError('INVALID_ARGUMENT', `"${dataset.slice(0, 40)}" is not a dataset name`, { suggestion: 'e.g. yahoo_daily' });
  let described: Promise<{ exchange: string; basis: string }> | undefined;
  const columns = (): Promise<{ exchange: string; basis: string }> =>
    (described ??= runRows(session, { sql: `SELECT column_name FROM (DESCRIBE ${dataset})`, params: [] }).then((rows) => {
      const names = new Set(rows.map((r) => String(r['column_name'])));
      // The security's identity beside the symbol: its exchange (or the exchange's time zone the sync keeps).
      const exchange = ['exchange', 'exchange_tz'].find((c) => names.has(c));
      return {
        exchange: exchange === undefined ? 'CAST(NULL AS VARCHAR)' : `CAST(${exchange} AS VARCHAR)`,
        basis: names.has('price_basis') ? 'CAST(price_basis AS VARCHAR)' : 'CAST(NULL AS VARCHAR)',
      };
    }));
  return {
    name: 'yahoo',
    productionSafe: false,
    async configured() {
      return session.datasets.includes(dataset) ? { ok: true } : { ok: false, detail: `${dataset} is not in the warehouse at ${session.point.label}; sync it with \`wh yahoo sync\`` };
    },
    async getDailyPrices(symbols, start, end) {
      const p = new Params();
      const s0 = p.date(start);
      const e = p.date(end);
      const c = await columns();
      // The window read: each symbol's last bar before `start` (its return's base) through `end`.
      // adj_close means what it means for CRSP (adjustTo = end) and for `wh yahoo prices --adjusted`:
      // back-adjusted locally for dividends (and splits when stored as traded), in terms of `end`.
      // That is a ratio of factors, f(date) / f(end), in which events outside the window cancel, so
      // the window's bars and events are all it needs (a one-day fetch reads two bars per symbol).
      const sql = `WITH b AS (
            SELECT CAST(date AS DATE) AS d, upper(symbol) AS symbol, ${c.exchange} AS exchange, CAST(open AS DOUBLE) AS open, CAST(high AS DOUBLE) AS high,
              CAST(low AS DOUBLE) AS low, CAST(close AS DOUBLE) AS close, CAST(volume AS DOUBLE) AS volume, ${c.basis} AS basis
            FROM ${dataset} WHERE upper(symbol) IN (${p.list(symbols)}) AND CAST(date AS DATE) <= ${e}),
          lo AS (SELECT symbol, max(d) AS d FROM b WHERE d < ${s0} GROUP BY symbol)
          SELECT CAST(b.d AS VARCHAR) AS date, b.symbol, exchange, open, high, low, close, volume, basis
          FROM b LEFT JOIN lo ON b.symbol = lo.symbol WHERE b.d >= coalesce(lo.d, ${s0}) ORDER BY b.symbol, b.d`;
      const bars = await runRows(session, p.query(sql));
      const factors = new Map<string, number>();
      if (dataset === 'yahoo_daily') for (const [k, f] of await windowFactors(session, bars, end)) factors.set(k, f);
      const atEnd = new Map<string, number>();
      for (const b of bars) atEnd.set(String(b['symbol']), factors.get(`${String(b['symbol'])}|${String(b['date'])}`) ?? 1);
      const cols: Record<string, unknown[]> = { date: [], symbol: [], permno: [], exchange: [], open: [], high: [], low: [], close: [], adj_close: [], volume: [], ret: [] };
      let prev: { symbol: string; adj: number } | undefined;
      for (const b of bars) {
        const symbol = String(b['symbol']);
        const date = String(b['date']);
        const close = b['close'] === null ? null : Number(b['close']);
        const adj = close === null ? null : (close * (factors.get(`${symbol}|${date}`) ?? 1)) / atEnd.get(symbol)!;
        const ret = adj !== null && prev?.symbol === symbol && prev.adj !== 0 ? adj / prev.adj - 1 : null;
        prev = adj === null ? undefined : { symbol, adj };
        if (date < start) continue;
        cols['date']!.push(new Date(`${date}T00:00:00Z`));
        cols['symbol']!.push(symbol);
        cols['permno']!.push(null);
        cols['exchange']!.push(b['exchange'] ?? null);
        for (const k of ['open', 'high', 'low', 'volume']) cols[k]!.push(b[k] === null || b[k] === undefined ? null : Number(b[k]));
        cols['close']!.push(close);
        cols['adj_close']!.push(adj);
        cols['ret']!.push(ret);
      }
      const f = (k: string) => vectorFromArray(cols[k]!, new Float64());
      return makeTable({
        date: vectorFromArray(cols['date']!, new DateDay()), symbol: vectorFromArray(cols['symbol']!, new Utf8()), permno: vectorFromArray(cols['permno']!, new Int32()),
        exchange: vectorFromArray(cols['exchange']!, new Utf8()), open: f('open'), high: f('high'), low: f('low'), close: f('close'), adj_close: f('adj_close'), volume: f('volume'), ret: f('ret'),
      } as never) as unknown as Table;
    },
    async getUniverse() {
      return [];
    },
  };
};
