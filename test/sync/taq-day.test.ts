/**
 * A hand-worked TAQ day: a few trades and quotes of AAA (and BBB, listed but silent), loaded into
 * the raw tables of a real DuckDB, cleaned and aggregated; every figure is worked out by hand below
 * from the rows, not by calling the code under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../src/engine/index.js';
import { cleanDay, cleanDaySql, createRawTableSql, dailyRv, minuteBars, sessionWindow, spreads, ticks } from '../../src/sync/taq/index.js';
import { sessionClose } from '../../src/calendar/index.js';

const DAY = '2024-03-15';
let duck: Duck;

const q = (s: string | null): string => (s === null ? 'NULL' : `'${s}'`);
/** time_m, time_m_nano, ex, sym_root, sym_suffix, tr_scond, size, price, tr_corr, tr_seqnum */
const trade = (time: string, price: number, size: number, seq: number, cond = '@', corr = '00', sym = 'AAA') =>
  `(TIME '${time}', 0, 'N', '${sym}', NULL, ${q(cond)}, ${size}, ${price}, '${corr}', ${seq})`;
/** time_m, time_m_nano, ex, sym_root, sym_suffix, bid, bidsiz, ask, asksiz, qu_cond, qu_seqnum, natbbo_ind, qu_cancel, qu_source */
const quote = (time: string, bid: number, bidsiz: number, ask: number, asksiz: number, seq: number, natbbo: string, cond = 'R', cancel: string | null = null) =>
  `(TIME '${time}', 0, 'N', 'AAA', NULL, ${bid}, ${bidsiz}, ${ask}, ${asksiz}, '${cond}', ${seq}, '${natbbo}', ${q(cancel)}, 'C')`;
/** time_m, time_m_nano, sym_root, sym_suffix, qu_cond, qu_seqnum, best_bid, best_bidsizeshares, best_ask, best_asksizeshares */
const nbbo = (time: string, bid: number, ask: number) => `(TIME '${time}', 0, 'AAA', NULL, 'R', NULL, ${bid}, 100, ${ask}, 100)`;

beforeAll(async () => {
  duck = await openDuck({ threads: 1 });
  for (const k of ['ctm', 'cqm', 'nbbo', 'master'] as const) await duck.run(createRawTableSql(k));
  await duck.run(`INSERT INTO raw_master VALUES ('AAA', NULL), ('BBB', NULL)`);
  await duck.run(`INSERT INTO raw_ctm VALUES ${[
    trade('09:30:00', 10.05, 100, 1), // T1
    trade('09:45:00', 10.0, 200, 2), // T2: same timestamp as q2, so it meets q1
    trade('09:47:00', 10.07, 100, 3), // T3
    trade('09:47:30', 10.06, 100, 4), // T4
    trade('10:05:00', 10.04, 300, 5), // T5: locked NBBO
    trade('10:20:00', 10.18, 100, 6), // T6
    trade('10:30:00', 10.16, 100, 7), // T7
    trade('09:29:59', 10.5, 100, 8), // before the open
    trade('16:30:00', 10.5, 100, 9, 'T'), // after hours
    trade('11:00:00', 10.5, 100, 10, '@', '01'), // corrected
    trade('11:00:01', 10.5, 100, 11, 'Z'), // odd sale condition
    trade('11:00:02', 0, 100, 12), // zero price
  ].join(', ')}`);
  await duck.run(`INSERT INTO raw_cqm VALUES ${[
    quote('09:00:00', 10.0, 5, 10.1, 3, 1, '1'), // q1 carries the NBBO (C/1) before the open
    quote('09:40:00', 0, 0, 10.09, 4, 2, '0'), // withdrawn bid: kept, bid NULL
    quote('09:41:00', 10.03, 1, 10.07, 1, 3, '0', 'Y'), // odd condition: dropped
    quote('09:45:00', 10.02, 2, 10.08, 2, 4, '1'), // q2 carries the NBBO; wins the tie with the file row
    quote('09:50:00', 10.5, 1, 10.4, 1, 5, '1'), // crossed single-venue quote: dropped
    quote('09:55:00', 9.0, 1, 9.5, 1, 6, '1', 'R', 'B'), // cancelled: dropped
  ].join(', ')}`);
  await duck.run(`INSERT INTO raw_nbbo VALUES ${[
    nbbo('09:45:00', 10.01, 10.09), // tie with q2: q2 has a sequence number, this row none
    nbbo('09:51:00', 10.06, 10.1), // q7
    nbbo('10:00:00', 10.04, 10.04), // q5 locked
    nbbo('10:10:00', 10.0, 10.2), // q6
    nbbo('10:33:00', 10.1, 10.2), // q8
  ].join(', ')}`);
  await cleanDay(duck, sessionWindow(sessionClose(DAY)));
});
afterAll(() => duck?.close());

