/**
 * The Compustat provider against a real warehouse (test/support/crsp-fixture.ts): the four
 * standard filters, availability dates (No look-ahead), fiscal-year-end duplicates, restatements
 * through the warehouse's asOf, and the CRSP–Compustat link filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError } from '../../src/log/index.js';
import { openWarehouse, type Warehouse } from '../../src/query/index.js';
import { annual, linkAsOf, quarterly } from '../../src/providers/index.js';
import { FIRST_NIQ, G, P, RESTATED_NIQ, buildCrspFixture, plain, type CrspFixture } from '../support/crsp-fixture.js';
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

const pick = (rows: Record<string, unknown>[], ...cols: string[]) => rows.map((r) => cols.map((c) => r[c]));

describe('annual', () => {
  it("keeps only indfmt='INDL', datafmt='STD', popsrc='D', consol='C' rows", async () => {
    const rows = plain(await annual(wh.session, { gvkeys: [G.BASE], asOfDate: '2020-12-31' }));
    expect(pick(rows, 'datadate', 'at', 'indfmt', 'datafmt')).toEqual([
      ['2018-12-31', 100, 'INDL', 'STD'],
      ['2019-12-31', 110, 'INDL', 'STD'],
    ]);
  });

  it('No look-ahead: available_date = datadate + lag, and only rows available by asOfDate', async () => {
    const at = async (asOfDate: string, lagDays?: number) => pick(plain(await annual(wh.session, { gvkeys: [G.BASE], asOfDate, lagDays })), 'datadate', 'available_date');
    expect(await at('2020-03-29')).toEqual([['2018-12-31', '2019-03-31']]);
    expect(await at('2020-03-30')).toEqual([['2018-12-31', '2019-03-31'], ['2019-12-31', '2020-03-30']]);
    expect(await at('2020-06-27', 180)).toEqual([['2018-12-31', '2019-06-29']]);
    expect(await at('2020-06-28', 180)).toHaveLength(2);
  });

  it('latest keeps one row per firm; items select columns from the allow-list', async () => {
    const rows = plain(await annual(wh.session, { asOfDate: '2020-12-31', latest: true, items: ['at', 'ceq'] }));
    expect(pick(rows, 'gvkey', 'datadate')).toEqual([[G.BASE, '2019-12-31'], [G.FYR, '2019-12-31']]);
    expect(Object.keys(rows[0]!)).toEqual(['gvkey', 'datadate', 'fyear', 'fyr', 'tic', 'conm', 'at', 'ceq', 'available_date']);
  });
});

describe('quarterly', () => {
  const base = async (asOfDate: string, lagDays?: number) => plain(await quarterly(wh.session, { gvkeys: [G.BASE], asOfDate, lagDays }));

  it('No look-ahead: usable from the trading day after rdq (a Friday rdq before MLK day -> Tuesday)', async () => {
    expect(pick(await base('2020-01-20'), 'datadate', 'rdq', 'available_date')).toEqual([['2019-09-30', '2019-10-24', '2019-10-25']]);
    expect(pick(await base('2020-01-21'), 'datadate', 'available_date')).toEqual([['2019-09-30', '2019-10-25'], ['2019-12-31', '2020-01-21']]);
  });

  it('No look-ahead: without rdq, datadate + lag (configurable)', async () => {
    expect((await base('2020-06-28')).map((r) => r['datadate'])).not.toContain('2020-03-31');
    expect(pick(await base('2020-06-29'), 'datadate', 'available_date').at(-1)).toEqual(['2020-03-31', '2020-06-29']);
    expect(pick(await base('2020-04-30', 30), 'datadate', 'available_date').at(-1)).toEqual(['2020-03-31', '2020-04-30']);
  });

  it('the standard filters drop the FS duplicate', async () => {
    expect((await base('2020-12-31')).map((r) => r['niq'])).not.toContain(777);
  });

  it("fiscal-year-end change: duplicated quarters keep the firm's current fyr", async () => {
    const rows = plain(await quarterly(wh.session, { gvkeys: [G.FYR], asOfDate: '2020-12-31' }));
    expect(pick(rows, 'datadate', 'fyr', 'fqtr', 'niq')).toEqual([
      ['2019-12-31', 12, 4, 9],
      ['2020-03-31', 6, 3, 2],
      ['2020-06-30', 6, 4, 4],
      ['2020-09-30', 6, 1, 5],
    ]);
    // As known on 2020-04-21: both views of 2020-03-31 just became usable; the new fyr is current.
    const early = plain(await quarterly(wh.session, { gvkeys: [G.FYR], asOfDate: '2020-04-21' }));
    expect(pick(early, 'datadate', 'fyr')).toEqual([['2019-12-31', 12], ['2020-03-31', 6]]);
  });

  it('Restatements: a value first seen stays what an earlier warehouse point returns', async () => {
    const niqAt = async (asOf: string | undefined) => {
      const w = await openWarehouse(fx.dir, { asOf });
      try {
        return plain(await quarterly(w.session, { gvkeys: [G.BASE], asOfDate: '2020-12-31' })).find((r) => r['datadate'] === '2019-12-31')?.['niq'];
      } finally {
        w.close();
      }
    };
    expect(await niqAt(String(fx.seq.compustat))).toBe(FIRST_NIQ);
    expect(await niqAt(String(fx.seq.restated))).toBe(RESTATED_NIQ);
    expect(await niqAt(undefined)).toBe(RESTATED_NIQ);
  });
});

describe('links', () => {
  const links = async (d: string) => pick(plain(await linkAsOf(wh.session, d)), 'gvkey', 'permno', 'linktype', 'linkprim');

  it("LU/LC, primary P/C, in force on the date: a link closing and another opening", async () => {
    expect(await links('2020-01-31')).toEqual([
      [G.BASE, P.NEG, 'LC', 'P'],
      [G.FYR, P.XCH, 'LU', 'C'],
    ]);
    expect(await links('2020-02-01')).toEqual([
      [G.BASE, P.NEG, 'LC', 'P'],
      [G.FYR, P.SHR, 'LC', 'P'],
    ]);
    expect(await links('2018-06-30')).toEqual([]); // only the NR link, excluded
  });

  it('filters by gvkey or permno', async () => {
    expect(plain(await linkAsOf(wh.session, '2020-02-03', { permnos: [P.SHR] })).map((r) => r['gvkey'])).toEqual([G.FYR]);
    expect(plain(await linkAsOf(wh.session, '2020-02-03', { gvkeys: [G.BASE] })).map((r) => r['permno'])).toEqual([P.NEG]);
  });
});

describe('bad input', () => {
  it.each([
    ['SQL injection in a gvkey', () => annual(wh.session, { gvkeys: ["001'; DROP TABLE comp_funda; --"], asOfDate: '2020-01-01' }), /gvkey/],
    ['an item outside the allow-list', () => annual(wh.session, { asOfDate: '2020-01-01', items: ['at; DROP' as never] }), /items/],
    ['a negative lag', () => quarterly(wh.session, { asOfDate: '2020-01-01', lagDays: -1 }), /lagDays/],
    ['a date the NYSE calendar does not know', () => quarterly(wh.session, { asOfDate: '2031-01-02' }), /calendar/],
    ['a bad link date', () => linkAsOf(wh.session, '2020-13-01'), /real date/],
  ])('%s', async (_what, call, message) => {
    const head = fx.log.head().seq;
    const e = await call().then(() => null, (err: unknown) => err);
    expect(isWarehouseError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('INVALID_ARGUMENT');
    expect((e as Error).message).toMatch(message);
    expect(fx.log.head().seq).toBe(head);
  });
});
