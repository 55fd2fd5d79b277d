import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSession, sessions } from '../../src/calendar/index.js';
import type { PgSession } from '../../src/dev/pg-server.js';
import {
  addColumn, appendDays, bumpVintage, changeColumnType, correctRow, dropColumn, generateWrdsSample, parseVintage,
} from '../../src/dev/wrds-sample/index.js';
import type { WrdsSampleResult } from '../../src/dev/wrds-sample/index.js';
import { createTestDatabase } from '../support/pg-test-database.js';
import type { TestDatabase } from '../support/pg-test-database.js';

type Col = { column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null; character_maximum_length: number | null };

async function columns(s: PgSession, table: string): Promise<Col[]> {
  const [schema, name] = table.split('.');
  return (await s.query<Col>(`SELECT column_name, data_type, numeric_precision, numeric_scale, character_maximum_length
    FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [schema, name])).rows;
}

/** 'numeric(11,5)', 'character varying(8)', 'double precision', ... as information_schema reports it. */
function typeOf(c: Col): string {
  if (c.data_type === 'numeric' && c.numeric_scale !== null) return `numeric(${c.numeric_precision},${c.numeric_scale})`;
  if (c.data_type === 'character varying') return `varchar(${c.character_maximum_length})`;
  return c.data_type;
}

async function one<T>(s: PgSession, sql: string, params: unknown[] = []): Promise<T> {
  return (await s.query<{ v: T }>(sql, params)).rows[0]?.v as T;
}

async function checksums(s: PgSession, result: WrdsSampleResult): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const t of result.tables) {
    sums[t.name] = await one<string>(s, `SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS v FROM ${t.name} x`);
  }
  return sums;
}

// The column lists of WRDS.md, in order.
const WRDS_COLUMNS: Record<string, string> = {
  'crsp.dsf': 'cusip permno permco issuno hexcd hsiccd date bidlo askhi prc vol ret bid ask shrout cfacpr cfacshr openprc numtrd retx',
  'crsp.msf': 'cusip permno permco issuno hexcd hsiccd date bidlo askhi prc vol ret bid ask shrout cfacpr cfacshr altprc spread altprcdt retx',
  'crsp.dsenames': 'permno namedt nameendt shrcd exchcd siccd ncusip ticker comnam shrcls tsymbol naics primexch trdstat secstat permco compno issuno hexcd hsiccd cusip',
  'crsp.msenames': 'permno namedt nameendt shrcd exchcd siccd ncusip ticker comnam shrcls tsymbol naics primexch trdstat secstat permco compno issuno hexcd hsiccd cusip',
  'crsp.dsedelist': 'permno permco dlstdt dlstcd nwperm nwcomp nextdt dlamt dlretx dlprc dlpdt dlret cusip',
  'crsp.dsi': 'date vwretd vwretx ewretd ewretx sprtrn spindx totval totcnt usdval usdcnt',
  'crsp.dsedist': 'permno distcd divamt facpr facshr dclrdt exdt paydt rcrddt acperm accomp',
  'crsp.ccmxpf_lnkhist': 'gvkey linkprim liid linktype lpermno lpermco linkdt linkenddt',
  'comp.company': 'gvkey conm cik sic naics state fic ipodate dldte dlrsn costat',
  'ff.factors_daily': 'date mktrf smb hml rf umd',
  'ff.factors_monthly': 'date mktrf smb hml rf umd dateff',
  'ff.fivefactors_daily': 'date mktrf smb hml rmw cma rf umd',
  'taqm_2024.ctm_20241231': 'date time_m time_m_nano ex sym_root sym_suffix tr_scond size price tr_stopind tr_corr tr_seqnum tr_source tr_rf',
  'taqm_2024.complete_nbbo_20241231': 'date time_m time_m_nano sym_root sym_suffix qu_cond natbbo_ind qu_source nbbo_qu_cond best_bid best_bidsizeshares best_ask best_asksizeshares',
  'taqm_2024.mastm_20241231': 'date sym_root sym_suffix symbol_15 cusip tape uot round_lot sec_type listed_exchange',
};
// Column lists WRDS.md gives as a prefix ('...').
const WRDS_PREFIX: Record<string, string> = {
  'crsp.stocknames': 'permno namedt nameenddt shrcd exchcd siccd ncusip ticker comnam',
  'crsp.dsf_v2': 'permno dlycaldt dlyprc dlyopen dlyhigh dlylow dlyvol shrout dlyret dlyretx dlyfacprc primaryexch siccd ticker',
  'crsp.msf_v2': 'permno mthcaldt mthret mthretx mthprc mthcap mthvol shrout siccd naics ticker primaryexch',
  'crsp.stksecurityinfohist': 'permno secinfostartdt secinfoenddt issuernm shareclass hdrcusip primaryexch tradingstatusflg naics siccd sharetype securitytype securitysubtype usincflg issuertype conditionaltype',
  'crsp.stkdelists': 'permno delistingdt delactiontype delstatustype delreasontype delpaymenttype delret',
  'comp.funda': 'gvkey datadate fyear indfmt consol popsrc datafmt tic cusip conm curcd fyr apdedate fdate pdate',
  'comp.fundq': 'gvkey datadate fyearq fqtr fyr rdq apdedateq datacqtr datafqtr atq ceqq ltq saleq niq ibq',
  'taqm_2024.cqm_20241231': 'date time_m time_m_nano ex sym_root sym_suffix bid bidsiz ask asksiz qu_cond qu_seqnum natbbo_ind qu_cancel qu_source',
};
// Types WRDS.md names.
const WRDS_TYPES: Record<string, Record<string, string>> = {
  'crsp.dsf': { cusip: 'varchar(8)', permno: 'integer', date: 'date', prc: 'numeric(11,5)', bidlo: 'numeric(11,5)', ret: 'numeric(10,6)', retx: 'numeric(10,6)', vol: 'numeric', shrout: 'numeric', numtrd: 'integer' },
  'crsp.msf': { prc: 'numeric(11,5)', ret: 'numeric(10,6)', altprcdt: 'date' },
  'crsp.msf_v2': { mthret: 'numeric(10,6)', mthcaldt: 'date' },
  'crsp.ccmxpf_lnkhist': { gvkey: 'varchar(6)', lpermno: 'double precision', lpermco: 'double precision', linkdt: 'date', linkenddt: 'date' },
  'taqm_2024.ctm_20241231': { time_m: 'time without time zone', time_m_nano: 'smallint', size: 'integer', price: 'double precision' },
};

describe('generateWrdsSample at scale 1', () => {
  let db: TestDatabase;
  let s: PgSession;
  let result: WrdsSampleResult;
  beforeAll(async () => {
    db = await createTestDatabase('wrds_sample');
    s = db.session;
    result = await generateWrdsSample(s, { seed: 1, scale: 1 });
  });
  afterAll(() => db.drop());

  it('loads every relation of WRDS.md, with rows', () => {
    const names = result.tables.map((t) => t.name);
    for (const t of ['crsp.dsf', 'crsp.msf', 'crsp.dsenames', 'crsp.msenames', 'crsp.stocknames', 'crsp.dsedelist', 'crsp.dsedist', 'crsp.dsi',
      'crsp.dsf_v2', 'crsp.msf_v2', 'crsp.stksecurityinfohist', 'crsp.stkdelists', 'crsp.ccmxpf_lnkhist', 'comp.funda', 'comp.fundq',
      'comp.company', 'ff.factors_daily', 'ff.factors_monthly', 'ff.fivefactors_daily', 'taqm_2024.ctm_20241231', 'taqm_2024.cqm_20241231',
      'taqm_2024.complete_nbbo_20241231']) expect(names).toContain(t);
    for (const t of result.tables) expect(t.rows, t.name).toBeGreaterThan(0);
    expect(result.permnos).toBe(50);
    expect(result.tables.find((t) => t.name === 'crsp.dsf')?.rows).toBeGreaterThan(80_000);
  });

  it('has WRDS.md columns, in order, with WRDS types (information_schema.columns)', async () => {
    for (const [table, list] of Object.entries(WRDS_COLUMNS)) {
      expect((await columns(s, table)).map((c) => c.column_name).join(' '), table).toBe(list);
    }
    for (const [table, list] of Object.entries(WRDS_PREFIX)) {
      const names = (await columns(s, table)).map((c) => c.column_name);
      expect(names.slice(0, list.split(' ').length).join(' '), table).toBe(list);
    }
    for (const [table, types] of Object.entries(WRDS_TYPES)) {
      const cols = new Map((await columns(s, table)).map((c) => [c.column_name, typeOf(c)]));
      for (const [col, type] of Object.entries(types)) expect(cols.get(col), `${table}.${col}`).toBe(type);
    }
    const funda = (await columns(s, 'comp.funda')).map((c) => c.column_name);
    for (const c of ['at', 'ceq', 'lt', 'sale', 'revt', 'ni', 'ib', 'txditc', 'pstk', 'pstkrv', 'pstkl', 'seq', 'cik', 'costat', 'fic', 'naicsh', 'sich', 'prcc_f', 'csho']) {
      expect(funda).toContain(c);
    }
  });

  it('serves some relations as views over a vendor schema, as WRDS does', async () => {
    const kinds = await s.query<{ table_schema: string; table_name: string; table_type: string }>(
      "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_name IN ('dsf', 'dsenames', 'funda')");
    const kind = (schema: string, name: string): string | undefined =>
      kinds.rows.find((r) => r.table_schema === schema && r.table_name === name)?.table_type;
    expect(kind('crsp', 'dsf')).toBe('VIEW');
    expect(kind('crsp_a_stock', 'dsf')).toBe('BASE TABLE');
    expect(kind('comp', 'funda')).toBe('VIEW');
  });

  it('puts a vintage in every relation comment, in both forms', async () => {
    const forms = new Set<string>();
    for (const t of result.tables) {
      const comment = await one<string | null>(s, "SELECT obj_description(to_regclass($1), 'pg_class') AS v", [t.name]);
      const vintage = parseVintage(comment);
      expect(vintage, `${t.name}: ${comment}`).not.toBeNull();
      expect(vintage?.date).toBe('2025-02-08');
      forms.add(vintage?.form ?? '');
    }
    expect([...forms].sort()).toEqual(['modified', 'updated']);
    expect(await one(s, "SELECT obj_description('crsp.dsf'::regclass, 'pg_class') AS v")).toBe('Daily Stock - Securities (Updated 2025-02-08)');
    expect(await one(s, "SELECT obj_description('comp.funda'::regclass, 'pg_class') AS v")).toBe('Last modified: 02/08/2025 02:00:00');
  });

  it('dates crsp.dsf by NYSE sessions, all of them', async () => {
    const dates = (await s.query<{ date: string }>('SELECT DISTINCT date FROM crsp.dsf ORDER BY date')).rows.map((r) => r.date);
    expect(dates.every(isSession)).toBe(true);
    expect(dates).toEqual(sessions('2015-01-01', '2024-12-31'));
  });

  it('has negative prices, NULL returns, and fat-tailed returns that follow the prices', async () => {
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsf WHERE prc < 0'))).toBeGreaterThan(100);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsf WHERE ret IS NULL'))).toBeGreaterThan(10);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsf WHERE prc IS NULL'))).toBeGreaterThan(0);
    // prc = 0: no close and no bid/ask (missing, never zero), as CRSP writes it on some days.
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsf WHERE prc = 0 AND ret IS NULL'))).toBeGreaterThan(0);
    const stats = (await s.query<{ sd: number; kurt: number }>(`WITH r AS (SELECT ret::float8 AS x FROM crsp.dsf WHERE ret IS NOT NULL),
      m AS (SELECT avg(x) AS mu, stddev(x) AS sd FROM r) SELECT m.sd, avg(((x - mu) / sd) ^ 4) AS kurt FROM r, m GROUP BY m.sd`)).rows[0];
    expect(stats?.sd).toBeGreaterThan(0.01);
    expect(stats?.sd).toBeLessThan(0.06);
    expect(stats?.kurt).toBeGreaterThan(4);
    const mismatches = await one<string>(s, `SELECT count(*) AS v FROM (
        SELECT permno, date, ret, retx, abs(prc) / nullif(abs(lag(prc) OVER w), 0) - 1 AS implied, nullif(lag(prc) OVER w, 0) AS prev FROM crsp.dsf WINDOW w AS (PARTITION BY permno ORDER BY date)) x
      WHERE prev IS NOT NULL AND retx IS NOT NULL AND abs(retx - implied) > 1e-5
        AND NOT EXISTS (SELECT 1 FROM crsp.dsedist d WHERE d.permno = x.permno AND d.exdt = x.date)`);
    expect(Number(mismatches)).toBe(0);
  });

  it('has IPOs mid-sample and delistings with and without dlret', async () => {
    expect(Number(await one(s, "SELECT count(*) AS v FROM (SELECT permno FROM crsp.dsf GROUP BY permno HAVING min(date) > '2015-01-02') x"))).toBeGreaterThanOrEqual(6);
    const codes = (await s.query<{ dlstcd: number; dlret: string | null }>('SELECT dlstcd, dlret FROM crsp.dsedelist')).rows;
    expect(codes.filter((c) => c.dlstcd === 100).length).toBeGreaterThan(30);
    expect(codes.some((c) => c.dlstcd === 500 && c.dlret === null)).toBe(true);
    expect(codes.some((c) => c.dlstcd >= 520 && c.dlstcd <= 584 && c.dlret === null)).toBe(true);
    expect(codes.some((c) => c.dlstcd >= 520 && c.dlstcd <= 584 && c.dlret !== null)).toBe(true);
    expect(codes.some((c) => c.dlstcd >= 200 && c.dlstcd < 300 && c.dlret !== null)).toBe(true);
    // A missing dlret with a non-performance code (a cash merger): no Shumway applies.
    expect(codes.some((c) => c.dlstcd >= 200 && c.dlstcd < 300 && c.dlret === null)).toBe(true);
    const delisted = Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsedelist WHERE dlstcd <> 100'));
    // CIZ: the delisting return sits in dlyret on the delisting date (one flagged row per delisting) and in the month's mthret.
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.dsf_v2 WHERE dlydelflg = 'Y'"))).toBe(delisted);
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.msf_v2 WHERE mthdelflg = 'Y'"))).toBe(delisted);
    // Legacy msf keeps the delisting month when the security traded in it (prc 0, altprc = the last price) ...
    const traded = Number(await one(s, `SELECT count(*) AS v FROM crsp.dsedelist d WHERE dlstcd <> 100 AND EXISTS (SELECT 1 FROM crsp.dsf f
      WHERE f.permno = d.permno AND date_trunc('month', f.date) = date_trunc('month', d.dlstdt))`));
    expect(traded).toBeGreaterThan(0);
    expect(Number(await one(s, `SELECT count(*) AS v FROM crsp.dsedelist d JOIN crsp.msf m ON m.permno = d.permno
      AND date_trunc('month', m.date) = date_trunc('month', d.dlstdt) WHERE dlstcd <> 100 AND m.prc = 0 AND m.altprc IS NOT NULL AND m.ret IS NOT NULL`))).toBe(traded);
    // ... and has no row for a delisting month without trading; some delistings fall on a trading day.
    expect(delisted - traded).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsedelist d JOIN crsp.dsf f ON f.permno = d.permno AND f.date = d.dlstdt WHERE dlstcd <> 100'))).toBeGreaterThan(0);
  });

  it('reuses a ticker for another permno later, and changes tickers, share and exchange codes', async () => {
    const reused = (await s.query<{ ticker: string; a: number; a_end: string; b: number; b_start: string }>(`
      SELECT x.ticker, x.permno AS a, x.nameendt AS a_end, y.permno AS b, y.namedt AS b_start
        FROM crsp.dsenames x JOIN crsp.dsenames y ON x.ticker = y.ticker AND x.permno <> y.permno AND x.nameendt < y.namedt`)).rows;
    expect(reused.length).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM (SELECT permno FROM crsp.dsenames GROUP BY permno HAVING count(DISTINCT ticker) > 1) x'))).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM (SELECT permno FROM crsp.dsenames GROUP BY permno HAVING count(DISTINCT exchcd) > 1) x'))).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM (SELECT permno FROM crsp.dsenames GROUP BY permno HAVING count(DISTINCT shrcd) > 1) x'))).toBeGreaterThan(0);
  });

  it('adjusts for splits with cfacpr/cfacshr equal to 1 on the last date', async () => {
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.dsedist WHERE distcd = 5523"))).toBeGreaterThanOrEqual(3);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.dsf WHERE cfacpr <> 1'))).toBeGreaterThan(0);
    expect(Number(await one(s, `SELECT count(*) AS v FROM crsp.dsf d WHERE date = (SELECT max(date) FROM crsp.dsf e WHERE e.permno = d.permno)
      AND (cfacpr <> 1 OR cfacshr <> 1)`))).toBe(0);
    // cfacpr before a split = (1 + facpr) × cfacpr after it.
    const bad = await one<string>(s, `SELECT count(*) AS v FROM crsp.dsedist x
      JOIN crsp.dsf a ON a.permno = x.permno AND a.date = x.exdt
      JOIN crsp.dsf b ON b.permno = x.permno AND b.date = (SELECT max(date) FROM crsp.dsf c WHERE c.permno = x.permno AND c.date < x.exdt)
      WHERE x.distcd = 5523 AND abs(b.cfacpr - a.cfacpr * (1 + x.facpr)) > 1e-6`);
    expect(Number(bad)).toBe(0);
  });

  it('has Compustat traps: FS/SUMM_STD rows, fyr duplicates in fundq, missing rdq, preliminary quarters', async () => {
    expect(Number(await one(s, "SELECT count(*) AS v FROM comp.funda WHERE indfmt <> 'INDL' OR datafmt <> 'STD'"))).toBeGreaterThan(0);
    expect(Number(await one(s, `SELECT count(*) AS v FROM (SELECT gvkey, datadate FROM comp.funda WHERE indfmt = 'INDL' AND datafmt = 'STD'
      AND popsrc = 'D' AND consol = 'C' GROUP BY 1, 2 HAVING count(*) > 1) x`))).toBe(0);
    const dups = await s.query<{ gvkey: string; datadate: string; fyrs: number }>(
      "SELECT gvkey, datadate, count(DISTINCT fyr)::int AS fyrs FROM comp.fundq WHERE indfmt = 'INDL' AND datafmt = 'STD' AND popsrc = 'D' AND consol = 'C' GROUP BY 1, 2 HAVING count(*) > 1");
    expect(dups.rows.length).toBeGreaterThanOrEqual(2);
    expect(dups.rows.every((r) => r.fyrs === 2)).toBe(true);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM comp.fundq WHERE rdq IS NULL'))).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM comp.fundq WHERE updq = 2'))).toBeGreaterThan(0);
  });

  it('has CCM links that open and close, with lpermno matching CRSP permnos', async () => {
    expect(Number(await one(s, 'SELECT count(*) AS v FROM crsp.ccmxpf_lnkhist WHERE linkenddt IS NULL'))).toBeGreaterThan(30);
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.ccmxpf_lnkhist WHERE linkenddt IS NOT NULL AND linktype IN ('LU', 'LC')"))).toBeGreaterThan(5);
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.ccmxpf_lnkhist WHERE linktype NOT IN ('LU', 'LC') OR linkprim NOT IN ('P', 'C')"))).toBeGreaterThan(0);
    expect(Number(await one(s, `SELECT count(*) AS v FROM crsp.ccmxpf_lnkhist l WHERE lpermno IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM crsp.dsenames n WHERE n.permno = l.lpermno)`))).toBe(0);
  });

  it('has TAQ days with an early close, corrections, cancels and a complete NBBO', async () => {
    expect(result.taqDays).toContain('2024-12-24');
    expect(Number(await one(s, "SELECT count(*) AS v FROM taqm_2024.ctm_20241224 WHERE time_m > '13:00' AND tr_scond <> 'T'"))).toBe(0);
    expect(Number(await one(s, "SELECT count(*) AS v FROM taqm_2024.ctm_20241231 WHERE time_m > '15:00' AND time_m < '16:00'"))).toBeGreaterThan(0);
    expect(Number(await one(s, "SELECT count(*) AS v FROM taqm_2024.ctm_20241231 WHERE tr_corr <> '00'"))).toBeGreaterThan(0);
    expect(Number(await one(s, "SELECT count(*) AS v FROM taqm_2024.cqm_20241231 WHERE qu_cancel = 'B'"))).toBeGreaterThan(0);
    expect(Number(await one(s, 'SELECT count(*) AS v FROM taqm_2024.complete_nbbo_20241231 WHERE best_bid > best_ask'))).toBe(0);
    const close = await s.query<{ ok: boolean }>(`SELECT abs(t.price - abs(d.prc)) / abs(d.prc) < 0.05 AS ok
      FROM (SELECT DISTINCT ON (sym_root) sym_root, price FROM taqm_2024.ctm_20241231 WHERE time_m < '16:00' ORDER BY sym_root, time_m DESC) t
      JOIN crsp.dsenames n ON n.ticker = t.sym_root AND '2024-12-31' BETWEEN n.namedt AND n.nameendt
      JOIN crsp.dsf d ON d.permno = n.permno AND d.date = '2024-12-31'`);
    expect(close.rows.length).toBeGreaterThan(10);
    expect(close.rows.every((r) => r.ok)).toBe(true);
  });
});

describe('small samples: determinism and the mutation helpers', () => {
  const small = { scale: 1, fromYear: 2021, toYear: 2023, taqDays: 1, taqSymbols: 8 };
  const dbs: TestDatabase[] = [];
  const sums: Record<string, string>[] = [];
  let s: PgSession;
  beforeAll(async () => {
    for (const seed of [5, 5, 6]) {
      const db = await createTestDatabase(`wrds_small_${seed}`);
      dbs.push(db);
      sums.push(await checksums(db.session, await generateWrdsSample(db.config, { seed, ...small })));
    }
    s = (dbs[0] as TestDatabase).session; // the mutation tests change this one, after the checksums above
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('gives identical tables for the same seed and different ones for another seed', () => {
    const [a, b, c] = sums as [Record<string, string>, Record<string, string>, Record<string, string>];
    expect(Object.keys(a).length).toBeGreaterThanOrEqual(24);
    expect(b).toEqual(a);
    for (const t of ['crsp.dsf', 'crsp.msf', 'crsp.dsf_v2', 'comp.fundq', 'ff.factors_daily', 'crsp.ccmxpf_lnkhist']) expect(c[t], t).not.toBe(a[t]);
  });

  it('appendDays adds the next sessions to the daily relations, continuing each listed permno', async () => {
    const listed = Number(await one(s, "SELECT count(*) AS v FROM crsp.dsf WHERE date = '2023-12-29' AND prc IS NOT NULL"));
    const { days, tables } = await appendDays(s, { seed: 5, count: 2, vintage: '2024-01-05' });
    expect(days).toEqual(['2024-01-02', '2024-01-03']);
    expect(tables.find((t) => t.name === 'crsp.dsf')?.rows).toBe(listed * 2);
    expect(tables.find((t) => t.name === 'crsp.dsi')?.rows).toBe(2);
    expect(await one(s, 'SELECT max(dlycaldt)::text AS v FROM crsp.dsf_v2')).toBe('2024-01-03');
    expect(await one(s, 'SELECT max(date)::text AS v FROM ff.factors_daily')).toBe('2024-01-03');
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.dsf WHERE date = '2024-01-02' AND (ret IS NULL OR cfacpr <> 1)"))).toBe(0);
    expect(await one(s, "SELECT obj_description('crsp.dsf'::regclass, 'pg_class') AS v")).toBe('Daily Stock - Securities (Updated 2024-01-05)');
  });

  it('correctRow overwrites one row through the view and reports the count', async () => {
    const key = { permno: Number(await one(s, 'SELECT min(permno) AS v FROM crsp.dsf')), date: '2022-06-01' };
    expect(await correctRow(s, 'crsp.dsf', key, { prc: 123.45, ret: 0.5 })).toBe(1);
    const row = (await s.query<{ prc: string; ret: string }>('SELECT prc, ret FROM crsp.dsf WHERE permno = $1 AND date = $2', [key.permno, key.date])).rows[0];
    expect(row).toEqual({ prc: '123.45000', ret: '0.500000' });
    expect(await correctRow(s, 'crsp.dsf', { permno: -1, date: '2022-06-01' }, { prc: 1 })).toBe(0);
  });

  it('bumpVintage rewrites either comment form', async () => {
    expect((await bumpVintage(s, 'crsp.msf', '2025-03-15')).after).toBe('Monthly Stock - Securities (Updated 2025-03-15)');
    expect((await bumpVintage(s, 'comp.fundq', '2025-03-15')).after).toBe('Last modified: 03/15/2025 02:00:00');
  });

  it('addColumn, changeColumnType and dropColumn reshape a view and keep its comment; appending still works', async () => {
    const comment = await one(s, "SELECT obj_description('crsp.dsf'::regclass, 'pg_class') AS v");
    await addColumn(s, 'crsp.dsf', 'dlyflag', 'varchar(2)', 'X');
    await changeColumnType(s, 'crsp.dsf', 'prc', 'double precision');
    await dropColumn(s, 'crsp.dsf', 'numtrd');
    const cols = await columns(s, 'crsp.dsf');
    expect(cols.at(-1)?.column_name).toBe('dlyflag');
    expect(cols.find((c) => c.column_name === 'prc')?.data_type).toBe('double precision');
    expect(cols.some((c) => c.column_name === 'numtrd')).toBe(false);
    expect(await one(s, "SELECT obj_description('crsp.dsf'::regclass, 'pg_class') AS v")).toBe(comment);
    expect(await one(s, "SELECT count(DISTINCT dlyflag)::int AS v FROM crsp.dsf")).toBe(1);
    await changeColumnType(s, 'ff.factors_daily', 'mktrf', 'numeric(8,4)');
    expect(typeOf((await columns(s, 'ff.factors_daily'))[1] as Col)).toBe('numeric(8,4)');
    const { tables } = await appendDays(s, { seed: 5, count: 1, tables: ['crsp.dsf', 'ff.factors_daily'] });
    expect(tables.map((t) => t.rows).every((n) => n > 0)).toBe(true);
    expect(Number(await one(s, "SELECT count(*) AS v FROM crsp.dsf WHERE date = '2024-01-04' AND dlyflag IS NULL"))).toBeGreaterThan(0);
  });
});