const rows = async (sql: string) => (await duck.all(sql)).rows as Record<string, any>[];

describe('cleaning a hand-made day', () => {
  it('keeps the seven regular trades and drops every trap', async () => {
    expect((await rows(`SELECT seq FROM tq_trades ORDER BY seq`)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
  it('keeps normal quotes with withdrawn sides NULL; drops odd, crossed and cancelled ones', async () => {
    const qs = await rows(`SELECT seq, bid, bidsiz, ask FROM tq_quotes ORDER BY seq`);
    expect(qs.map((r) => r.seq)).toEqual([1, 2, 4]);
    expect(qs[1]).toEqual({ seq: 2, bid: null, bidsiz: null, ask: 10.09 });
  });
  it('builds the complete NBBO: carrying quotes × 100 shares, ties to the highest sequence number', async () => {
    const n = await rows(`SELECT t // 1000000000 AS s, bid, bidsize, ask, asksize, usable FROM tq_nbbo WHERE symbol = 'AAA' ORDER BY t`);
    expect(n).toEqual([
      { s: 9 * 3600, bid: 10.0, bidsize: 500, ask: 10.1, asksize: 300, usable: true },
      { s: 9 * 3600 + 45 * 60, bid: 10.02, bidsize: 200, ask: 10.08, asksize: 200, usable: true },
      { s: 9 * 3600 + 51 * 60, bid: 10.06, bidsize: 100, ask: 10.1, asksize: 100, usable: true },
      { s: 10 * 3600, bid: 10.04, bidsize: 100, ask: 10.04, asksize: 100, usable: false },
      { s: 10 * 3600 + 10 * 60, bid: 10.0, bidsize: 100, ask: 10.2, asksize: 100, usable: true },
      { s: 10 * 3600 + 33 * 60, bid: 10.1, bidsize: 100, ask: 10.2, asksize: 100, usable: true },
    ]);
  });
  it('matches each trade to the NBBO 1 ns before it and signs it by tick, Lee–Ready, EMO and CLNV', async () => {
    const m = await rows(`SELECT seq, bid, ask, mid5, tick_test, d_lr, d_emo, d_clnv FROM tq_matched ORDER BY seq`);
    expect(m.map((r) => [r.seq, r.bid, r.ask])).toEqual([
      [1, 10.0, 10.1],
      [2, 10.0, 10.1], // not q2, stamped at the same nanosecond
      [3, 10.02, 10.08],
      [4, 10.02, 10.08],
      [5, null, null], // locked
      [6, 10.0, 10.2],
      [7, 10.0, 10.2],
    ]);
    //                                        tick  LR    EMO   CLNV
    expect(m.map((r) => [r.tick_test, r.d_lr, r.d_emo, r.d_clnv])).toEqual([
      [null, null, null, null], // T1 at the midpoint, no earlier price
      [-1, -1, -1, -1], // T2 at the bid
      [1, 1, 1, 1], // T3 10.07: above mid, in the top 30 % [10.062, 10.08], not at the ask → EMO by uptick
      [-1, 1, -1, -1], // T4 10.06: above mid 10.05; middle 40 %; downtick
      [-1, null, null, null], // T5 locked
      [1, 1, 1, 1], // T6 10.18: top 30 % [10.14, 10.20]
      [-1, 1, -1, 1], // T7 10.16: above mid 10.10, top 30 %, not at the ask, downtick
    ]);
    const mid5 = [10.05, 10.05, 10.08, 10.08, 10.1, 10.1, 10.15];
    m.forEach((r, i) => expect(r.mid5).toBeCloseTo(mid5[i]!, 12));
  });
});

describe('the day\'s aggregates, by hand', () => {
  it('minute bars: 390 rows per symbol, empty minutes NULL with zero volume, NBBO at the minute end', async () => {
    const b = await rows(`${minuteBars.select(DAY, sessionWindow('16:00'))}`);
    expect(b).toHaveLength(2 * 390);
    const at = (sym: string, hm: string) => b.find((r) => r.symbol === sym && String(r.minute).endsWith(`${hm}:00`))!;
    expect(at('AAA', '09:30')).toMatchObject({ open: 10.05, high: 10.05, low: 10.05, close: 10.05, volume: 100, vwap: 10.05, trades: 1, bid: 10.0, ask: 10.1 });
    expect(at('AAA', '09:31')).toMatchObject({ open: null, high: null, low: null, close: null, volume: 0, vwap: null, trades: 0, bid: 10.0, ask: 10.1 });
    const m947 = at('AAA', '09:47');
    expect(m947).toMatchObject({ open: 10.07, high: 10.07, low: 10.06, close: 10.06, volume: 200, trades: 2, bid: 10.02, ask: 10.08 });
    expect(m947.vwap).toBeCloseTo((10.07 * 100 + 10.06 * 100) / 200, 12);
    expect(at('AAA', '10:00')).toMatchObject({ volume: 0, bid: 10.04, ask: 10.04 }); // locked NBBO shown as it stood
    expect(at('AAA', '15:59')).toMatchObject({ volume: 0, bid: 10.1, ask: 10.2 });
    expect(at('BBB', '12:00')).toMatchObject({ open: null, volume: 0, trades: 0, bid: null, ask: null });
    expect(b.filter((r) => r.symbol === 'AAA').reduce((s, r) => s + Number(r.volume), 0)).toBe(1000);
    expect(String(b[0]!.minute)).toBe(`${DAY} 09:30:00`);
  });

  it('realized variance from 5- and 30-minute previous-tick sampling', async () => {
    const [aaa, bbb] = await rows(dailyRv.select(DAY, sessionWindow('16:00')));
    // 5 min: price changes only at 09:50 (10.05→10.06), 10:10 (→10.04), 10:25 (→10.18), 10:35 (→10.16)
    const rv5 = Math.log(10.06 / 10.05) ** 2 + Math.log(10.04 / 10.06) ** 2 + Math.log(10.18 / 10.04) ** 2 + Math.log(10.16 / 10.18) ** 2;
    // 30 min: 09:30 10.05 (backfilled), 10:00 10.06, 10:30 10.18 (T7 at 10:30:00 is not before it), 11:00 10.16
    const rv30 = Math.log(10.06 / 10.05) ** 2 + Math.log(10.18 / 10.06) ** 2 + Math.log(10.16 / 10.18) ** 2;
    expect(aaa).toMatchObject({ symbol: 'AAA', obs_5m: 78, obs_30m: 13, trades: 7 });
    expect(aaa!.rv_5m).toBeCloseTo(rv5, 15);
    expect(aaa!.rv_30m).toBeCloseTo(rv30, 15);
    expect(bbb).toMatchObject({ symbol: 'BBB', rv_5m: null, obs_5m: 0, rv_30m: null, obs_30m: 0, trades: 0 });
  });

  it('spreads: time-weighted quoted, effective, realized and price impact under each signing', async () => {
    const [s, bbb] = await rows(spreads.select(DAY, sessionWindow('16:00')));
    // Usable NBBO intervals from 09:30 (minutes, spread, mid): q1 15 .10 10.05; q2 6 .06 10.05;
    // q7 9 .04 10.08; (q5 locked 10 min left out); q6 23 .20 10.10; q8 327 .10 10.15 → 380 min.
    expect(s!.quoted_tw).toBeCloseTo((15 * 0.1 + 6 * 0.06 + 9 * 0.04 + 23 * 0.2 + 327 * 0.1) / 380, 12);
    expect(s!.quoted_pct_tw).toBeCloseTo((15 * 0.1 / 10.05 + 6 * 0.06 / 10.05 + 9 * 0.04 / 10.08 + 23 * 0.2 / 10.1 + 327 * 0.1 / 10.15) / 380, 12);
    // Trades with a usable NBBO: T1 T2 T3 T4 T6 T7 (p − m: 0, −.05, .02, .01, .08, .06).
    expect(s!.effective).toBeCloseTo((0 + 0.1 + 0.04 + 0.02 + 0.16 + 0.12) / 6, 12);
    expect(s!.effective_pct).toBeCloseTo((0 + 0.1 / 10.05 + 0.04 / 10.05 + 0.02 / 10.05 + 0.16 / 10.1 + 0.12 / 10.1) / 6, 12);
    // Signed: T1 is unsigned under all three; T4 is +1 under LR, −1 under EMO and CLNV; T7 is −1 under EMO only.
    expect(s!.effective_pct_lr).toBeCloseTo((0.1 / 10.05 + 0.04 / 10.05 + 0.02 / 10.05 + 0.16 / 10.1 + 0.12 / 10.1) / 5, 12);
    expect(s!.effective_pct_emo).toBeCloseTo((0.1 / 10.05 + 0.04 / 10.05 - 0.02 / 10.05 + 0.16 / 10.1 - 0.12 / 10.1) / 5, 12);
    expect(s!.effective_pct_clnv).toBeCloseTo((0.1 / 10.05 + 0.04 / 10.05 - 0.02 / 10.05 + 0.16 / 10.1 + 0.12 / 10.1) / 5, 12);
    // Midpoints 5 minutes later: T2 10.05 (09:50), T3 10.08 (09:52), T4 10.08 (09:52:30), T6 10.10 (10:25), T7 10.15 (10:35).
    // realized = 2·d·(p − m5)/m; impact = 2·d·(m5 − m)/m.
    const r = (d: number, p: number, m5: number, m: number) => (2 * d * (p - m5)) / m;
    const pi = (d: number, m5: number, m: number) => (2 * d * (m5 - m)) / m;
    const signs = { lr: [-1, 1, 1, 1, 1], emo: [-1, 1, -1, 1, -1], clnv: [-1, 1, -1, 1, 1] };
    const p = [10.0, 10.07, 10.06, 10.18, 10.16];
    const m = [10.05, 10.05, 10.05, 10.1, 10.1];
    const m5 = [10.05, 10.08, 10.08, 10.1, 10.15];
    for (const [name, d] of Object.entries(signs)) {
      expect(s![`realized_pct_${name}`]).toBeCloseTo(d.reduce((a, di, i) => a + r(di, p[i]!, m5[i]!, m[i]!), 0) / 5, 12);
      expect(s![`impact_pct_${name}`]).toBeCloseTo(d.reduce((a, di, i) => a + pi(di, m5[i]!, m[i]!), 0) / 5, 12);
    }
    expect(s).toMatchObject({ symbol: 'AAA', trades: 7, spread_trades: 6, quotes: 2, nbbo_changes: 5 });
    expect(bbb).toMatchObject({ symbol: 'BBB', quoted_tw: null, effective: null, trades: 0, quotes: 0, spread_trades: 0 });
  });

  it('ticks: the cleaned trades with their matched NBBO and the complete NBBO, in time order', async () => {
    const t = await rows(ticks.select(DAY, sessionWindow('16:00')));
    expect(t.filter((r) => r.kind === 'trade')).toHaveLength(7);
    expect(t.filter((r) => r.kind === 'nbbo')).toHaveLength(6);
    expect(t[0]).toMatchObject({ symbol: 'AAA', kind: 'nbbo', bid: 10.0, bidsize: 500 });
    expect(String(t[0]!.ts)).toBe(`${DAY} 09:00:00`);
    const t2 = t.find((r) => r.kind === 'trade' && r.seq === 2)!;
    expect(t2).toMatchObject({ price: 10.0, size: 200, bid: 10.0, ask: 10.1 });
  });
});

describe('an early close', () => {
  it('ends the bars and the sampling grid at 13:00', async () => {
    const day = '2024-11-29';
    expect(sessionClose(day)).toBe('13:00');
    const w = sessionWindow(sessionClose(day));
    const d = await openDuck({ threads: 1 });
    try {
      for (const k of ['ctm', 'cqm', 'nbbo', 'master'] as const) await d.run(createRawTableSql(k));
      await d.run(`INSERT INTO raw_master VALUES ('AAA', NULL)`);
      await d.run(`INSERT INTO raw_ctm VALUES ${[trade('09:30:00', 10, 100, 1), trade('12:59:59', 11, 100, 2), trade('13:30:00', 12, 100, 3)].join(', ')}`);
      await cleanDay(d, w);
      const bars = (await d.all(minuteBars.select(day, w))).rows;
      expect(bars).toHaveLength(210);
      expect(String(bars.at(-1)!.minute)).toBe(`${day} 12:59:00`);
      expect(bars.at(-1)).toMatchObject({ close: 11, volume: 100 });
      const [rv] = (await d.all(dailyRv.select(day, w))).rows;
      expect(rv).toMatchObject({ obs_5m: 42, obs_30m: 7, trades: 2 });
      expect(rv!.rv_5m as number).toBeCloseTo(Math.log(11 / 10) ** 2, 15);
    } finally {
      d.close();
    }
  });
});

describe('the hashed symbol ids', () => {
  it('two symbols under one id fail the batch with both names (the check, run on forged rows)', async () => {
    const d = await openDuck({ threads: 1 });
    try {
      const sql = cleanDaySql(sessionWindow('16:00'));
      const check = async () => {
        for (const t of ['tq_sids', 'tq_sid_check']) await d.run(sql.find((s) => s.includes(`TABLE ${t} AS`))!);
      };
      await d.run(`CREATE TABLE tq_trades AS SELECT * FROM (VALUES ('AAA', 7::UBIGINT), ('AAA', 7::UBIGINT), ('BBB', 8::UBIGINT)) v(symbol, sid)`);
      await d.run(`CREATE TABLE tq_nbbo AS SELECT * FROM (VALUES ('AAA', 7::UBIGINT), ('CCC', 9::UBIGINT)) v(symbol, sid)`);
      await check();
      expect((await d.all(`SELECT symbol FROM tq_sids ORDER BY symbol`)).rows.map((r) => r.symbol)).toEqual(['AAA', 'BBB', 'CCC']);
      await d.run(`INSERT INTO tq_nbbo VALUES ('ZZZ', 7::UBIGINT)`);
      await expect(check()).rejects.toThrow(/share a hashed id \((AAA, ZZZ|ZZZ, AAA)/);
    } finally {
      d.close();
    }
  });
});
