/**
 * TAQ cleaning rules (shared/DATA-RULES.md "TAQ"; Holden & Jacobsen 2014, "Liquidity Measurement
 * Problems in Fast, Competitive Markets", J. Finance 69(4), and their DTAQ SAS code). Each rule is
 * a named pure function over one row, with the DuckDB SQL fragment the day's aggregation uses next
 * to it; test/sync/taq-rules.test.ts checks that both agree row by row. Times are integer
 * nanoseconds after midnight, New York time.
 */

/** Sale conditions of regular trades (DATA-RULES; HJ keep '', '@', 'E', '@E', 'F', 'FI', '@F', '@FI', 'I', '@I'). */
export const TRADE_SALE_CONDITIONS: readonly string[] = ['', '@', 'E', '@E', 'F', 'FI', '@F', '@FI', 'I', '@I'];
/** Quote conditions of normal quotes (HJ: A, B, H, O, R, W). */
export const QUOTE_CONDITIONS: readonly string[] = ['A', 'B', 'H', 'O', 'R', 'W'];
/** A single-venue quote with a wider spread than this (dollars) is dropped (HJ). */
export const MAX_QUOTE_SPREAD = 5;

export const NS_PER_SECOND = 1_000_000_000;
export const NS_PER_MINUTE = 60 * NS_PER_SECOND;

/** The day's windows: trades in [open, close), quotes in [quotesFrom, close) so the NBBO is seeded before the open. */
export interface SessionWindow {
  readonly quotesFromNs: number;
  readonly openNs: number;
  readonly closeNs: number;
}

/** The session of a day closing at 'HH:MM' (src/calendar sessionClose: '16:00', or '13:00' on early closes). */
export function sessionWindow(close: string): SessionWindow {
  const [h, m] = close.split(':').map(Number) as [number, number];
  return { quotesFromNs: 9 * 3600 * NS_PER_SECOND, openNs: 9.5 * 3600 * NS_PER_SECOND, closeNs: (h * 3600 + m * 60) * NS_PER_SECOND };
}

const sqlList = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');

// ---------------------------------------------------------------------------------------- trades

export interface RawTrade {
  readonly t: number;
  readonly cond: string | null;
  readonly size: number;
  readonly price: number;
  readonly corr: string | null;
}

/** Regular hours: 09:30 ≤ t < close (the close is the calendar's, 13:00 on early closes). */
export function isRegularHoursTrade(t: number, w: SessionWindow): boolean {
  return t >= w.openNs && t < w.closeNs;
}
export const regularHoursTradeSql = (t: string, w: SessionWindow): string => `(${t} >= ${w.openNs} AND ${t} < ${w.closeNs})`;

/** Uncorrected: tr_corr = '00' (corrections and cancels '01', '07', '08', '10', '12' … are dropped). */
export function isUncorrectedTrade(corr: string | null): boolean {
  return corr === '00';
}
export const uncorrectedTradeSql = (corr: string): string => `(${corr} = '00')`;

/** A regular sale condition: the trimmed tr_scond is one of {@link TRADE_SALE_CONDITIONS} (NULL counts as ''). */
export function isRegularSaleCondition(cond: string | null): boolean {
  return TRADE_SALE_CONDITIONS.includes((cond ?? '').trim());
}
export const regularSaleConditionSql = (cond: string): string => `(coalesce(trim(${cond}), '') IN (${sqlList(TRADE_SALE_CONDITIONS)}))`;

/** A positive price and size. */
export function hasPositivePriceAndSize(price: number | null, size: number | null): boolean {
  return price !== null && size !== null && price > 0 && size > 0;
}
export const positivePriceAndSizeSql = (price: string, size: string): string => `(${price} > 0 AND ${size} > 0)`;

/** The trade filter: every trade rule at once. */
export function keepTrade(tr: RawTrade, w: SessionWindow): boolean {
  return isRegularHoursTrade(tr.t, w) && isUncorrectedTrade(tr.corr) && isRegularSaleCondition(tr.cond) && hasPositivePriceAndSize(tr.price, tr.size);
}
export const keepTradeSql = (w: SessionWindow): string =>
  [regularHoursTradeSql('t', w), uncorrectedTradeSql('tr_corr'), regularSaleConditionSql('tr_scond'), positivePriceAndSizeSql('price', 'size')].join(' AND ');

// ---------------------------------------------------------------------------------------- quotes

export interface RawQuote {
  readonly t: number;
  readonly bid: number | null;
  readonly bidsiz: number | null;
  readonly ask: number | null;
  readonly asksiz: number | null;
  readonly cond: string | null;
  readonly cancel: string | null;
}

/** A side with price or size ≤ 0 (or NULL) is withdrawn: that side becomes NULL, the row stays. */
export function withdrawnSidesNull<Q extends RawQuote>(q: Q): Q {
  const bidOk = q.bid !== null && q.bidsiz !== null && q.bid > 0 && q.bidsiz > 0;
  const askOk = q.ask !== null && q.asksiz !== null && q.ask > 0 && q.asksiz > 0;
  return { ...q, bid: bidOk ? q.bid : null, bidsiz: bidOk ? q.bidsiz : null, ask: askOk ? q.ask : null, asksiz: askOk ? q.asksiz : null };
}
/** SQL: the side's price (or size) if the side is not withdrawn, else NULL. */
export const sideSql = (price: string, size: string, pick: string): string => `CASE WHEN ${price} > 0 AND ${size} > 0 THEN ${pick} END`;

