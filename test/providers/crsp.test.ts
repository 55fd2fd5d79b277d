/**
 * The CRSP provider against a real warehouse (test/support/crsp-fixture.ts): each case names the
 * DATA-RULES rule it checks. Bad input is refused with a WarehouseError and writes nothing.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type WarehouseError } from '../../src/log/index.js';
import { openWarehouse, type Warehouse } from '../../src/query/index.js';
import { sessions } from '../../src/calendar/index.js';
import { dailyPrices, gaps, monthlyPrices, tickerToPermno, universe } from '../../src/providers/index.js';
import { Params, sessionsCte } from '../../src/providers/crsp.js';
import { P, buildCrspFixture, dailyRows, plain, SECURITIES, type CrspFixture } from '../support/crsp-fixture.js';
import { cleanupTempDirs } from '../support/wh-cli.js';

let fx: CrspFixture;
let wh: Warehouse;

beforeAll(async () => {
  fx = await buildCrspFixture();
  wh = await openWarehouse(fx.dir);
});
afterAll(() => {
  wh?.close();
  fx?.close();
  cleanupTempDirs();
});

const day = async (permno: number, start: string, end: string, extra: Record<string, unknown> = {}) =>
  plain(await dailyPrices(wh.session, { permnos: [permno], start, end, ...extra }));
const on = (rows: Record<string, unknown>[], date: string) => rows.find((r) => r['date'] === date);

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(() => new Error('expected a refusal'), (err: unknown) => err);
  if (!isWarehouseError(e)) throw e;
  return e;
}

describe('prices', () => {
  it('Negative prices: price = |prc|, flagged as a midpoint; prc 0 or NULL is missing, never zero', async () => {
    const rows = await day(P.NEG, '2020-01-02', '2020-01-08');
    expect(on(rows, '2020-01-03')).toMatchObject({ prc_raw: -10.5, price: 10.5, is_midpoint: true, market_cap: 10.5 * 1000 * 1000 });
    expect(on(rows, '2020-01-02')).toMatchObject({ is_midpoint: false });
    expect(on(rows, '2020-01-06')).toMatchObject({ prc_raw: 0, price: null, market_cap: null, adj_price: null });
    expect(on(rows, '2020-01-07')).toMatchObject({ prc_raw: null, price: null, market_cap: null });
  });

  it('Missing returns stay NULL (ret and total_ret), never 0', async () => {
    const rows = await day(P.NEG, '2020-01-06', '2020-01-08');
    expect(rows.map((r) => [r['date'], r['ret'], r['total_ret']])).toEqual([
      ['2020-01-06', null, null],
      ['2020-01-07', null, null],
      ['2020-01-08', null, null],
    ]);
  });

  it('Market cap = |prc| x shrout x 1000', async () => {
    const [r] = await day(P.DLA, '2019-12-02', '2019-12-02');
    expect(r!['market_cap']).toBeCloseTo((r!['price'] as number) * 1000 * 1000, 6);
  });

  it('Delisting returns, legacy: combined as (1+ret)(1+dlret)-1 on the delisting date, never ret+dlret', async () => {
    const r = on(await day(P.DLA, '2020-01-14', '2020-01-31'), '2020-01-15')!;
    expect(r).toMatchObject({ ret: 0.02, dlret: 0.1, dlstcd: 231, added_delisting: false });
    expect(r['total_ret']).toBeCloseTo(1.02 * 1.1 - 1, 12);
  });

  it('Delisting returns, legacy: code 552 without dlret -> -30% (Shumway) on an added row when the date has no price row', async () => {
    const rows = await day(P.DLB, '2020-01-16', '2020-01-31');
    expect(rows.map((r) => r['date'])).toEqual(['2020-01-16', '2020-01-17', '2020-01-21']);
    expect(on(rows, '2020-01-21')).toMatchObject({ added_delisting: true, ret: null, dlret: -0.3, dlstcd: 552, total_ret: -0.3, price: null });
  });

  it('Delisting returns, legacy: code 500 without dlret -> -30% combined with that day\'s ret', async () => {
    const r = on(await day(P.DLC, '2020-01-24', '2020-01-24'), '2020-01-24')!;
    expect(r['dlret']).toBe(-0.3);
    expect(r['total_ret']).toBeCloseTo(1.02 * 0.7 - 1, 12);
  });

  it('Delisting returns, legacy: a missing dlret with a non-Shumway code (331) adds nothing', async () => {
    const rows = await day(P.DLD, '2020-01-27', '2020-02-05');
    expect(rows.map((r) => r['date'])).toEqual(['2020-01-27', '2020-01-28']);
    expect(rows.every((r) => r['dlret'] === null && r['total_ret'] === r['ret'])).toBe(true);
  });

  it('a delisting after the market date asked for is not returned (No look-ahead)', async () => {
    const rows = await day(P.DLB, '2020-01-16', '2020-01-20');
    expect(rows.map((r) => r['date'])).toEqual(['2020-01-16', '2020-01-17']);
  });

  it('Delisting returns, legacy monthly: combined in the delisting month; a month with no ret row gets one at its last session', async () => {
    const a = plain(await monthlyPrices(wh.session, { permnos: [P.DLA], start: '2019-12-01', end: '2020-03-31' }));
    expect(a.map((r) => r['date'])).toEqual(['2019-12-31', '2020-01-31']);
    expect(a[1]!['total_ret']).toBeCloseTo(1.03 * 1.1 - 1, 12);
    const b = plain(await monthlyPrices(wh.session, { permnos: [P.DLB], start: '2019-12-01', end: '2020-03-31' }));
    expect(b.map((r) => [r['date'], r['ret'], r['total_ret'], r['added_delisting']])).toEqual([
      ['2019-12-31', 0.03, 0.03, false],
      ['2020-01-31', null, -0.3, true],
    ]);
  });

  it('Delisting returns, CIZ: dlyret already holds them and nothing is added again', async () => {
    const a = plain(await dailyPrices(wh.session, { permnos: [P.DLA], start: '2020-01-15', end: '2020-01-31', format: 'ciz' }));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ ret: 0.122, total_ret: 0.122, dlret: null, added_delisting: false });
    const b = plain(await dailyPrices(wh.session, { permnos: [P.DLB], start: '2020-01-17', end: '2020-01-31', format: 'ciz' }));
    expect(b.map((r) => [r['date'], r['total_ret']])).toEqual([
      ['2020-01-17', dailyRows(SECURITIES.find((s) => s.permno === P.DLB)!).at(-1)!.ret],
      ['2020-01-21', -0.25],
    ]);
  });

  it('CIZ prices: a bid/ask average is flagged by dlyprcflg', async () => {
    const rows = plain(await dailyPrices(wh.session, { permnos: [P.NEG], start: '2020-01-03', end: '2020-01-03', format: 'ciz' }));
    expect(rows[0]).toMatchObject({ price: 10.5, is_midpoint: true });
  });

  it('Adjustment factors: adj_price = |prc_t| x cfacpr_A / cfacpr_t; default to the release\'s last date', async () => {
    const release = await day(P.SPL, '2020-01-08', '2020-01-13');
    for (const r of release) expect(r['adj_price']).toBeCloseTo((r['price'] as number) / (r['cfacpr'] as number), 9);
    const pre = await day(P.SPL, '2020-01-08', '2020-01-13', { adjustTo: '2020-01-02' });
    const before = on(pre, '2020-01-09')!;
    const after = on(pre, '2020-01-10')!;
    expect(before).toMatchObject({ cfacpr: 2 });
    expect(before['adj_price']).toBeCloseTo(before['price'] as number, 9);
    expect(after['cfacpr']).toBe(1);
    expect(after['adj_price']).toBeCloseTo((after['price'] as number) * 2, 9);
    // A date before the first row anchors on the first row's factor; after the last, on the last.
    const late = on(await day(P.SPL, '2020-01-08', '2020-01-13', { adjustTo: '2021-06-30' }), '2020-01-09')!;
    expect(late['adj_price']).toBeCloseTo((late['price'] as number) / 2, 9);
  });

  it('Tickers are not identities: a reused ticker returns each holder in its own window', async () => {
    const rows = plain(await dailyPrices(wh.session, { tickers: ['old'], start: '2020-01-09', end: '2020-02-04' }));
    expect(rows.map((r) => [r['date'], r['permno'], r['symbol']])).toEqual([
      ['2020-01-09', P.OLD1, 'OLD'],
      ['2020-01-10', P.OLD1, 'OLD'],
      ['2020-01-13', P.OLD1, 'OLD'], // its delisting row, after its last name date
      ['2020-02-03', P.OLD2, 'OLD'],
      ['2020-02-04', P.OLD2, 'OLD'],
    ]);
  });

  it('the ticker column is the names history as of each date', async () => {
    const rows = await day(P.SHR, '2020-01-30', '2020-02-04');
    expect(rows.map((r) => r['ticker'])).toEqual(['SHR', 'SHR', 'SHRX', 'SHRX']);
  });

  it('the result has the documented columns and types', async () => {
    const t = await dailyPrices(wh.session, { permnos: [P.NEG], start: '2020-01-02', end: '2020-01-03' });
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'date:Date32<DAY>', 'permno:Int32', 'symbol:Utf8', 'ticker:Utf8', 'prc_raw:Float64', 'price:Float64', 'is_midpoint:Bool', 'ret:Float64',
      'dlret:Float64', 'dlstcd:Int32', 'total_ret:Float64', 'shrout:Float64', 'market_cap:Float64', 'cfacpr:Float64', 'adj_price:Float64',
      'open:Float64', 'high:Float64', 'low:Float64', 'vol:Float64', 'added_delisting:Bool',
    ]);
  });
});

describe('universe', () => {
  const members = async (d: string, format: 'legacy' | 'ciz' = 'legacy') => plain(await universe(wh.session, d, { format })).map((r) => r['permno']);

  it('Survivorship: securities that delist later are in; nothing before its first trading date', async () => {
    const u = await members('2020-01-10');
    expect(u).toEqual([P.NEG, P.DLA, P.DLB, P.DLC, P.DLD, P.OLD1, P.XCH, P.SPL]);
    expect(await members('2020-01-28')).not.toContain(P.IPO); // names record from 01-27, first trade 02-03
    expect(await members('2020-02-03')).toContain(P.IPO);
  });

  it('a delisted security leaves on its delisting date', async () => {
    expect(await members('2020-01-17')).toContain(P.DLB);
    expect(await members('2020-01-21')).not.toContain(P.DLB);
  });

  it('Universe screen, legacy: shrcd/exchcd from the names history as of the date', async () => {
    const jan = await members('2020-01-31');
    const feb = await members('2020-02-03');
    expect(jan).toContain(P.XCH);
    expect(feb).not.toContain(P.XCH); // exchcd 4 from 2020-02-01
    expect(jan).not.toContain(P.SHR); // shrcd 12 until 2020-01-31
    expect(feb).toContain(P.SHR);
  });

  it('Universe screen, CIZ: the common-stock screen on the security-information record in force', async () => {
    expect(await members('2020-01-31', 'ciz')).toEqual(await members('2020-01-31'));
    expect(await members('2020-02-03', 'ciz')).toEqual(await members('2020-02-03'));
  });

  it('tickerToPermno resolves a reused ticker by date', async () => {
    expect(await tickerToPermno(wh.session, 'OLD', '2020-01-06')).toBe(P.OLD1);
    expect(await tickerToPermno(wh.session, 'old', '2020-02-05')).toBe(P.OLD2);
    expect(await tickerToPermno(wh.session, 'OLD', '2020-01-20')).toBeNull();
    expect(await tickerToPermno(wh.session, 'OLD', '2020-02-05', { format: 'ciz' })).toBe(P.OLD2);
  });
});

describe('Calendars', () => {
  it('the SQL session table equals the NYSE calendar over its whole known range', async () => {
    const p = new Params();
    const res = await wh.session.duck.all(`WITH ${sessionsCte(p)} SELECT CAST(d AS VARCHAR) AS d FROM sessions ORDER BY d`, p.values);
    expect(res.rows.map((r) => r['d'])).toEqual(sessions('1928-01-01', '2030-12-31'));
  });
});

describe('gaps', () => {
  it('reports no_trade, vendor_gap and not_listed; holidays and weekends are never gaps', async () => {
    const rows = plain(await gaps(wh.session, P.NEG, '2020-01-02', '2020-01-21'));
    expect(rows.map((r) => [r['date'], r['reason']])).toEqual([
      ['2020-01-06', 'no_trade'],
      ['2020-01-07', 'no_trade'],
      ['2020-01-09', 'vendor_gap'],
    ]);
    const ipo = plain(await gaps(wh.session, P.IPO, '2020-01-29', '2020-02-04'));
    expect(ipo.map((r) => [r['date'], r['reason']])).toEqual([
      ['2020-01-29', 'not_listed'],
      ['2020-01-30', 'not_listed'],
      ['2020-01-31', 'not_listed'],
    ]);
    const gone = plain(await gaps(wh.session, P.DLB, '2020-01-17', '2020-01-22'));
    expect(gone.map((r) => [r['date'], r['reason']])).toEqual([
      ['2020-01-21', 'not_listed'],
      ['2020-01-22', 'not_listed'],
    ]);
  });

  it('refuses dates the NYSE calendar does not know', async () => {
    expect((await refusal(gaps(wh.session, P.NEG, '2030-12-01', '2031-01-31'))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('bad input: a clear WarehouseError, nothing written', () => {
  let headBefore: number;
  let objectsBefore: string[];
  const objects = (): string[] => readdirSync(join(fx.dir, 'objects'), { recursive: true }).map(String).sort();
  beforeAll(() => {
    headBefore = fx.log.head().seq;
    objectsBefore = objects();
  });
  afterAll(() => {
    expect(fx.log.head().seq).toBe(headBefore);
    expect(objects()).toEqual(objectsBefore);
  });

  it.each([
    ['an unknown permno', () => dailyPrices(wh.session, { permnos: [99999], start: '2020-01-02', end: '2020-01-31' }), /unknown permno: 99999/],
    ['an unknown ticker', () => dailyPrices(wh.session, { tickers: ['NOPE'], start: '2020-01-02', end: '2020-01-31' }), /unknown ticker: NOPE/],
    ['a ticker outside the range it was used', () => dailyPrices(wh.session, { tickers: ['IPO'], start: '2019-12-02', end: '2019-12-31' }), /unknown ticker/],
    ['a reversed date range', () => dailyPrices(wh.session, { permnos: [P.NEG], start: '2020-02-01', end: '2020-01-01' }), /reversed date range/],
    ['no symbols', () => dailyPrices(wh.session, { start: '2020-01-01', end: '2020-02-01' }), /at least one permno or ticker/],
    ['a non-date', () => dailyPrices(wh.session, { permnos: [P.NEG], start: '2020-02-30', end: '2020-03-01' }), /real date/],
    ['SQL injection in a ticker', () => dailyPrices(wh.session, { tickers: ["X'); DROP TABLE crsp_dsf; --"], start: '2020-01-01', end: '2020-02-01' }), /not a ticker/],
    ['SQL injection in a permno', () => dailyPrices(wh.session, { permnos: ['1 OR 1=1' as unknown as number], start: '2020-01-01', end: '2020-02-01' }), /permnos/],
    ['SQL injection in a date', () => universe(wh.session, "2020-01-01' OR '1'='1"), /real date/],
    ['SQL injection in tickerToPermno', () => tickerToPermno(wh.session, "OLD' OR 1=1 --", '2020-01-06'), /not a ticker/],
    ['an unknown permno for gaps', () => gaps(wh.session, 424242, '2020-01-02', '2020-01-31'), /unknown permno/],
    ['a reversed range for gaps', () => gaps(wh.session, P.NEG, '2020-01-31', '2020-01-02'), /reversed/],
    ['an unknown CRSP format', () => universe(wh.session, '2020-01-02', { format: 'siz' as never }), /format/],
  ])('%s', async (_what, call, message) => {
    const e = await refusal(call());
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(message);
    expect(e.suggestion).toBeTruthy();
  });

  it('a dataset the warehouse does not hold at the point', async () => {
    const early = await openWarehouse(fx.dir, { asOf: '1' });
    try {
      const e = await refusal(universe(early.session, '2020-01-02'));
      expect(e.code).toBe('UNKNOWN_DATASET');
      expect(e.message).toMatch(/crsp_dsenames/);
    } finally {
      early.close();
    }
  });
});
