/**
 * Issue 11, items 1-7, over a warehouse synced from the generated WRDS-shaped sample (seed 1): each
 * expected value is computed independently of the providers, by plain SQL over the synced raw
 * datasets, and compared with what the providers return.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/calendar/index.js';
import { annual, coverageWarnings, dailyPrices, linkAsOf, mergedPrices, monthlyPrices, quarterly, universe } from '../../src/providers/index.js';
import { plain } from '../support/crsp-fixture.js';
import { buildSampleWarehouse, type SampleWarehouse } from '../support/sample-warehouse.js';
import { cleanupTempDirs, runWh } from '../support/wh-cli.js';

let sw: SampleWarehouse;
beforeAll(async () => {
  sw = await buildSampleWarehouse({ seed: 1, scale: 1, fromYear: 2015, toYear: 2017 });
});
afterAll(async () => {
  await sw?.close();
  cleanupTempDirs();
});

/** The first and last calendar day of the month of `date`. */
export const monthOf = (date: string): { start: string; end: string } => {
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  return { start: `${date.slice(0, 7)}-01`, end: new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10) };
};

describe('1. CIZ applies Shumway when CRSP has no delisting return for a performance delisting', () => {
  it('daily: the delisting-date return is (1+dlyret)(1-0.30)-1, or -0.30 without dlyret, as legacy gives', async () => {
    const expected = await sw.raw(`
      SELECT CAST(d.permno AS INTEGER) AS permno, CAST(d.delistingdt AS VARCHAR) AS date,
        CASE WHEN f.dlyret IS NULL THEN -0.30 ELSE (1 + CAST(f.dlyret AS DOUBLE)) * 0.70 - 1 END AS total_ret
      FROM crsp_stkdelists d LEFT JOIN crsp_dsf_v2 f ON f.permno = d.permno AND f.dlycaldt = d.delistingdt
      WHERE d.delret IS NULL AND d.delactiontype = 'DEL' ORDER BY 1`);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const e of expected) {
      const date = e['date'] as string;
      const ciz = plain(await dailyPrices(sw.wh.session, { permnos: [e['permno'] as number], start: date, end: date, format: 'ciz' }));
      const legacy = plain(await dailyPrices(sw.wh.session, { permnos: [e['permno'] as number], start: date, end: date }));
      expect(ciz).toHaveLength(1);
      expect(ciz[0]!['total_ret'] as number).toBeCloseTo(e['total_ret'] as number, 9);
      expect(ciz[0]!['dlret']).toBe(-0.3);
      expect(legacy[0]!['total_ret'] as number).toBeCloseTo(ciz[0]!['total_ret'] as number, 6);
    }
  });

  it('monthly: the delisting month is (1+mthret)(1-0.30)-1, or -0.30 without mthret', async () => {
    const expected = await sw.raw(`
      SELECT CAST(d.permno AS INTEGER) AS permno, CAST(d.delistingdt AS VARCHAR) AS dt,
        CASE WHEN m.mthret IS NULL THEN -0.30 ELSE (1 + CAST(m.mthret AS DOUBLE)) * 0.70 - 1 END AS total_ret
      FROM crsp_stkdelists d LEFT JOIN crsp_msf_v2 m ON m.permno = d.permno AND date_trunc('month', m.mthcaldt) = date_trunc('month', d.delistingdt)
      WHERE d.delret IS NULL AND d.delactiontype = 'DEL' ORDER BY 1`);
    for (const e of expected) {
      const rows = plain(await monthlyPrices(sw.wh.session, { permnos: [e['permno'] as number], ...monthOf(e['dt'] as string), format: 'ciz' }));
      expect(rows).toHaveLength(1);
      expect(rows[0]!['total_ret'] as number).toBeCloseTo(e['total_ret'] as number, 9);
    }
  });
});

