/**
 * The TAQ datasets of one day, each a SELECT over the cleaned day (clean-day.ts) and its schema:
 * - taq_minute_bars: per symbol and minute of the session (exchange time, 09:30 to the close, 13:00
 *   on early closes): OHLC, volume, VWAP, trade count and the NBBO in force at the minute's end.
 *   A minute without trades is a row with NULL prices and zero volume.
 * - taq_daily_rv: realized variance from 5- and 30-minute previous-tick sampling of trade prices.
 * - taq_spreads: Holden–Jacobsen spreads per symbol-day (see docs/concepts/taq.md).
 * - taq_ticks: the cleaned trades (with their matched NBBO) and the complete NBBO.
 */
import type { Column } from '../../log/index.js';
import { NS_PER_MINUTE, type SessionWindow } from './rules.js';
import { SIGNINGS } from './signing.js';

/**
 * Sums and averages of doubles that do not depend on the order of their terms. DuckDB aggregates a
 * group in parallel pieces whose partial sums meet in whichever order the threads finish, so a
 * plain sum of doubles can differ in its last bits from run to run, and the same day synced twice
 * would not give the same bytes (measured: 9–12 of 200 symbols' spreads differed between runs at
 * 2 threads). Each term is rounded to `scale` decimal places and summed exactly in 128-bit
 * DECIMAL (integer addition, so any order gives the same sum); `sum(… ORDER BY t)` does the same
 * but cost 0.3 s more per bench day. The scales keep at least double precision for the terms'
 * magnitudes: ratios and spreads (|x| < 10^14) at 24 places, time-weighted sums at 12, squared
 * returns at 30.
 */
export const exactSum = (x: string, scale: number): string => `sum((${x})::DECIMAL(38, ${scale}))::DOUBLE`;
export const exactAvg = (x: string, scale = 24): string => `avg((${x})::DECIMAL(38, ${scale}))`;

export interface TaqDataset {
  readonly name: 'taq_minute_bars' | 'taq_daily_rv' | 'taq_spreads' | 'taq_ticks';
  readonly tier: 'aggregates' | 'samples';
  readonly columns: readonly Column[];
  readonly key: readonly string[];
  readonly sortKey: readonly string[];
  /** The day's rows, sorted by `sortKey`. */
  select(day: string, w: SessionWindow): string;
}

const col = (spec: string): Column[] =>
  spec.split(',').map((s) => {
    const [name, type] = s.trim().split(/\s+/) as [string, string];
    return { name, type };
  });

/** `TIMESTAMP` (exchange wall-clock time) of nanoseconds `t` after midnight of `day`. */
const stampUs = (day: string, t: string): string => `(DATE '${day}' + to_microseconds((${t}) // 1000))`;

export const minuteBars: TaqDataset = {
  name: 'taq_minute_bars',
  tier: 'aggregates',
  columns: col('date DATE, symbol VARCHAR, minute TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume BIGINT, vwap DOUBLE, trades BIGINT, bid DOUBLE, ask DOUBLE'),
  key: ['symbol', 'minute'],
  sortKey: ['symbol', 'minute'],
  select: (day, w) => `
    WITH grid AS (
      SELECT s.symbol, g.m FROM tq_symbols s, generate_series(${w.openNs}::BIGINT, ${w.closeNs - NS_PER_MINUTE}::BIGINT, ${NS_PER_MINUTE}::BIGINT) AS g(m)),
    agg AS (SELECT symbol, m, open, high, low, close, volume, vwap, trades FROM tq_minute),
    -- The NBBO at a minute's end is the last row at or before it: each minute's last row is enough.
    ends AS (SELECT symbol, t, bid, ask FROM tq_nbbo WHERE next_t IS NULL OR next_t // ${NS_PER_MINUTE} > t // ${NS_PER_MINUTE}),
    bars AS (
      SELECT g.symbol, g.m, g.m + ${NS_PER_MINUTE - 1} AS m_end, a.open, a.high, a.low, a.close,
             coalesce(a.volume, 0)::BIGINT AS volume, a.vwap, coalesce(a.trades, 0)::BIGINT AS trades
      FROM grid g LEFT JOIN agg a USING (symbol, m))
    SELECT DATE '${day}' AS date, b.symbol, ${stampUs(day, 'b.m')} AS minute, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trades, n.bid, n.ask
    FROM bars b ASOF LEFT JOIN ends n ON b.symbol = n.symbol AND n.t <= b.m_end
    ORDER BY b.symbol, b.m`,
};

