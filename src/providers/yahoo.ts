/**
 * Yahoo daily prices as the warehouse held them at the session's point: the stored bars of
 * `yahoo_daily` (split-adjusted as of the fetch, not dividend-adjusted) and, with `adjusted`,
 * CRSP-style back-adjusted prices derived locally from `yahoo_events` (splits only when the
 * stored prices are as traded, so a split is never applied twice). The adjustment uses the
 * symbol's whole stored window; `start`/`end` only filter what is returned.
 */
import { WarehouseError } from '../log/index.js';
import { adjustBars, type AdjustEvents, type PriceBasis } from '../pricing/index.js';
import type { WarehouseSession } from '../query/index.js';

/** Options of {@link yahooPrices}. */
export interface YahooPriceOptions {
  readonly symbols: readonly string[];
  readonly adjusted?: boolean;
  readonly start?: string;
  readonly end?: string;
}

/** One row of {@link yahooPrices}; the adj_* columns and factor only with `adjusted`. */
export interface YahooPriceRow extends Record<string, unknown> {
  readonly symbol: string;
  readonly date: string;
  readonly close: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Daily Yahoo prices of `symbols`, in the order given, each by date. Two queries whatever the
 * number of symbols (the bars, then the events); the adjustment runs per symbol over its rows.
 * @throws WarehouseError `UNKNOWN_DATASET` when the point holds no `yahoo_daily`.
 */
export async function yahooPrices(s: WarehouseSession, o: YahooPriceOptions): Promise<YahooPriceRow[]> {
  if (!s.datasets.includes('yahoo_daily')) {
    throw new WarehouseError('UNKNOWN_DATASET', `no yahoo_daily dataset at ${s.point.label}`, {
      suggestion: 'run `wh yahoo sync --symbols ... --start ... --end ...` first, or pick a later --as-of',
    });
  }
  const wanted = [...new Set(o.symbols)];
  if (wanted.length === 0) return [];
  const names = new Set((await s.duck.all('SELECT column_name FROM (DESCRIBE yahoo_daily)')).rows.map((r) => String(r['column_name'])));
  const opt = (c: string): string => (names.has(c) ? c : `NULL AS ${c}`);
  const list = wanted.map((_, i) => `$${i + 1}`).join(', ');
  const bars = groupBySymbol(
    (await s.duck.all(`SELECT symbol, CAST(date AS VARCHAR) AS date, open, high, low, close, volume, ${opt('currency')}, ${opt('price_basis')} FROM yahoo_daily WHERE symbol IN (${list}) ORDER BY symbol, date`, wanted)).rows,
  );
  const events = o.adjusted === true && s.datasets.includes('yahoo_events')
    ? groupBySymbol((await s.duck.all(`SELECT symbol, CAST(date AS VARCHAR) AS date, kind, numerator, denominator, amount FROM yahoo_events WHERE symbol IN (${list}) ORDER BY symbol, date`, wanted)).rows)
    : new Map<string, Record<string, unknown>[]>();
  const out: YahooPriceRow[] = [];
  for (const symbol of o.symbols) out.push(...pricesOf(symbol, bars.get(symbol) ?? [], events.get(symbol) ?? [], o));
  return out;
}

/** Rows grouped by their `symbol`, each group in the rows' order. */
export function groupBySymbol(rows: readonly Record<string, unknown>[]): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = String(r['symbol']);
    let list = out.get(k);
    if (list === undefined) out.set(k, (list = []));
    list.push(r);
  }
  return out;
}

/** `yahoo_events` rows (kind, numerator, denominator, amount) as the adjustment's splits and dividends. */
export function adjustEventsOf(events: readonly Record<string, unknown>[]): AdjustEvents {
  return {
    splits: events.filter((e) => e['kind'] === 'split').map((e) => ({ date: String(e['date']), numerator: Number(e['numerator']), denominator: Number(e['denominator']) })),
    dividends: events.filter((e) => e['kind'] === 'dividend').map((e) => ({ date: String(e['date']), amount: Number(e['amount']) })),
  };
}

/** A stored `price_basis`: as traded, or (anything else, including none) split-adjusted as Yahoo serves it. */
export const priceBasisOf = (v: unknown): PriceBasis => (v === 'as_traded' ? 'as_traded' : 'split_adjusted');

function pricesOf(symbol: string, rows: readonly Record<string, unknown>[], events: readonly Record<string, unknown>[], o: YahooPriceOptions): YahooPriceRow[] {
  const bars = rows.map((r) => ({
    date: String(r['date']),
    open: num(r['open']),
    high: num(r['high']),
    low: num(r['low']),
    close: Number(r['close']),
    volume: num(r['volume']),
    currency: r['currency'] === null ? null : String(r['currency']),
    basis: r['price_basis'],
  }));
  if (bars.length === 0) return [];
  const inRange = (d: string): boolean => (o.start === undefined || d >= o.start) && (o.end === undefined || d <= o.end);
  const base = bars.map((b) => ({ symbol, date: b.date, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, currency: b.currency }));
  if (o.adjusted !== true) return base.filter((b) => inRange(b.date));
  const adjusted = adjustBars(bars, adjustEventsOf(events), priceBasisOf(bars[0]!.basis));
  return base
    .map((b, i) => {
      const a = adjusted[i]!;
      return { ...b, factor: a.factor, adj_open: a.adjOpen, adj_high: a.adjHigh, adj_low: a.adjLow, adj_close: a.adjClose };
    })
    .filter((b) => inRange(b.date));
}