/** Plain SQL: each delisting's month, with the compounded daily returns of that month and the delisting return applied. */
const DELISTING_MONTHS = `
  WITH d AS (
    SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS DATE) AS dlstdt, CAST(dlstcd AS INTEGER) AS dlstcd,
      CASE WHEN dlret IS NOT NULL THEN CAST(dlret AS DOUBLE) WHEN dlstcd = 500 OR dlstcd BETWEEN 520 AND 584 THEN -0.30 END AS dl
    FROM crsp_dsedelist WHERE dlstcd <> 100),
  m AS (
    SELECT d.permno, count(f.ret) AS n, exp(sum(ln(1 + CAST(f.ret AS DOUBLE)))) AS gross
    FROM d LEFT JOIN crsp_dsf f ON f.permno = d.permno AND date_trunc('month', f.date) = date_trunc('month', d.dlstdt) AND f.ret IS NOT NULL
    GROUP BY 1)
  SELECT d.permno, CAST(d.dlstdt AS VARCHAR) AS dlstdt, d.dlstcd, d.dl, m.n,
    CASE WHEN m.n = 0 THEN d.dl WHEN d.dl IS NULL THEN m.gross - 1 ELSE m.gross * (1 + d.dl) - 1 END AS expected
  FROM d JOIN m USING (permno) ORDER BY 1`;

describe('2. the delisting month: (1+ret)(1+dlret)-1 when the month has a return, dlret alone when it has none', () => {
  it('the sample has delisting months with price rows, on a price row, and without any', async () => {
    const rows = await sw.raw(`${DELISTING_MONTHS}`);
    expect(rows.some((r) => Number(r['n']) > 0)).toBe(true);
    expect(rows.some((r) => Number(r['n']) === 0)).toBe(true);
    const onPriceRow = await sw.raw(`SELECT count(*) AS n FROM crsp_dsedelist d JOIN crsp_dsf f ON f.permno = d.permno AND f.date = d.dlstdt WHERE d.dlstcd <> 100`);
    expect(Number(onPriceRow[0]!['n'])).toBeGreaterThan(0);
  });

  it('legacy and CIZ monthly total returns equal the month\'s compounded daily returns with the delisting return', async () => {
    const expected = await sw.raw(DELISTING_MONTHS);
    for (const e of expected) {
      const range = monthOf(e['dlstdt'] as string);
      const legacy = plain(await monthlyPrices(sw.wh.session, { permnos: [e['permno'] as number], ...range }));
      const ciz = plain(await monthlyPrices(sw.wh.session, { permnos: [e['permno'] as number], ...range, format: 'ciz' }));
      const want = e['expected'] as number | null;
      if (want === null) {
        // No return and no delisting return to apply: nothing to report for the month.
        expect(legacy.every((r) => r['total_ret'] === null)).toBe(true);
        continue;
      }
      expect(legacy, `legacy ${e['permno']} ${e['dlstdt']}`).toHaveLength(1);
      expect(Math.abs((legacy[0]!['total_ret'] as number) - want), `legacy ${e['permno']} ${e['dlstdt']}`).toBeLessThan(1e-6);
      expect(Math.abs((ciz[0]!['total_ret'] as number) - want), `ciz ${e['permno']} ${e['dlstdt']}`).toBeLessThan(1e-6);
    }
  });

  it('the delisting-month row shows no month-end price or market cap (it delisted before the month end)', async () => {
    const expected = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS VARCHAR) AS dlstdt FROM crsp_dsedelist WHERE dlstcd <> 100`);
    for (const e of expected) {
      for (const format of ['legacy', 'ciz'] as const) {
        const rows = plain(await monthlyPrices(sw.wh.session, { permnos: [e['permno'] as number], ...monthOf(e['dlstdt'] as string), format }));
        for (const r of rows) if ((r['date'] as string) > (e['dlstdt'] as string)) expect(r, `${format} ${e['permno']}`).toMatchObject({ price: null, market_cap: null });
      }
    }
  });
});

describe('3. a link in force on the last trading day covers the delisting', () => {
  /** Plain SQL: delisted permnos with a standard link in force on their last trading day (from dsf). */
  const LINKED_AT_LAST_TRADE = `
    WITH lt AS (SELECT CAST(permno AS INTEGER) AS permno, max(CAST(date AS DATE)) AS last_trade FROM crsp_dsf GROUP BY 1),
    d AS (SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS DATE) AS dlstdt FROM crsp_dsedelist WHERE dlstcd <> 100)
    SELECT d.permno, CAST(d.dlstdt AS VARCHAR) AS dlstdt, CAST(lt.last_trade AS VARCHAR) AS last_trade, l.gvkey
    FROM d JOIN lt USING (permno) JOIN crsp_ccmxpf_lnkhist l ON CAST(l.lpermno AS INTEGER) = d.permno
      AND l.linktype IN ('LU', 'LC') AND l.linkprim IN ('P', 'C') AND CAST(l.linkdt AS DATE) <= lt.last_trade
      AND lt.last_trade <= coalesce(CAST(l.linkenddt AS DATE), DATE '9999-12-31')
    ORDER BY 1`;

  it('fundamentals links on the delisting date and at the delisting month\'s end name the firm', async () => {
    const expected = await sw.raw(LINKED_AT_LAST_TRADE);
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(expected.some((e) => e['dlstdt'] !== e['last_trade'])).toBe(true);
    for (const e of expected) {
      for (const date of [e['dlstdt'] as string, monthOf(e['dlstdt'] as string).end]) {
        const got = plain(await linkAsOf(sw.wh.session, date, { permnos: [e['permno'] as number] }));
        expect(got.map((r) => r['gvkey']), `${e['permno']} on ${date}`).toEqual([e['gvkey']]);
      }
      // The day after the delisting month, nothing.
      const after = new Date(Date.parse(`${monthOf(e['dlstdt'] as string).end}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      expect(plain(await linkAsOf(sw.wh.session, after, { permnos: [e['permno'] as number] }))).toEqual([]);
    }
  });

  it('the monthly and daily merges keep every delisting return, with its gvkey', async () => {
    const expected = await sw.raw(LINKED_AT_LAST_TRADE);
    for (const e of expected) {
      const range = monthOf(e['dlstdt'] as string);
      const monthly = plain(await mergedPrices(sw.wh.session, { permnos: [e['permno'] as number], ...range }));
      const m = monthly.filter((r) => r['dlret'] !== null);
      const daily = plain(await mergedPrices(sw.wh.session, { permnos: [e['permno'] as number], ...range, frequency: 'daily' }));
      const dlrow = daily.filter((r) => r['date'] === e['dlstdt']);
      const raw = await sw.raw(`SELECT dlret, dlstcd FROM crsp_dsedelist WHERE permno = ${Number(e['permno'])}`);
      const applies = raw[0]!['dlret'] !== null || [500, ...Array.from({ length: 65 }, (_, i) => 520 + i)].includes(Number(raw[0]!['dlstcd']));
      if (!applies) continue;
      expect(m.map((r) => r['gvkey']), `monthly ${e['permno']}`).toEqual([e['gvkey']]);
      expect(dlrow.map((r) => r['gvkey']), `daily ${e['permno']}`).toEqual([e['gvkey']]);
    }
  });
});

