/**
 * "The sample must trigger every rule" (issue 11): the generated WRDS-shaped sample holds every
 * trap at every seed and scale (checked on the source, several seeds and scales), and for each the
 * providers' answer equals one computed independently by plain SQL over the synced raw datasets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWrdsSample } from '../../src/dev/wrds-sample/index.js';
import type { PgSession } from '../../src/dev/pg-server.js';
import { openWarehouse } from '../../src/query/index.js';
import { dailyPrices, linkAsOf, monthlyPrices, quarterly, tickerToPermno, universe } from '../../src/providers/index.js';
import { plain } from '../support/crsp-fixture.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { buildSampleWarehouse, type SampleWarehouse } from '../support/sample-warehouse.js';
import { cleanupTempDirs } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);

const count = async (s: PgSession, sql: string): Promise<number> => Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) x`)).rows[0]!.n);
const STD = "indfmt = 'INDL' AND datafmt = 'STD' AND popsrc = 'D' AND consol = 'C'";

/** Each trap, as a query on the source that must return rows. */
const TRAPS: Readonly<Record<string, string>> = {
  'a delisting on a date with a price row': 'SELECT 1 FROM crsp.dsedelist d JOIN crsp.dsf f ON f.permno = d.permno AND f.date = d.dlstdt WHERE d.dlstcd <> 100',
  'a delisting inside a month with price rows, after the last one': `SELECT 1 FROM crsp.dsedelist d WHERE d.dlstcd <> 100
    AND NOT EXISTS (SELECT 1 FROM crsp.dsf f WHERE f.permno = d.permno AND f.date = d.dlstdt)
    AND EXISTS (SELECT 1 FROM crsp.dsf f WHERE f.permno = d.permno AND date_trunc('month', f.date) = date_trunc('month', d.dlstdt))`,
  'a delisting in a month without price rows': `SELECT 1 FROM crsp.dsedelist d WHERE d.dlstcd <> 100
    AND NOT EXISTS (SELECT 1 FROM crsp.dsf f WHERE f.permno = d.permno AND date_trunc('month', f.date) = date_trunc('month', d.dlstdt))`,
  'a missing dlret with a non-performance code': 'SELECT 1 FROM crsp.dsedelist WHERE dlret IS NULL AND dlstcd NOT IN (100, 500) AND dlstcd NOT BETWEEN 520 AND 584',
  'prc = 0 rows (daily and monthly)': "SELECT 1 FROM crsp.dsf WHERE prc = 0 UNION ALL SELECT 1 FROM crsp.msf WHERE prc = 0",
  'an IPO whose namedt precedes its first trade': `SELECT n.permno FROM crsp.dsenames n GROUP BY n.permno
    HAVING min(n.namedt) < (SELECT min(date) FROM crsp.dsf f WHERE f.permno = n.permno) AND min(n.namedt) > '2015-01-01'`,
  'a same-day ticker hand-over': `SELECT 1 FROM crsp.dsenames a JOIN crsp.dsenames b ON a.ticker = b.ticker AND a.permno <> b.permno AND b.namedt = a.nameendt + 1
    WHERE EXISTS (SELECT 1 FROM crsp.dsenames c WHERE c.permno = a.permno AND c.namedt = b.namedt)`,
  'a link gap': `SELECT 1 FROM crsp.ccmxpf_lnkhist a JOIN crsp.ccmxpf_lnkhist b ON a.gvkey = b.gvkey AND a.lpermno = b.lpermno AND b.linkdt > a.linkenddt + 1
    WHERE a.linktype IN ('LU', 'LC') AND b.linktype IN ('LU', 'LC')`,
  'LS, LX, LD, LN and NU links': "SELECT 1 FROM crsp.ccmxpf_lnkhist WHERE linktype IN ('LS', 'LX', 'LD', 'LN', 'NU') HAVING count(DISTINCT linktype) = 5",
  'funda duplicates from a fiscal-year-end change': `SELECT gvkey, fyear FROM comp.funda WHERE ${STD} GROUP BY 1, 2 HAVING count(DISTINCT datadate) > 1`,
  'fundq duplicates with different values': `SELECT gvkey, datadate FROM comp.fundq WHERE ${STD} GROUP BY 1, 2 HAVING count(*) > 1 AND count(DISTINCT niq) > 1`,
  "popsrc = 'I' rows in funda and fundq": "SELECT 1 FROM comp.funda WHERE popsrc = 'I' INTERSECT SELECT 1 FROM comp.fundq WHERE popsrc = 'I'",
  "consol <> 'C' rows in funda and fundq": "SELECT 1 FROM comp.funda WHERE consol <> 'C' INTERSECT SELECT 1 FROM comp.fundq WHERE consol <> 'C'",
  'cfacshr <> cfacpr': 'SELECT 1 FROM crsp.dsf WHERE cfacshr <> cfacpr',
  'dlycumfacpr <> cfacpr': 'SELECT 1 FROM crsp.dsf f JOIN crsp.dsf_v2 v ON v.permno = f.permno AND v.dlycaldt = f.date WHERE v.dlycumfacpr <> f.cfacpr',
  'a daily file that starts years after the names history': "SELECT 1 FROM crsp.dsenames WHERE namedt < '2012-01-01'",
};