/**
 * Previous-tick sampling on the grid open, open + Δ, …, close: the price at a grid point is the
 * last trade strictly before it; before the first trade of the day, the first trade's price (so a
 * symbol that traded has exactly (close − open)/Δ returns, and none otherwise). Grid points fall
 * on minute boundaries, so the last trade before one is the close of the last traded minute
 * ending at or before it: the sampling reads `tq_minute`, not every trade.
 */
function rvSampling(delta: number, w: SessionWindow, suffix: string): string {
  const n = Math.floor((w.closeNs - w.openNs) / delta);
  return `
    rv${suffix} AS (
      SELECT symbol, ${exactSum('r * r', 30)} AS rv, count(r)::INTEGER AS obs FROM (
        SELECT g.symbol, ln(coalesce(p.close, f.first_price)) - ln(lag(coalesce(p.close, f.first_price)) OVER (PARTITION BY g.symbol ORDER BY g.g)) AS r
        FROM (SELECT s.symbol, ${w.openNs}::BIGINT + k * ${delta}::BIGINT AS g FROM tq_symbols s, range(0, ${n + 1}) AS ks(k)) g
        JOIN firsts f USING (symbol)
        ASOF LEFT JOIN tq_minute p ON g.symbol = p.symbol AND p.m_end <= g.g)
      GROUP BY symbol)`;
}

export const dailyRv: TaqDataset = {
  name: 'taq_daily_rv',
  tier: 'aggregates',
  columns: col('date DATE, symbol VARCHAR, rv_5m DOUBLE, obs_5m INTEGER, rv_30m DOUBLE, obs_30m INTEGER, trades BIGINT'),
  key: ['symbol'],
  sortKey: ['symbol'],
  select: (day, w) => `
    WITH firsts AS (SELECT symbol, first(open ORDER BY m) AS first_price, sum(trades)::BIGINT AS trades FROM tq_minute GROUP BY symbol),
    ${rvSampling(5 * NS_PER_MINUTE, w, '5')},
    ${rvSampling(30 * NS_PER_MINUTE, w, '30')}
    SELECT DATE '${day}' AS date, s.symbol, r5.rv AS rv_5m, coalesce(r5.obs, 0)::INTEGER AS obs_5m, r30.rv AS rv_30m, coalesce(r30.obs, 0)::INTEGER AS obs_30m,
           coalesce(f.trades, 0)::BIGINT AS trades
    FROM tq_symbols s LEFT JOIN rv5 r5 USING (symbol) LEFT JOIN rv30 r30 USING (symbol) LEFT JOIN firsts f USING (symbol)
    ORDER BY s.symbol`,
};

const signedColumns = SIGNINGS.flatMap((s) => [`effective_pct_${s} DOUBLE`, `realized_pct_${s} DOUBLE`, `impact_pct_${s} DOUBLE`]).join(', ');
const signedSelect = SIGNINGS.flatMap((s) => [
  `${exactAvg(`2 * d_${s} * (price - mid) / mid`)} AS effective_pct_${s}`,
  `${exactAvg(`CASE WHEN mid5 IS NOT NULL THEN 2 * d_${s} * (price - mid5) / mid END`)} AS realized_pct_${s}`,
  `${exactAvg(`CASE WHEN mid5 IS NOT NULL THEN 2 * d_${s} * (mid5 - mid) / mid END`)} AS impact_pct_${s}`,
]).join(',\n             ');