describe('3 (CIZ only). without the legacy files, the CIZ delistings and names extend the links the same way', () => {
  it('linkAsOf on each delisting date names the same firms as in the full warehouse', async () => {
    const ciz = await buildSampleWarehouse({ seed: 1, scale: 1, fromYear: 2015, toYear: 2017 }, ['crsp_dsf_v2', 'crsp_stksecurityinfohist', 'crsp_stkdelists', 'crsp_ccmxpf_lnkhist']);
    try {
      const delistings = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS VARCHAR) AS d FROM crsp_dsedelist WHERE dlstcd <> 100 ORDER BY 1`);
      let linked = 0;
      for (const e of delistings) {
        for (const d of [e['d'] as string, monthOf(e['d'] as string).end]) {
          const full = plain(await linkAsOf(sw.wh.session, d, { permnos: [e['permno'] as number] })).map((r) => r['gvkey']);
          const only = plain(await linkAsOf(ciz.wh.session, d, { permnos: [e['permno'] as number] })).map((r) => r['gvkey']);
          expect(only, `${e['permno']} on ${d}`).toEqual(full);
          linked += full.length;
        }
      }
      expect(linked).toBeGreaterThan(0);
    } finally {
      await ciz.close();
    }
  });
});

describe('5. Compustat annual: one row per firm and fiscal year as of the market date', () => {
  it('a fiscal-year-end change makes fyear duplicates; as of a date the latest available datadate is kept', async () => {
    const STD = "indfmt = 'INDL' AND datafmt = 'STD' AND popsrc = 'D' AND consol = 'C'";
    const dups = await sw.raw(`SELECT gvkey, fyear FROM comp_funda WHERE ${STD} GROUP BY 1, 2 HAVING count(*) > 1`);
    expect(dups.length).toBeGreaterThan(0);
    for (const asOf of ['2016-06-30', '2016-12-31', '2017-12-31']) {
      const expected = await sw.raw(`SELECT gvkey, CAST(fyear AS INTEGER) AS fyear, CAST(max(CAST(datadate AS DATE)) AS VARCHAR) AS datadate FROM comp_funda
        WHERE ${STD} AND CAST(datadate AS DATE) + 90 <= DATE '${asOf}' GROUP BY 1, 2 ORDER BY 1, 3`);
      const got = plain(await annual(sw.wh.session, { asOfDate: asOf, items: ['at'] })).map((r) => ({ gvkey: r['gvkey'], fyear: Number(r['fyear']), datadate: r['datadate'] }));
      expect(got).toEqual(expected);
    }
    const fyrChanger = dups[0]!['gvkey'] as string;
    const one = plain(await annual(sw.wh.session, { asOfDate: '2017-12-31', gvkeys: [fyrChanger] }));
    expect(new Set(one.map((r) => r['fyear'])).size).toBe(one.length);
  });
});

describe('6. Compustat quarterly: once known, a quarter\'s fiscal labels never change', () => {
  it('fyr, fqtr and fyearq of every quarter are those first seen, at every later market date', async () => {
    const dupGvkeys = (await sw.raw(`SELECT DISTINCT gvkey FROM comp_fundq WHERE indfmt = 'INDL' AND datafmt = 'STD' AND popsrc = 'D' AND consol = 'C'
      GROUP BY gvkey, datadate HAVING count(*) > 1`)).map((r) => r['gvkey'] as string);
    expect(dupGvkeys.length).toBeGreaterThan(0);
    const first = new Map<string, string>();
    for (const d of sessions('2015-06-01', '2017-12-29').filter((_, i) => i % 4 === 0)) {
      for (const r of plain(await quarterly(sw.wh.session, { asOfDate: d, gvkeys: dupGvkeys }))) {
        const k = `${r['gvkey']} ${r['datadate']}`;
        const labels = `fyr ${r['fyr']} fqtr ${r['fqtr']} fyearq ${r['fyearq']}`;
        if (!first.has(k)) first.set(k, labels);
        expect(labels, `${k} as of ${d}`).toBe(first.get(k));
      }
    }
    // Hand-checked: each duplicated quarter reads the labels of the row first available (the earliest rdq; on a tie the newer fyr).
    const dup = await sw.raw(`SELECT gvkey, CAST(datadate AS VARCHAR) AS datadate, CAST(fyr AS INTEGER) AS fyr, CAST(rdq AS VARCHAR) AS rdq FROM comp_fundq
      WHERE gvkey IN (${dupGvkeys.map((g) => `'${g}'`).join(', ')}) AND indfmt = 'INDL' AND datafmt = 'STD' AND popsrc = 'D' AND consol = 'C' AND rdq IS NOT NULL
      QUALIFY count(*) OVER (PARTITION BY gvkey, datadate) > 1 ORDER BY gvkey, datadate, rdq, fyr DESC`);
    for (const r of dup) {
      const k = `${r['gvkey']} ${r['datadate']}`;
      const earliest = dup.find((x) => `${x['gvkey']} ${x['datadate']}` === k)!;
      if (r !== earliest || dup.filter((x) => `${x['gvkey']} ${x['datadate']}` === k && x['rdq'] === earliest['rdq']).length > 1) continue;
      expect(first.get(k)?.startsWith(`fyr ${earliest['fyr']} `), k).toBe(true);
    }
  });
});

describe('7. a market date outside what the warehouse holds is reported, not answered silently', () => {
  it('coverageWarnings names dates before the first and after the last daily row; none inside', async () => {
    const [range] = await sw.raw(`SELECT CAST(min(date) AS VARCHAR) AS first, CAST(max(date) AS VARCHAR) AS last FROM crsp_dsf`);
    const [w1] = await coverageWarnings(sw.wh.session, ['2014-12-31']);
    expect(w1).toContain('2014-12-31');
    expect(w1).toContain(`${range!['first']}..${range!['last']}`);
    expect(await coverageWarnings(sw.wh.session, ['2018-03-01'])).toHaveLength(1);
    expect(await coverageWarnings(sw.wh.session, ['2016-01-08', range!['first'] as string, range!['last'] as string])).toEqual([]);
    // The names history starts years before the daily file: the universe there is empty for want of data.
    const [names] = await sw.raw(`SELECT CAST(min(namedt) AS VARCHAR) AS first FROM crsp_dsenames`);
    expect((names!['first'] as string) < '2010-01-01').toBe(true);
    expect((await universe(sw.wh.session, '2014-12-31')).numRows).toBe(0);
  });

  it('wh universe --date 2014-12-31 warns on stderr (and still answers); a date inside does not warn', async () => {
    const before = await runWh(['universe', '--date', '2014-12-31', '--format', 'csv'], { warehouse: sw.dir });
    expect(before.code).toBe(0);
    expect(before.stderr).toMatch(/warning: market date 2014-12-31 is before the first day crsp_dsf holds/);
    const inside = await runWh(['universe', '--date', '2016-01-08', '--format', 'csv'], { warehouse: sw.dir });
    expect(inside.code).toBe(0);
    expect(inside.stderr).not.toMatch(/warning/);
    expect(inside.stdout.trim().split('\n').length).toBeGreaterThan(30);
  });
});

describe('4. wh fetch never splices two securities under one reused ticker', () => {
  it('returns one series per permno, each row with its permno and provider, and says so on stderr', async () => {
    const [reuse] = await sw.raw(`SELECT a.ticker, CAST(a.permno AS INTEGER) AS old, CAST(b.permno AS INTEGER) AS new,
        CAST(a.namedt AS VARCHAR) AS lo, CAST(b.nameendt AS VARCHAR) AS hi
      FROM crsp_dsenames a JOIN crsp_dsenames b ON a.ticker = b.ticker AND a.permno <> b.permno AND b.namedt > a.nameendt + 30 LIMIT 1`);
    expect(reuse).toBeDefined();
    const t = reuse!['ticker'] as string;
    const start = (reuse!['lo'] as string) < '2015-01-02' ? '2015-01-02' : (reuse!['lo'] as string);
    const r = await runWh(['fetch', '--symbols', t, '--start', start, '--end', reuse!['hi'] as string, '--format', 'csv'], { warehouse: sw.dir });
    expect(r.code).toBe(0);
    const [header, ...lines] = r.stdout.trim().split('\n');
    const cols = header!.split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    // Expected from the raw tables: each permno's dsf rows in the range (plus the old one's delisting row).
    const expected = await sw.raw(`SELECT CAST(permno AS INTEGER) AS permno, count(*) AS n FROM crsp_dsf
      WHERE permno IN (${reuse!['old']}, ${reuse!['new']}) AND date BETWEEN DATE '${start}' AND DATE '${reuse!['hi']}' GROUP BY 1 ORDER BY 1`);
    for (const e of expected) {
      const mine = rows.filter((x) => x['permno'] === String(e['permno']));
      expect(mine.length - Number(e['n'])).toBeGreaterThanOrEqual(0);
      expect(mine.length - Number(e['n'])).toBeLessThanOrEqual(1);
      expect(new Set(mine.map((x) => x['series']))).toEqual(new Set([`${t}@${e['permno']}`]));
      expect(new Set(mine.map((x) => x['provider']))).toEqual(new Set(['crsp']));
    }
    expect(rows).toHaveLength(rows.filter((x) => x['permno'] === String(reuse!['old']) || x['permno'] === String(reuse!['new'])).length);
    expect(r.stderr).toContain(`${t} named 2 securities`);
    expect(r.stderr).toContain(`permno ${reuse!['old']}`);
    expect(r.stderr).toContain(`permno ${reuse!['new']}`);
  });
});

describe('7 (fundamentals). a market date before any Compustat data is reported', () => {
  it('wh fundamentals quarterly --date before the first datadate warns; a covered date does not', async () => {
    const [f] = await sw.raw(`SELECT CAST(min(CAST(datadate AS DATE)) AS VARCHAR) AS first FROM comp_fundq`);
    const before = await runWh(['fundamentals', 'quarterly', '--date', '2005-01-03', '--format', 'csv'], { warehouse: sw.dir });
    expect(before.code).toBe(0);
    expect(before.stderr).toContain(`warning: market date 2005-01-03 is before the first datadate comp_fundq holds (${f!['first']}`);
    const inside = await runWh(['fundamentals', 'quarterly', '--date', '2016-06-30', '--format', 'csv'], { warehouse: sw.dir });
    expect(inside.stderr).not.toMatch(/warning/);
  });
});
