/**
 * One TAQ day cleaned inside DuckDB: from the raw tables `raw_ctm`, `raw_cqm`, `raw_nbbo` and
 * `raw_master` (WRDS's columns, as pulled) to
 * - `tq_symbols`: the master's symbols (every symbol gets bars, even without trades);
 * - `tq_trades`: trades passing the trade filter;
 * - `tq_quotes` (a view): quotes passing the quote filter, withdrawn sides NULL (the sync pulls only those
 *   carrying the NBBO; `tq_quote_counts` has every symbol's count of clean quotes);
 * - `tq_nbbo`: the official complete NBBO (one row per symbol and timestamp), with `usable` and
 *   `next_t`, the time of the symbol's next NBBO row (NULL for the last);
 * - `tq_minute`: per symbol and minute with trades, OHLC, volume, VWAP and count (bars and RV read it);
 * - `tq_matched`: each trade with the NBBO in force 1 ns before it and 5 minutes later (one ASOF
 *   join for both lookups, so the NBBO is sorted once), and its tick-test, Lee–Ready, EMO and CLNV
 *   signs.
 * Trades, quotes and the NBBO carry `sid`, a 64-bit hash of the symbol given as each row is parsed:
 * windows and ASOF joins partition by it (an integer sorts much faster than the VARCHAR symbol,
 * bench/taq.ts), with no join to a table of ids. `tq_sids` lists them; `tq_sid_check` fails the batch if two of its
 * symbols ever shared a hash (about 10^-14 for 500 symbols).
 * Without taq_ticks, `tq_matched` is a view (CleanOptions): its one reader computes it, nothing stores it;
 * and the tables leave out the columns only the ticks read.
 * Times `t` are BIGINT nanoseconds after midnight, New York time. Every predicate is a rule of
 * rules.ts / signing.ts.
 */
import type { Duck } from '../../engine/index.js';
import {
  carriesNbboSql,
  keepTradeSql,
  NS_PER_MINUTE,
  quoteCountSql,
  matchingNbboTimeSql,
  normalQuoteSql,
  quoteWindowSql,
  ROUND_LOT,
  saneTwoSidedQuoteSql,
  sideSql,
  usableNbboSql,
  type SessionWindow,
} from './rules.js';
import { clnvSql, emoSql, leeReadySql, tickSql, tickTestSql } from './signing.js';
import { exactSum } from './aggregates.js';

/** The minutes after a trade at which realized spread and price impact read the midpoint. */
export const REALIZED_HORIZON_NS = 5 * 60 * 1_000_000_000;

/** The columns pulled from each source table (`time_m_nano` only where the source has it). */
export const RAW_COLUMNS = {
  ctm: ['time_m', 'time_m_nano', 'ex', 'sym_root', 'sym_suffix', 'tr_scond', 'size', 'price', 'tr_corr', 'tr_seqnum'],
  cqm: ['time_m', 'time_m_nano', 'ex', 'sym_root', 'sym_suffix', 'bid', 'bidsiz', 'ask', 'asksiz', 'qu_cond', 'qu_seqnum', 'natbbo_ind', 'qu_cancel', 'qu_source'],
  nbbo: ['time_m', 'time_m_nano', 'sym_root', 'sym_suffix', 'qu_cond', 'qu_seqnum', 'best_bid', 'best_bidsizeshares', 'best_ask', 'best_asksizeshares'],
  master: ['sym_root', 'sym_suffix'],
  /** Not a source table: the quote counts the source computes (quoteCountSql). */
  qcount: ['sym_root', 'sym_suffix', 'quotes'],
} as const;

/** DuckDB types of the raw columns. */
export const RAW_TYPES: Record<string, string> = {
  time_m: 'TIME', time_m_nano: 'SMALLINT', ex: 'VARCHAR', sym_root: 'VARCHAR', sym_suffix: 'VARCHAR', tr_scond: 'VARCHAR', size: 'BIGINT', price: 'DOUBLE',
  tr_corr: 'VARCHAR', tr_seqnum: 'BIGINT', bid: 'DOUBLE', bidsiz: 'BIGINT', ask: 'DOUBLE', asksiz: 'BIGINT', qu_cond: 'VARCHAR', qu_seqnum: 'BIGINT',
  quotes: 'BIGINT', natbbo_ind: 'VARCHAR', qu_cancel: 'VARCHAR', qu_source: 'VARCHAR', best_bid: 'DOUBLE', best_bidsizeshares: 'BIGINT', best_ask: 'DOUBLE', best_asksizeshares: 'BIGINT',
};

