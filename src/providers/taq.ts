/**
 * The TAQ provider: minute bars, daily realized variance, spreads and tick samples of named
 * symbols over a date range, read through a {@link WarehouseSession} — so a session opened at a
 * point (`openWarehouse(dir, { asOf: 'paper-v1' })`) returns what the warehouse held then, and a
 * later sync changes nothing it returns. Argument names follow the other providers (`symbols`,
 * `start`, `end`). See docs/concepts/taq.md.
 *
 * @example
 * const wh = await openWarehouse(dir, { asOf: 'paper-v1' });
 * const bars = await taqMinuteBars(wh.session, { symbols: ['AAPL'], start: '2024-03-15', end: '2024-03-15' });
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { WarehouseError } from '../log/index.js';
import { quoteLiteral } from '../engine/index.js';
import { objectPath } from '../store/index.js';
import type { WarehouseSession } from '../query/index.js';
import type { DataProvider } from './fetcher.js';
import { MAX_SYMBOLS, Params, REVERSED, isoDateSchema, ordered, parseProviderOptions, requireDatasets, runRows, runTable, tickerSchema, type ProviderPlan } from './crsp.js';

export const taqKinds = ['bars', 'rv', 'spreads', 'ticks'] as const;
export type TaqKind = (typeof taqKinds)[number];

/** The dataset each kind reads, its order, and extra columns. */
const SPEC: Record<TaqKind, { dataset: string; order: string; select: string }> = {
  bars: { dataset: 'taq_minute_bars', order: 'symbol, minute', select: '*' },
  rv: { dataset: 'taq_daily_rv', order: 'symbol, date', select: '*' },
  spreads: { dataset: 'taq_spreads', order: 'symbol, date', select: '*' },
  // Arrow carries timestamps in milliseconds: ts_ns keeps the nanoseconds (after midnight, exchange time).
  ticks: { dataset: 'taq_ticks', order: 'symbol, ts, kind, seq', select: `* EXCLUDE (ts), ts, (epoch_ns(ts) - epoch_ns(date::TIMESTAMP))::BIGINT AS ts_ns` },
};

export const taqOptionsSchema = z
  .object({
    symbols: z.array(tickerSchema).min(1, 'at least one symbol').max(MAX_SYMBOLS),
    start: isoDateSchema,
    end: isoDateSchema,
  })
  .refine(ordered, REVERSED);
export type TaqOptions = z.input<typeof taqOptionsSchema>;

/** A planned TAQ read; `verify(present)` skips the lookup when every symbol came back. */
export interface TaqPlan extends ProviderPlan {
  /** The symbols asked for, without repeats. */
  readonly symbols: readonly string[];
  verify(present?: ReadonlySet<string | number>): Promise<void>;
}

/** Plan a TAQ read: rows of `symbols` with start ≤ date ≤ end, in the dataset's order. */
export function planTaq(session: WarehouseSession, kind: TaqKind, options: TaqOptions): TaqPlan {
  const o = parseProviderOptions(taqOptionsSchema, options, `taq ${kind}`);
  const spec = SPEC[kind];
  requireDatasets(session, [spec.dataset]);
  const symbols = [...new Set(o.symbols)];
  // Partitions are days: read only the objects of the days asked for (a view over every day would
  // open every day's footer). Symbols and dates are validated above, so they go in as literals (a
  // prepared statement costs more than this query's scan).
  const days = session.entries.filter((e) => e.dataset === spec.dataset && e.partition >= o.start && e.partition <= o.end);
  const schemas = new Set(days.map((e) => e.schemaFingerprint));
  const from = days.length === 0
    ? spec.dataset
    : `read_parquet([${days.map((e) => quoteLiteral(objectPath(session.dir, e.object))).join(', ')}]${schemas.size > 1 ? ', union_by_name = true' : ''})`;
  const sql = `SELECT ${spec.select} FROM ${from} WHERE symbol IN (${symbols.map(quoteLiteral).join(', ')}) AND date BETWEEN DATE ${quoteLiteral(o.start)} AND DATE ${quoteLiteral(o.end)} ORDER BY ${spec.order}`;
  return {
    query: { sql, params: [] },
    symbols,
    async verify(present?: ReadonlySet<string | number>) {
      if (present !== undefined && symbols.every((s) => present.has(s))) return;
      const v = new Params();
      const found = await runRows(session, v.query(`SELECT DISTINCT symbol FROM ${spec.dataset} WHERE symbol IN (${v.list(symbols)})`));
      const known = new Set(found.map((r) => String(r.symbol)));
      const unknown = symbols.filter((s) => !known.has(s));
      if (unknown.length > 0) {
        throw new WarehouseError('INVALID_ARGUMENT', `${spec.dataset} has no rows for ${unknown.join(', ')} at ${session.point.label}`, {
          suggestion: `sync them first: wh taq sync --symbols ${unknown.join(',')} --start ${o.start} --end ${o.end}`,
          details: { unknown },
        });
      }
    },
  };
}