/** A normal quote condition and not cancelled (qu_cancel = 'B' is a cancel). */
export function isNormalQuote(cond: string | null, cancel: string | null): boolean {
  return QUOTE_CONDITIONS.includes((cond ?? '').trim()) && cancel !== 'B';
}
export const normalQuoteSql = (cond: string, cancel: string): string => `(trim(${cond}) IN (${sqlList(QUOTE_CONDITIONS)}) AND coalesce(${cancel}, '') <> 'B')`;

/** After withdrawing sides: a two-sided quote must not be crossed (bid > ask) nor wider than $5. Locked single-venue quotes stay. */
export function isSaneTwoSidedQuote(bid: number | null, ask: number | null): boolean {
  if (bid === null || ask === null) return true;
  return bid <= ask && ask - bid <= MAX_QUOTE_SPREAD;
}
export const saneTwoSidedQuoteSql = (bid: string, ask: string): string => `(${bid} IS NULL OR ${ask} IS NULL OR (${bid} <= ${ask} AND ${ask} - ${bid} <= ${MAX_QUOTE_SPREAD}))`;

/** Quotes count from 09:00 (so the NBBO is seeded before the open) up to the close. */
export function isQuoteWindow(t: number, w: SessionWindow): boolean {
  return t >= w.quotesFromNs && t < w.closeNs;
}
export const quoteWindowSql = (t: string, w: SessionWindow): string => `(${t} >= ${w.quotesFromNs} AND ${t} < ${w.closeNs})`;

/** 'HH:MM:SS' of `ns` after midnight. */
const clock = (ns: number): string => {
  const s = Math.floor(ns / NS_PER_SECOND);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
};

/**
 * SQL valid in PostgreSQL and DuckDB alike: per (sym_root, sym_suffix) of `from`, the quotes that
 * pass the quote filter between the open and the close (taq_spreads' `quotes`). The sync runs it
 * at the source, so only the quotes carrying the NBBO need to travel.
 */
export function quoteCountSql(from: string, w: SessionWindow, where = 'TRUE'): string {
  const bid = `(${sideSql('bid', 'bidsiz', 'bid')})`;
  const ask = `(${sideSql('ask', 'asksiz', 'ask')})`;
  return `SELECT sym_root, sym_suffix, count(*) AS quotes FROM ${from} WHERE ${where} AND time_m >= TIME '${clock(w.openNs)}' AND time_m < TIME '${clock(w.closeNs)}' AND ${normalQuoteSql('qu_cond', 'qu_cancel')} AND ${saneTwoSidedQuoteSql(bid, ask)} GROUP BY sym_root, sym_suffix`;
}

/** The quote filter on a row whose withdrawn sides are already NULL. */
export function keepQuote(q: RawQuote, w: SessionWindow): boolean {
  return isQuoteWindow(q.t, w) && isNormalQuote(q.cond, q.cancel) && isSaneTwoSidedQuote(q.bid, q.ask);
}

// ------------------------------------------------------------------------------ the complete NBBO

/** A quote row that carries the NBBO itself (it is not repeated in the NBBO file): CQS '1', UTP '4'. */
export function carriesNbbo(source: string | null, natbbo: string | null): boolean {
  return (source === 'C' && natbbo === '1') || (source === 'N' && natbbo === '4');
}
export const carriesNbboSql = (source: string, natbbo: string): string => `((${source} = 'C' AND ${natbbo} = '1') OR (${source} = 'N' AND ${natbbo} = '4'))`;

/** Quote sizes are round lots; NBBO sizes are shares. */
export const ROUND_LOT = 100;

export interface NbboRow {
  readonly t: number;
  /** qu_seqnum; NULL for NBBO-file rows without one (they lose a timestamp tie). */
  readonly seq: number | null;
  readonly bid: number | null;
  readonly bidsize: number | null;
  readonly ask: number | null;
  readonly asksize: number | null;
}

/**
 * The official complete NBBO: the NBBO file's rows plus the quote rows that carry the NBBO (sizes ×
 * 100), in time order; of rows sharing a timestamp only the one with the highest sequence number
 * stands (a NULL sequence number ranks lowest).
 */
export function completeNbbo(file: readonly NbboRow[], carrying: readonly NbboRow[]): NbboRow[] {
  const all = [...file, ...carrying.map((q) => ({ ...q, bidsize: q.bidsize === null ? null : q.bidsize * ROUND_LOT, asksize: q.asksize === null ? null : q.asksize * ROUND_LOT }))];
  all.sort((a, b) => a.t - b.t || (a.seq ?? -1) - (b.seq ?? -1));
  return all.filter((r, i) => all[i + 1]?.t !== r.t);
}

/** The NBBO in force at `t`: the last row at or before `t` (time-ordered input). */
export function nbboAt<R extends { t: number }>(nbbo: readonly R[], t: number): R | undefined {
  let lo = 0;
  let hi = nbbo.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nbbo[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : nbbo[lo - 1];
}

/** A trade is matched to the NBBO in force one nanosecond before it (HJ: quotes at the trade's own timestamp may be its consequence). */
export function matchingNbbo<R extends { t: number }>(nbbo: readonly R[], tradeT: number): R | undefined {
  return nbboAt(nbbo, tradeT - 1);
}
/** SQL: the time whose NBBO in force a trade at `tradeT` meets (an ASOF JOIN on `n.t <= <it>`). */
export const matchingNbboTimeSql = (tradeT: string): string => `${tradeT} - 1`;

/** Locked (bid = ask) and crossed (bid > ask) NBBOs, and one-sided ones, are left out of every spread. */
export function isUsableNbbo(bid: number | null, ask: number | null): boolean {
  return bid !== null && ask !== null && bid > 0 && ask > bid;
}
export const usableNbboSql = (bid: string, ask: string): string => `(${bid} IS NOT NULL AND ${ask} IS NOT NULL AND ${bid} > 0 AND ${ask} > ${bid})`;