describe.each([
  { seed: 1, scale: 1 },
  { seed: 7, scale: 1 },
  { seed: 23, scale: 2 },
])('the sample triggers every rule (seed $seed, scale $scale)', ({ seed, scale }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(`traps_${seed}_${scale}`);
    await generateWrdsSample(db.session, { seed, scale, fromYear: 2015, toYear: 2017, taqDays: 0 });
  });
  afterAll(() => db?.drop());
  it.each(Object.entries(TRAPS))('%s', async (_name, sql) => {
    expect(await count(db.session, sql)).toBeGreaterThan(0);
  });
  it('restatements: a later vintage of the same seed restates some Compustat values, and only values', async () => {
    const before = await db.session.query<{ k: string; niq: number }>(`SELECT gvkey || datadate || fyr || popsrc || consol AS k, niq FROM comp.fundq ORDER BY 1`);
    await generateWrdsSample(db.session, { seed, scale, fromYear: 2015, toYear: 2017, taqDays: 0, vintage: '2019-06-30' });
    const after = await db.session.query<{ k: string; niq: number }>(`SELECT gvkey || datadate || fyr || popsrc || consol AS k, niq FROM comp.fundq ORDER BY 1`);
    expect(after.rows.map((r) => r.k)).toEqual(before.rows.map((r) => r.k));
    const changed = after.rows.filter((r, i) => r.niq !== before.rows[i]!.niq);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(after.rows.length / 4);
  });
});

