/**
 * Each TAQ cleaning and signing rule: its documented cases, and its pure function agreeing with
 * the DuckDB SQL fragment the aggregation runs, on generated rows.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../src/engine/index.js';
import {
  carriesNbbo,
  carriesNbboSql,
  clnv,
  clnvSql,
  completeNbbo,
  emo,
  emoSql,
  isNormalQuote,
  isRegularSaleCondition,
  isSaneTwoSidedQuote,
  isUsableNbbo,
  keepTrade,
  keepTradeSql,
  leeReady,
  leeReadySql,
  matchingNbbo,
  normalQuoteSql,
  regularSaleConditionSql,
  saneTwoSidedQuoteSql,
  sessionWindow,
  tickTest,
  usableNbboSql,
  withdrawnSidesNull,
  type RawTrade,
} from '../../src/sync/taq/index.js';

let duck: Duck;
beforeAll(async () => {
  duck = await openDuck({ threads: 1 });
});
afterAll(() => duck?.close());

const lit = (v: unknown): string => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));
/** Evaluates `expr` over one row given as column → value. */
async function sqlValue(expr: string, row: Record<string, unknown>): Promise<unknown> {
  const cols = Object.entries(row).map(([k, v]) => `${lit(v)}${typeof v === 'number' ? '::DOUBLE' : ''} AS ${k}`);
  const r = await duck.all(`SELECT (${expr}) AS v FROM (SELECT ${cols.join(', ')})`);
  return r.rows[0]!.v;
}

const W = sessionWindow('16:00');
const HOUR = 3600e9;

