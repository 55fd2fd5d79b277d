/**
 * Trade signing (buyer- or seller-initiated), as Holden & Jacobsen (2014) compute it, each a named
 * pure function with its DuckDB SQL next to it:
 * - tick test: the sign of the price change from the last different earlier price of the
 *   symbol-day (+1 uptick, −1 downtick; NULL when there is none yet);
 * - Lee & Ready (1991): above the matched midpoint a buy, below a sell, at it the tick test;
 * - EMO, Ellis, Michaely & O'Hara (2000): at the ask a buy, at the bid a sell, else the tick test;
 * - CLNV, Chakrabarty, Li, Nguyen & Van Ness (2007): in the top 30 % of the spread (up to the ask)
 *   a buy, in the bottom 30 % (down to the bid) a sell, else (middle 40 %, outside the quotes)
 *   the tick test.
 * A trade without a usable matched NBBO is not signed by the quote rules (NULL).
 */

export type Sign = 1 | -1 | null;

/** Prices within this of each other compare equal (prices are decimals carried in doubles). */
export const PRICE_EPSILON = 1e-9;

/** Tick-test signs of a symbol-day's trade prices in trade order. */
export function tickTest(prices: readonly number[]): Sign[] {
  let last: Sign = null;
  return prices.map((p, i) => {
    const prev = prices[i - 1];
    if (prev !== undefined && Math.abs(p - prev) > PRICE_EPSILON) last = p > prev ? 1 : -1;
    return last;
  });
}
/** SQL, step 1: a trade's tick (+1, −1, or NULL for a zero tick or the first trade) from its price change `dp`. */
export const tickSql = (dp: string): string => `CASE WHEN ${dp} > ${PRICE_EPSILON} THEN 1 WHEN ${dp} < -${PRICE_EPSILON} THEN -1 END`;
/**
 * SQL, step 2: the tick test is the last non-NULL tick up to this trade (the sign of the change
 * from the last different price equals the last non-zero tick). `window` is
 * `PARTITION BY symbol ORDER BY <trade order>`.
 */
export const tickTestSql = (tick: string, window: string): string => `last_value(${tick} IGNORE NULLS) OVER (${window} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;

export function leeReady(price: number, bid: number | null, ask: number | null, tick: Sign): Sign {
  if (bid === null || ask === null) return null;
  const mid = (bid + ask) / 2;
  if (price > mid + PRICE_EPSILON) return 1;
  if (price < mid - PRICE_EPSILON) return -1;
  return tick;
}
export const leeReadySql = (p: string, bid: string, ask: string, tick: string): string =>
  `CASE WHEN ${bid} IS NULL OR ${ask} IS NULL THEN NULL WHEN ${p} > (${bid} + ${ask}) / 2 + ${PRICE_EPSILON} THEN 1 WHEN ${p} < (${bid} + ${ask}) / 2 - ${PRICE_EPSILON} THEN -1 ELSE ${tick} END`;

export function emo(price: number, bid: number | null, ask: number | null, tick: Sign): Sign {
  if (bid === null || ask === null) return null;
  if (Math.abs(price - ask) <= PRICE_EPSILON) return 1;
  if (Math.abs(price - bid) <= PRICE_EPSILON) return -1;
  return tick;
}
export const emoSql = (p: string, bid: string, ask: string, tick: string): string =>
  `CASE WHEN ${bid} IS NULL OR ${ask} IS NULL THEN NULL WHEN abs(${p} - ${ask}) <= ${PRICE_EPSILON} THEN 1 WHEN abs(${p} - ${bid}) <= ${PRICE_EPSILON} THEN -1 ELSE ${tick} END`;

export function clnv(price: number, bid: number | null, ask: number | null, tick: Sign): Sign {
  if (bid === null || ask === null) return null;
  const s = ask - bid;
  if (price >= ask - 0.3 * s - PRICE_EPSILON && price <= ask + PRICE_EPSILON) return 1;
  if (price <= bid + 0.3 * s + PRICE_EPSILON && price >= bid - PRICE_EPSILON) return -1;
  return tick;
}
export const clnvSql = (p: string, bid: string, ask: string, tick: string): string =>
  `CASE WHEN ${bid} IS NULL OR ${ask} IS NULL THEN NULL ` +
  `WHEN ${p} >= ${ask} - 0.3 * (${ask} - ${bid}) - ${PRICE_EPSILON} AND ${p} <= ${ask} + ${PRICE_EPSILON} THEN 1 ` +
  `WHEN ${p} <= ${bid} + 0.3 * (${ask} - ${bid}) + ${PRICE_EPSILON} AND ${p} >= ${bid} - ${PRICE_EPSILON} THEN -1 ELSE ${tick} END`;

export const SIGNINGS = ['lr', 'emo', 'clnv'] as const;
export type Signing = (typeof SIGNINGS)[number];