describe('each trap, provider vs plain SQL over the raw tables (seed 3)', () => {
  let sw: SampleWarehouse;
  beforeAll(async () => {
    sw = await buildSampleWarehouse({ seed: 3 });
  });
  afterAll(() => sw?.close());

  it('prc = 0 is missing: no price and no market cap, row for row', async () => {
    const zero = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, CAST(date AS VARCHAR) AS date FROM crsp_dsf WHERE prc = 0 ORDER BY 1, 2`);
    expect(zero.length).toBeGreaterThan(0);
    const permnos = [...new Set(zero.map((r) => r['permno'] as number))];
    const rows = plain(await dailyPrices(sw.wh.session, { permnos, start: '2015-01-01', end: '2017-12-31' }));
    const got = rows.filter((r) => r['prc_raw'] === 0).map((r) => ({ permno: r['permno'], date: r['date'] }));
    expect(got).toEqual(zero);
    expect(rows.filter((r) => r['prc_raw'] === 0).every((r) => r['price'] === null && r['market_cap'] === null && r['adj_price'] === null)).toBe(true);
  });

  it('a missing dlret with a non-performance code adds nothing, in both formats', async () => {
    const cases = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS VARCHAR) AS dlstdt FROM crsp_dsedelist
      WHERE dlret IS NULL AND dlstcd <> 100 AND dlstcd <> 500 AND dlstcd NOT BETWEEN 520 AND 584`);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const d = c['dlstdt'] as string;
      for (const format of ['legacy', 'ciz'] as const) {
        const rows = plain(await dailyPrices(sw.wh.session, { permnos: [c['permno'] as number], start: d, end: d, format }));
        expect(rows.every((r) => r['dlret'] === null && r['total_ret'] === r['ret'] && r['added_delisting'] === false), `${format} ${c['permno']}`).toBe(true);
      }
    }
  });

  it('an IPO is not in the universe between its namedt and its first trade', async () => {
    const ipos = await sw.raw(`SELECT n.permno, CAST(min(n.namedt) AS VARCHAR) AS namedt, CAST(min(f.date) AS VARCHAR) AS first FROM crsp_dsenames n
      JOIN crsp_dsf f ON f.permno = n.permno GROUP BY 1 HAVING min(n.namedt) < min(f.date) AND min(n.namedt) > DATE '2015-01-01'`);
    expect(ipos.length).toBeGreaterThan(0);
    for (const ipo of ipos) {
      for (const format of ['legacy', 'ciz'] as const) {
        const at = async (d: string) => plain(await universe(sw.wh.session, d, { format })).map((r) => r['permno']);
        expect(await at(ipo['namedt'] as string)).not.toContain(Number(ipo['permno']));
        const members = await at(ipo['first'] as string);
        const screened = await sw.raw(`SELECT 1 FROM crsp_dsenames WHERE permno = ${Number(ipo['permno'])} AND shrcd IN (10, 11) AND exchcd IN (1, 2, 3)`);
        if (format === 'legacy' && screened.length > 0) expect(members).toContain(Number(ipo['permno']));
      }
    }
  });

  it('a same-day ticker hand-over resolves to the old holder the day before and the new one from that day', async () => {
    const handovers = await sw.raw(`SELECT a.ticker, CAST(a.permno AS INTEGER) AS old, CAST(b.permno AS INTEGER) AS new, CAST(a.nameendt AS VARCHAR) AS last_old, CAST(b.namedt AS VARCHAR) AS first_new
      FROM crsp_dsenames a JOIN crsp_dsenames b ON a.ticker = b.ticker AND a.permno <> b.permno AND CAST(b.namedt AS DATE) = CAST(a.nameendt AS DATE) + 1`);
    expect(handovers.length).toBeGreaterThan(0);
    for (const h of handovers) {
      expect(await tickerToPermno(sw.wh.session, h['ticker'] as string, h['last_old'] as string)).toBe(h['old']);
      expect(await tickerToPermno(sw.wh.session, h['ticker'] as string, h['first_new'] as string)).toBe(h['new']);
    }
  });

  it('links: gaps and non-research link types, row for row against the standard filter on dates away from delistings', async () => {
    for (const d of ['2015-06-30', '2016-05-31', '2016-08-31', '2017-03-31']) {
      const expected = await sw.raw(`SELECT gvkey, CAST(lpermno AS INTEGER) AS permno FROM crsp_ccmxpf_lnkhist
        WHERE linktype IN ('LU', 'LC') AND linkprim IN ('P', 'C') AND CAST(linkdt AS DATE) <= DATE '${d}' AND DATE '${d}' <= coalesce(CAST(linkenddt AS DATE), DATE '9999-12-31')
          AND CAST(lpermno AS INTEGER) NOT IN (SELECT permno FROM crsp_dsedelist WHERE dlstcd <> 100 AND date_trunc('month', dlstdt) = date_trunc('month', DATE '${d}'))
        ORDER BY 1, 2`);
      const delisting = new Set((await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno FROM crsp_dsedelist WHERE dlstcd <> 100
        AND date_trunc('month', dlstdt) = date_trunc('month', DATE '${d}')`)).map((r) => r['permno']));
      const got = plain(await linkAsOf(sw.wh.session, d)).filter((r) => !delisting.has(r['permno'])).map((r) => ({ gvkey: r['gvkey'], permno: r['permno'] }));
      expect(got).toEqual(expected);
    }
    const gap = await sw.raw(`SELECT CAST(a.lpermno AS INTEGER) AS permno, CAST(a.linkenddt + 1 AS VARCHAR) AS d FROM crsp_ccmxpf_lnkhist a
      JOIN crsp_ccmxpf_lnkhist b ON a.gvkey = b.gvkey AND a.lpermno = b.lpermno AND b.linkdt > a.linkenddt + 1 WHERE a.linktype IN ('LU', 'LC') AND b.linktype IN ('LU', 'LC')`);
    expect(gap.length).toBeGreaterThan(0);
    for (const g of gap) expect(plain(await linkAsOf(sw.wh.session, g['d'] as string, { permnos: [g['permno'] as number] }))).toEqual([]);
  });

  it('quarterly drops popsrc I and consol N rows: one row per firm-quarter, the INDL/STD/D/C values', async () => {
    const expected = await sw.raw(`SELECT gvkey, CAST(datadate AS VARCHAR) AS datadate, count(DISTINCT niq) AS n FROM comp_fundq WHERE ${STD}
      AND rdq IS NOT NULL AND CAST(rdq AS DATE) < DATE '2017-06-01' GROUP BY 1, 2 HAVING count(*) = 1 ORDER BY 1, 2`);
    const got = plain(await quarterly(sw.wh.session, { asOfDate: '2017-06-30', items: ['niq'] }));
    const byKey = new Map(got.map((r) => [`${r['gvkey']} ${r['datadate']}`, r['niq']]));
    const std = await sw.raw(`SELECT gvkey, CAST(datadate AS VARCHAR) AS datadate, niq FROM comp_fundq WHERE ${STD}`);
    const stdNiq = new Map(std.map((r) => [`${r['gvkey']} ${r['datadate']}`, r['niq']]));
    for (const e of expected) {
      const k = `${e['gvkey']} ${e['datadate']}`;
      expect(byKey.get(k), k).toBe(stdNiq.get(k));
    }
    expect(new Set(got.map((r) => `${r['gvkey']} ${r['datadate']}`)).size).toBe(got.length);
  });

  it('cfacshr <> cfacpr: adjusted prices use cfacpr, row for row', async () => {
    const rows = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, CAST(date AS VARCHAR) AS date, abs(CAST(prc AS DOUBLE)) / CAST(cfacpr AS DOUBLE) AS adj
      FROM crsp_dsf WHERE permno IN (SELECT permno FROM crsp_dsf WHERE cfacshr <> cfacpr) AND prc <> 0 ORDER BY 1, 2`);
    expect(rows.length).toBeGreaterThan(0);
    const permnos = [...new Set(rows.map((r) => r['permno'] as number))];
    const got = plain(await dailyPrices(sw.wh.session, { permnos, start: '2015-01-01', end: '2017-12-31' })).filter((r) => r['adj_price'] !== null);
    expect(got.map((r) => [r['permno'], r['date']])).toEqual(rows.map((r) => [r['permno'], r['date']]));
    got.forEach((r, i) => expect(r['adj_price'] as number).toBeCloseTo(rows[i]!['adj'] as number, 9));
  });

  it('dlycumfacpr <> cfacpr (CIZ from a later release): adjusted to the same date, both formats agree', async () => {
    const [p] = await sw.raw(`SELECT DISTINCT CAST(f.permno AS INTEGER) AS permno FROM crsp_dsf f JOIN crsp_dsf_v2 v ON v.permno = f.permno AND v.dlycaldt = f.date
      WHERE abs(CAST(v.dlycumfacpr AS DOUBLE) - CAST(f.cfacpr AS DOUBLE)) > 1e-9 LIMIT 1`);
    expect(p).toBeDefined();
    const o = { permnos: [p!['permno'] as number], start: '2016-01-01', end: '2016-03-31', adjustTo: '2016-03-31' };
    const legacy = plain(await dailyPrices(sw.wh.session, o)).filter((r) => r['price'] !== null);
    const ciz = plain(await dailyPrices(sw.wh.session, { ...o, format: 'ciz' })).filter((r) => r['price'] !== null);
    expect(ciz.map((r) => r['date'])).toEqual(legacy.map((r) => r['date']));
    ciz.forEach((r, i) => expect(r['adj_price'] as number).toBeCloseTo(legacy[i]!['adj_price'] as number, 6));
    expect(ciz[0]!['cfacpr']).not.toBe(legacy[0]!['cfacpr']);
  });

  it('monthly legacy rows carry no price on the delisting month (prc 0), the delisting return combined', async () => {
    const rows = await sw.raw(`SELECT CAST(m.permno AS INTEGER) AS permno, CAST(m.date AS VARCHAR) AS date FROM crsp_msf m WHERE m.prc = 0 ORDER BY 1, 2`);
    for (const r of rows) {
      const got = plain(await monthlyPrices(sw.wh.session, { permnos: [r['permno'] as number], start: r['date'] as string, end: r['date'] as string }));
      expect(got[0]).toMatchObject({ price: null, market_cap: null });
    }
  });
});