describe('trade filter', () => {
  it('keeps regular, uncorrected, positive trades in 09:30 ≤ t < close', () => {
    const base: RawTrade = { t: 10 * HOUR, cond: '@', size: 100, price: 10, corr: '00' };
    expect(keepTrade(base, W)).toBe(true);
    expect(keepTrade({ ...base, t: 9.5 * HOUR }, W)).toBe(true);
    expect(keepTrade({ ...base, t: 9.5 * HOUR - 1 }, W)).toBe(false);
    expect(keepTrade({ ...base, t: 16 * HOUR }, W)).toBe(false);
    expect(keepTrade({ ...base, t: 13 * HOUR }, sessionWindow('13:00'))).toBe(false);
    expect(keepTrade({ ...base, corr: '01' }, W)).toBe(false);
    expect(keepTrade({ ...base, cond: 'T' }, W)).toBe(false);
    expect(keepTrade({ ...base, cond: null }, W)).toBe(true);
    expect(keepTrade({ ...base, cond: ' @F ' }, W)).toBe(true);
    expect(keepTrade({ ...base, price: 0 }, W)).toBe(false);
    expect(keepTrade({ ...base, size: 0 }, W)).toBe(false);
  });
  it('agrees with its SQL on generated trades', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          t: fc.integer({ min: 9 * 3600, max: 17 * 3600 }).map((s) => s * 1e9),
          cond: fc.constantFrom('', '@', 'F', '@FI', 'T', 'Z', ' I', null),
          size: fc.integer({ min: -1, max: 500 }),
          price: fc.constantFrom(-1, 0, 0.5, 10.25),
          corr: fc.constantFrom('00', '01', '12'),
        }),
        async (tr) => {
          const sql = await sqlValue(keepTradeSql(W), { t: tr.t, tr_scond: tr.cond, size: tr.size, price: tr.price, tr_corr: tr.corr });
          expect(sql).toBe(keepTrade(tr, W));
          expect(await sqlValue(regularSaleConditionSql('c'), { c: tr.cond })).toBe(isRegularSaleCondition(tr.cond));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('quote filter', () => {
  it('withdraws a side with price or size ≤ 0 and keeps the row', () => {
    const q = { t: 0, bid: 0, bidsiz: 3, ask: 10.1, asksiz: 0, cond: 'R', cancel: null };
    expect(withdrawnSidesNull(q)).toEqual({ ...q, bid: null, bidsiz: null, ask: null, asksiz: null });
    expect(withdrawnSidesNull({ ...q, bid: 10, asksiz: 2 })).toEqual({ ...q, bid: 10, bidsiz: 3, asksiz: 2 });
  });
  it('drops odd conditions, cancels, crossed quotes and spreads over $5; keeps locked and one-sided ones', () => {
    expect(isNormalQuote('R', null)).toBe(true);
    expect(isNormalQuote('Y', null)).toBe(false);
    expect(isNormalQuote('R', 'B')).toBe(false);
    expect(isSaneTwoSidedQuote(10, 10)).toBe(true);
    expect(isSaneTwoSidedQuote(10.01, 10)).toBe(false);
    expect(isSaneTwoSidedQuote(10, 15)).toBe(true);
    expect(isSaneTwoSidedQuote(10, 15.01)).toBe(false);
    expect(isSaneTwoSidedQuote(null, 15.01)).toBe(true);
  });
  it('agrees with its SQL on generated quotes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ bid: fc.option(fc.constantFrom(9.99, 10, 10.01, 4)), ask: fc.option(fc.constantFrom(10, 10.02, 15.5)), cond: fc.constantFrom('R', 'A', 'Y', 'O'), cancel: fc.option(fc.constantFrom('B', 'A')) }),
        async (q) => {
          expect(await sqlValue(saneTwoSidedQuoteSql('bid', 'ask'), { bid: q.bid, ask: q.ask })).toBe(isSaneTwoSidedQuote(q.bid, q.ask));
          expect(await sqlValue(normalQuoteSql('c', 'x'), { c: q.cond, x: q.cancel })).toBe(isNormalQuote(q.cond, q.cancel));
          expect(await sqlValue(usableNbboSql('bid', 'ask'), { bid: q.bid, ask: q.ask })).toBe(isUsableNbbo(q.bid, q.ask));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the complete NBBO and the match', () => {
  it('carrying quotes are CQS natbbo 1 and UTP natbbo 4 only', async () => {
    for (const [src, ind, want] of [['C', '1', true], ['N', '4', true], ['C', '4', false], ['N', '1', false], ['C', '2', false]] as const) {
      expect(carriesNbbo(src, ind)).toBe(want);
      expect(await sqlValue(carriesNbboSql('s', 'n'), { s: src, n: ind })).toBe(want);
    }
  });
  it('merges the file with carrying quotes (lots × 100); a timestamp tie keeps the highest sequence number', () => {
    const file = [{ t: 5, seq: null, bid: 1, bidsize: 100, ask: 2, asksize: 100 }, { t: 9, seq: null, bid: 1.5, bidsize: 100, ask: 2, asksize: 100 }];
    const carrying = [{ t: 5, seq: 7, bid: 1.1, bidsize: 3, ask: 1.9, asksize: 4 }, { t: 8, seq: 9, bid: 1.2, bidsize: 1, ask: 1.8, asksize: 1 }, { t: 8, seq: 10, bid: 1.3, bidsize: 1, ask: 1.8, asksize: 2 }];
    expect(completeNbbo(file, carrying)).toEqual([
      { t: 5, seq: 7, bid: 1.1, bidsize: 300, ask: 1.9, asksize: 400 },
      { t: 8, seq: 10, bid: 1.3, bidsize: 100, ask: 1.8, asksize: 200 },
      { t: 9, seq: null, bid: 1.5, bidsize: 100, ask: 2, asksize: 100 },
    ]);
  });
  it('a trade meets the NBBO in force 1 ns before it, not one stamped with it', () => {
    const n = [{ t: 10 }, { t: 20 }, { t: 30 }];
    expect(matchingNbbo(n, 20)).toEqual({ t: 10 });
    expect(matchingNbbo(n, 21)).toEqual({ t: 20 });
    expect(matchingNbbo(n, 10)).toBeUndefined();
  });
  it('locked, crossed and one-sided NBBOs are not usable for spreads', () => {
    expect(isUsableNbbo(10, 10.01)).toBe(true);
    expect(isUsableNbbo(10, 10)).toBe(false);
    expect(isUsableNbbo(10.01, 10)).toBe(false);
    expect(isUsableNbbo(null, 10)).toBe(false);
  });
});

describe('trade signing', () => {
  it('tick test: the sign of the change from the last different price', () => {
    expect(tickTest([10, 10, 10.01, 10.01, 10, 10, 10.02])).toEqual([null, null, 1, 1, -1, -1, 1]);
  });
  it('Lee–Ready, EMO and CLNV on a 10.00 / 10.10 quote', () => {
    // price:       10.10 ask   10.08 top 30%  10.06 mid-up  10.05 mid  10.03 bottom 30%  10.00 bid  10.12 outside
    const cases: [number, number, number, number][] = [
      //  price   LR  EMO CLNV   (tick = −1 where a rule falls back)
      [10.1, 1, 1, 1],
      [10.08, 1, -1, 1],
      [10.06, 1, -1, -1],
      [10.05, -1, -1, -1],
      [10.03, -1, -1, -1],
      [10.0, -1, -1, -1],
      [10.12, 1, -1, -1],
    ];
    for (const [p, lr, e, c] of cases) {
      expect([p, leeReady(p, 10, 10.1, -1), emo(p, 10, 10.1, -1), clnv(p, 10, 10.1, -1)]).toEqual([p, lr, e, c]);
    }
    expect(leeReady(10, null, 10.1, 1)).toBeNull();
  });
  it('agrees with its SQL on generated trades', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 990, max: 1020 }), fc.constantFrom(1, -1, null), async (cents, tick) => {
        const p = cents / 100;
        const row = { p, bid: 10, ask: 10.1, tick };
        expect(await sqlValue(leeReadySql('p', 'bid', 'ask', 'tick'), row)).toBe(leeReady(p, 10, 10.1, tick as 1 | -1 | null));
        expect(await sqlValue(emoSql('p', 'bid', 'ask', 'tick'), row)).toBe(emo(p, 10, 10.1, tick as 1 | -1 | null));
        expect(await sqlValue(clnvSql('p', 'bid', 'ask', 'tick'), row)).toBe(clnv(p, 10, 10.1, tick as 1 | -1 | null));
      }),
      { numRuns: 60 },
    );
  });
});