/** Run the plan; only when a symbol is absent from the result is the dataset asked whether it knows it. */
async function read(session: WarehouseSession, kind: TaqKind, options: TaqOptions): Promise<Table> {
  const plan = planTaq(session, kind, options);
  const t = await runTable(session, plan.query);
  const present = new Set<string>();
  // Every row is of an asked-for symbol (the WHERE): one symbol asked for is present when any row
  // came back, without decoding each row's symbol (0.08 ms of a 6 ms bars query).
  if (plan.symbols.length === 1) {
    if (t.numRows > 0) present.add(plan.symbols[0]!);
  } else for (const v of t.getChild('symbol') ?? []) if (typeof v === 'string') present.add(v);
  await plan.verify(present);
  return t;
}

/** 1-minute bars (exchange time; empty minutes have NULL prices and zero volume). */
export const taqMinuteBars = (session: WarehouseSession, options: TaqOptions): Promise<Table> => read(session, 'bars', options);
/** Daily realized variance from 5- and 30-minute sampling, with observation counts. */
export const taqRealizedVariance = (session: WarehouseSession, options: TaqOptions): Promise<Table> => read(session, 'rv', options);
/** Holden–Jacobsen spreads per symbol-day under Lee–Ready, EMO and CLNV signing. */
export const taqSpreads = (session: WarehouseSession, options: TaqOptions): Promise<Table> => read(session, 'spreads', options);
/** Cleaned trades and the complete NBBO of sampled days. */
export const taqTicks = (session: WarehouseSession, options: TaqOptions): Promise<Table> => read(session, 'ticks', options);

/**
 * TAQ behind the unified fetcher's schema (registry key 'taq'): daily rows built from the minute
 * bars — open = the first traded minute's open, close = the last traded minute's close, high,
 * low, volume = Σ volume. TAQ prices are not adjusted for splits or dividends, so adj_close and
 * ret are NULL (a research return needs CRSP). The universe is the symbols with bars on the date.
 */
export function createTaqProvider(session: WarehouseSession): DataProvider {
  const dataset = SPEC.bars.dataset;
  return {
    name: 'taq',
    productionSafe: true,
    async configured() {
      return session.datasets.includes(dataset) ? { ok: true } : { ok: false, detail: `${dataset} is not in the warehouse at ${session.point.label}; sync it with \`wh taq sync\`` };
    },
    async getDailyPrices(symbols, start, end) {
      const p = new Params();
      const sql = `SELECT date, symbol, first(open ORDER BY minute) FILTER (WHERE open IS NOT NULL) AS open, max(high) AS high, min(low) AS low,
          last(close ORDER BY minute) FILTER (WHERE close IS NOT NULL) AS close, NULL::DOUBLE AS adj_close, sum(volume)::DOUBLE AS volume, NULL::DOUBLE AS ret
        FROM ${dataset} WHERE symbol IN (${p.list(symbols)}) AND date BETWEEN ${p.date(start)} AND ${p.date(end)}
        GROUP BY date, symbol HAVING sum(volume) > 0 ORDER BY symbol, date`;
      return runTable(session, p.query(sql));
    },
    async getUniverse(asOfDate) {
      const p = new Params();
      const rows = await runRows(session, p.query(`SELECT DISTINCT symbol FROM ${dataset} WHERE date = ${p.date(asOfDate)} ORDER BY 1`));
      return rows.map((r) => String(r.symbol));
    },
  };
}