export const spreads: TaqDataset = {
  name: 'taq_spreads',
  tier: 'aggregates',
  columns: col(
    `date DATE, symbol VARCHAR, quoted_tw DOUBLE, quoted_pct_tw DOUBLE, effective DOUBLE, effective_pct DOUBLE, ${signedColumns}, trades BIGINT, quotes BIGINT, nbbo_changes BIGINT, spread_trades BIGINT`,
  ),
  key: ['symbol'],
  sortKey: ['symbol'],
  select: (day, w) => `
    WITH intervals AS (
      SELECT symbol, bid, ask, mid, usable, greatest(t, ${w.openNs}) AS t0, least(coalesce(next_t, ${w.closeNs}), ${w.closeNs}) AS t1
      FROM tq_nbbo),
    quoted AS (
      SELECT symbol, ${exactSum('(t1 - t0) * (ask - bid)', 12)} / sum(t1 - t0) AS quoted_tw, ${exactSum('(t1 - t0) * (ask - bid) / mid', 12)} / sum(t1 - t0) AS quoted_pct_tw
      FROM intervals WHERE usable AND t1 > t0 GROUP BY symbol),
    traded AS (
      SELECT symbol, count(*)::BIGINT AS trades, count(mid)::BIGINT AS spread_trades,
             ${exactAvg('2 * abs(price - mid)')} AS effective, ${exactAvg('2 * abs(price - mid) / mid')} AS effective_pct,
             ${signedSelect}
      FROM tq_matched GROUP BY symbol),
    qc AS (SELECT symbol, quotes FROM tq_quote_counts),
    nc AS (SELECT symbol, count(*)::BIGINT AS nbbo_changes FROM tq_nbbo WHERE t >= ${w.openNs} GROUP BY symbol),
    counts AS (SELECT s.symbol, coalesce(qc.quotes, 0)::BIGINT AS quotes, coalesce(nc.nbbo_changes, 0)::BIGINT AS nbbo_changes FROM tq_symbols s LEFT JOIN qc USING (symbol) LEFT JOIN nc USING (symbol))
    SELECT DATE '${day}' AS date, s.symbol, q.quoted_tw, q.quoted_pct_tw, tr.effective, tr.effective_pct,
           ${SIGNINGS.flatMap((x) => [`tr.effective_pct_${x}`, `tr.realized_pct_${x}`, `tr.impact_pct_${x}`]).join(', ')},
           coalesce(tr.trades, 0)::BIGINT AS trades, c.quotes, c.nbbo_changes, coalesce(tr.spread_trades, 0)::BIGINT AS spread_trades
    FROM tq_symbols s LEFT JOIN quoted q USING (symbol) LEFT JOIN traded tr USING (symbol) JOIN counts c USING (symbol)
    ORDER BY s.symbol`,
};

export const ticks: TaqDataset = {
  name: 'taq_ticks',
  tier: 'samples',
  columns: col('date DATE, symbol VARCHAR, ts TIMESTAMP_NS, kind VARCHAR, seq BIGINT, ex VARCHAR, cond VARCHAR, price DOUBLE, size BIGINT, bid DOUBLE, bidsize BIGINT, ask DOUBLE, asksize BIGINT'),
  key: [],
  sortKey: ['symbol', 'ts', 'kind', 'seq'],
  select: (day) => `
    SELECT DATE '${day}' AS date, symbol, make_timestamp_ns(epoch_ns(DATE '${day}'::TIMESTAMP) + t) AS ts, kind, seq, ex, cond, price, size, bid, bidsize, ask, asksize FROM (
      SELECT symbol, t, 'nbbo' AS kind, seq, NULL::VARCHAR AS ex, NULL::VARCHAR AS cond, NULL::DOUBLE AS price, NULL::BIGINT AS size, bid, bidsize::BIGINT AS bidsize, ask, asksize::BIGINT AS asksize FROM tq_nbbo
      UNION ALL
      SELECT symbol, t, 'trade', seq, ex, cond, price, size::BIGINT, bid, NULL, ask, NULL FROM tq_matched)
    ORDER BY symbol, ts, kind, seq NULLS FIRST`,
};

export const TAQ_DATASETS: readonly TaqDataset[] = [minuteBars, dailyRv, spreads, ticks];