/** `CREATE TABLE raw_<kind>` with every raw column (so a test can insert hand-made rows). */
export function createRawTableSql(kind: keyof typeof RAW_COLUMNS): string {
  return `CREATE OR REPLACE TABLE raw_${kind} (${RAW_COLUMNS[kind].map((c) => `${c} ${RAW_TYPES[c]}`).join(', ')})`;
}

/** 'ROOT' or 'ROOT.SUFFIX' (no string built in the common no-suffix case). */
export const SYMBOL_SQL = `CASE WHEN sym_suffix IS NULL OR trim(sym_suffix) = '' THEN sym_root ELSE sym_root || '.' || trim(sym_suffix) END`;
const SYMBOL = SYMBOL_SQL;
const T = `(epoch_us(time_m) * 1000 + coalesce(time_m_nano, 0))::BIGINT`;
/** The symbol's id within the batch (see the module comment). */
const SID = `hash(${SYMBOL})`;

export interface CleanOptions {
  /**
   * Whether the batch writes taq_ticks (default true). Without it, `tq_matched` is a view computed
   * by its one reader (taq_spreads) instead of stored, and the cleaned tables leave out what only
   * the ticks read (exchange, condition, the NBBO's sequence number and sizes): about 5 % less CPU
   * for the day's aggregates (bench/taq.ts's day, alternated runs).
   */
  readonly ticks?: boolean;
}