describe('restatements in generated vintages, through the warehouse (seed 5)', () => {
  it('a later vintage restates some fundq values; the earlier point reads the first values, head the restated ones, row for row', async () => {
    const sw = await buildSampleWarehouse({ seed: 5 }, ['comp_fundq']);
    try {
      const first = sw.log.head().seq;
      const key = 'gvkey, datadate, fyr, popsrc, consol';
      const v1 = (await sw.db.session.query<Record<string, unknown>>(`SELECT gvkey, datadate::text AS datadate, fyr, niq::float8 AS niq FROM comp.fundq WHERE ${STD} ORDER BY ${key}`)).rows;
      await generateWrdsSample(sw.db.session, { seed: 5, scale: 1, fromYear: 2015, toYear: 2017, taqDays: 0, vintage: '2019-06-30' });
      await sw.resync(['comp_fundq']);
      const v2 = (await sw.db.session.query<Record<string, unknown>>(`SELECT gvkey, datadate::text AS datadate, fyr, niq::float8 AS niq FROM comp.fundq WHERE ${STD} ORDER BY ${key}`)).rows;
      const restated = v2.filter((r, i) => r['niq'] !== v1[i]!['niq']);
      expect(restated.length).toBeGreaterThan(0);
      for (const [point, want] of [[first, v1], [undefined, v2]] as const) {
        const wh = await openWarehouse(sw.dir, point === undefined ? {} : { asOf: String(point) });
        try {
          const got = await wh.session.duck.all(`SELECT gvkey, CAST(datadate AS VARCHAR) AS datadate, CAST(fyr AS INTEGER) AS fyr, CAST(niq AS DOUBLE) AS niq FROM comp_fundq WHERE ${STD} ORDER BY ${key}`);
          expect(got.rows.map((r) => [r['gvkey'], r['datadate'], r['niq']])).toEqual(want.map((r) => [r['gvkey'], r['datadate'], r['niq']]));
          const q = plain(await quarterly(wh.session, { asOfDate: '2017-12-29', items: ['niq'] }));
          const wantBy = new Map(want.map((r) => [`${r['gvkey']} ${r['datadate']} ${r['fyr']}`, r['niq']]));
          for (const r of q) expect(r['niq'], `${r['gvkey']} ${r['datadate']}`).toBe(wantBy.get(`${r['gvkey']} ${r['datadate']} ${r['fyr']}`));
        } finally {
          wh.close();
        }
      }
    } finally {
      await sw.close();
    }
  });
});