/** The statements that clean a day loaded into the raw tables. */
export function cleanDaySql(w: SessionWindow, o: CleanOptions = {}): string[] {
  // Without ticks, the cleaned tables keep only what the aggregates read.
  const narrow = o.ticks === false;
  return [
    `CREATE OR REPLACE TABLE tq_symbols AS SELECT DISTINCT ${SYMBOL} AS symbol FROM raw_master`,
    // Pulled from the source by the sync; computed here when the raw quotes are all present (tests, benchmarks).
    `CREATE TABLE IF NOT EXISTS raw_qcount AS ${quoteCountSql('raw_cqm', w)}`,
    `CREATE OR REPLACE TABLE tq_quote_counts AS SELECT ${SYMBOL} AS symbol, sum(quotes)::BIGINT AS quotes FROM raw_qcount GROUP BY ALL`,
    `CREATE OR REPLACE TABLE tq_trades AS
       SELECT symbol, sid, t, tr_seqnum AS seq, ${narrow ? '' : `ex, coalesce(trim(tr_scond), '') AS cond, `}size, price
       FROM (SELECT ${SYMBOL} AS symbol, ${SID} AS sid, ${T} AS t, * FROM raw_ctm)
       WHERE ${keepTradeSql(w)}`,
    // A view: read once (by tq_nbbo), so not materialized (bench/taq.ts).
    `CREATE OR REPLACE VIEW tq_quotes AS
       SELECT symbol, sid, t, seq, ex, bid, bidsiz, ask, asksiz, qu_source, natbbo_ind FROM (
         SELECT ${SYMBOL} AS symbol, ${SID} AS sid, ${T} AS t, qu_seqnum AS seq, ex,
                ${sideSql('bid', 'bidsiz', 'bid')} AS bid, ${sideSql('bid', 'bidsiz', 'bidsiz')} AS bidsiz,
                ${sideSql('ask', 'asksiz', 'ask')} AS ask, ${sideSql('ask', 'asksiz', 'asksiz')} AS asksiz,
                qu_cond, qu_cancel, qu_source, natbbo_ind
         FROM raw_cqm)
       WHERE ${quoteWindowSql('t', w)} AND ${normalQuoteSql('qu_cond', 'qu_cancel')} AND ${saneTwoSidedQuoteSql('bid', 'ask')}`,
    // One window pass both keeps the last row of each timestamp (the highest sequence number; a row
    // without one loses the tie) and gives each kept row the time of the next, where it ends.
    `CREATE OR REPLACE TABLE tq_nbbo AS
       SELECT symbol, sid, t, bid, ask, ${narrow ? '' : 'seq, bidsize, asksize, '}${usableNbboSql('bid', 'ask')} AS usable, (bid + ask) / 2 AS mid, next_t FROM (
         SELECT *, lead(t) OVER (PARTITION BY sid ORDER BY t, seq NULLS FIRST) AS next_t FROM (
           SELECT ${SYMBOL} AS symbol, ${SID} AS sid, ${T} AS t, qu_seqnum AS seq,
                  ${sideSql('best_bid', 'best_bidsizeshares', 'best_bid')} AS bid, ${sideSql('best_bid', 'best_bidsizeshares', 'best_bidsizeshares')} AS bidsize,
                  ${sideSql('best_ask', 'best_asksizeshares', 'best_ask')} AS ask, ${sideSql('best_ask', 'best_asksizeshares', 'best_asksizeshares')} AS asksize
           FROM raw_nbbo WHERE ${quoteWindowSql(T, w)} AND ${normalQuoteSql('qu_cond', "''")}
           UNION ALL
           SELECT symbol, sid, t, seq, bid, bidsiz * ${ROUND_LOT}, ask, asksiz * ${ROUND_LOT} FROM tq_quotes WHERE ${carriesNbboSql('qu_source', 'natbbo_ind')}))
       WHERE next_t IS NULL OR next_t > t`,
    `CREATE OR REPLACE TABLE tq_minute AS
       SELECT symbol, (t // ${NS_PER_MINUTE}) * ${NS_PER_MINUTE} AS m, (t // ${NS_PER_MINUTE}) * ${NS_PER_MINUTE} + ${NS_PER_MINUTE} AS m_end,
              first(price ORDER BY t, seq) AS open, max(price) AS high, min(price) AS low, last(price ORDER BY t, seq) AS close,
              sum(size)::BIGINT AS volume, ${exactSum('price * size', 12)} / sum(size) AS vwap, count(*)::BIGINT AS trades
       FROM tq_trades GROUP BY ALL`,
    // Every symbol traded or quoted, with its id: the orphans (day-batches.ts) read it, and the check
    // below (never failing in practice: two symbols sharing a hash would be one partition).
    `CREATE OR REPLACE TABLE tq_sids AS SELECT DISTINCT sid, symbol FROM (SELECT sid, symbol FROM tq_trades UNION ALL SELECT sid, symbol FROM tq_nbbo)`,
    `CREATE OR REPLACE TABLE tq_sid_check AS
       SELECT CASE WHEN count(*) > 0 THEN error('two symbols of the batch share a hashed id (' || string_agg(symbol, ', ') || ', odds about 1 in 10^14): sync them in separate runs of wh taq sync --symbols') END AS clash
       FROM (SELECT sid, symbol FROM tq_sids QUALIFY count(*) OVER (PARTITION BY sid) > 1)`,
    `CREATE OR REPLACE ${narrow ? 'VIEW' : 'TABLE'} tq_matched AS
       WITH ticked AS (
         SELECT *, ${tickTestSql('tick', 'PARTITION BY sid ORDER BY t, seq')} AS tick_test FROM (
           SELECT *, ${tickSql('price - lag(price) OVER (PARTITION BY sid ORDER BY t, seq)')} AS tick FROM (
             SELECT rowid AS rid, * FROM tq_trades))),
       -- Both lookups of every trade in one ASOF join (the NBBO in force at time "at"): its match and 5 minutes later.
       probes AS (
         SELECT sid, rowid AS rid, false AS later, ${matchingNbboTimeSql('t')} AS at FROM tq_trades
         UNION ALL
         SELECT sid, rowid, true, least(t + ${REALIZED_HORIZON_NS}, ${w.closeNs}) FROM tq_trades),
       hits AS (
         SELECT p.rid, p.later, CASE WHEN n.usable THEN n.bid END AS bid, CASE WHEN n.usable THEN n.ask END AS ask, CASE WHEN n.usable THEN n.mid END AS mid
         FROM probes p ASOF LEFT JOIN tq_nbbo n ON p.sid = n.sid AND n.t <= p.at),
       m AS (
         SELECT tr.*, h.bid, h.ask, h.mid, h5.mid AS mid5
         FROM ticked tr JOIN hits h ON h.rid = tr.rid AND NOT h.later JOIN hits h5 ON h5.rid = tr.rid AND h5.later)
       SELECT symbol, t, seq, ${narrow ? '' : 'ex, cond, '}size, price, bid, ask, mid, mid5, tick_test,
              ${leeReadySql('price', 'bid', 'ask', 'tick_test')} AS d_lr,
              ${emoSql('price', 'bid', 'ask', 'tick_test')} AS d_emo,
              ${clnvSql('price', 'bid', 'ask', 'tick_test')} AS d_clnv
       FROM m`,
  ];
}

/** Clean the day already loaded into the raw tables. */
export async function cleanDay(duck: Duck, w: SessionWindow, o: CleanOptions = {}): Promise<void> {
  for (const sql of cleanDaySql(w, o)) await duck.run(sql);
}
