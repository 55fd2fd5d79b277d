/**
 * A small, explicit CRSP + Compustat world for the provider tests, written as CSV files with WRDS
 * column names and ingested with `ingestFile` under the catalogue's dataset names. Every security
 * and firm below exists to exercise one DATA-RULES rule, named beside it. Sessions run
 * 2019-12-02..2020-03-31 (the CRSP "release end" is 2020-03-31).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { DateDay, type Table } from 'apache-arrow';
import { join } from 'node:path';
import { sessions } from '../../src/calendar/index.js';
import type { EventLog } from '../../src/log/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { tempDir } from './wh-cli.js';

export const FIRST = '2019-12-02';
export const RELEASE_END = '2020-03-31';
export const SESSIONS = sessions(FIRST, RELEASE_END);

/** Permnos, one per rule. */
export const P = {
  /** Negative prices (midpoint 01-03), prc 0 (01-06) and NULL (01-07), NULL ret (01-06..01-08), a vendor gap (01-09). */
  NEG: 10001,
  /** Delisting with dlret (code 231, +10%) on a date with a price row: combined (1+ret)(1+dlret)-1. */
  DLA: 10002,
  /** Delisting code 552, dlret missing: Shumway -30%; no row on the delisting date, none in its month (msf). */
  DLB: 10003,
  /** Delisting code 500, dlret missing, on a date with a price row: (1+ret)(1-0.30)-1. */
  DLC: 10004,
  /** Delisting code 331, dlret missing: not a Shumway code, nothing added. */
  DLD: 10005,
  /** Ticker OLD until its delisting (2020-01-13)... */
  OLD1: 10006,
  /** ...then OLD again from 2020-02-03 for another security (tickers are not identities). */
  OLD2: 10007,
  /** exchcd 1 until 2020-01-31, then 4 (leaves the universe): screen from the names history. */
  XCH: 10008,
  /** shrcd 12 until 2020-01-31, then 10 (enters the universe). */
  SHR: 10009,
  /** Names record from 2020-01-27, first trade 2020-02-03: not in the universe before its first trading date. */
  IPO: 10010,
  /** 2:1 split effective 2020-01-10: cfacpr 2 before, 1 from then on. */
  SPL: 10011,
} as const;

export interface Delisting {
  readonly dlstdt: string;
  readonly dlstcd: number;
  readonly dlret: number | null;
  /** CIZ: the delisting return CRSP folded into dlyret (a distinct value, to catch double counting). */
  readonly cizRet: number | null;
}

export interface NameSpell {
  readonly namedt: string;
  readonly nameendt: string;
  readonly ticker: string;
  readonly shrcd: number;
  readonly exchcd: number;
}

export interface Sec {
  readonly permno: number;
  readonly first: string;
  readonly last: string;
  readonly price: number;
  readonly names: readonly NameSpell[];
  readonly delisting?: Delisting;
  readonly split?: { readonly date: string; readonly ratio: number };
  /** Per-date overrides of the generated prc/ret; `skip` leaves the row out (a vendor gap). */
  readonly overrides?: Readonly<Record<string, { prc?: number | null; ret?: number | null; skip?: boolean }>>;
}

const name = (ticker: string, namedt: string, nameendt: string, shrcd = 11, exchcd = 1): NameSpell => ({ ticker, namedt, nameendt, shrcd, exchcd });

export const SECURITIES: readonly Sec[] = [
  {
    permno: P.NEG, first: FIRST, last: RELEASE_END, price: 10, names: [name('NEG', FIRST, RELEASE_END)],
    overrides: { '2020-01-03': { prc: -10.5 }, '2020-01-06': { prc: 0, ret: null }, '2020-01-07': { prc: null, ret: null }, '2020-01-08': { ret: null }, '2020-01-09': { skip: true } },
  },
  { permno: P.DLA, first: FIRST, last: '2020-01-15', price: 20, names: [name('DLA', FIRST, '2020-01-15')], delisting: { dlstdt: '2020-01-15', dlstcd: 231, dlret: 0.1, cizRet: 0.122 }, overrides: { '2020-01-15': { ret: 0.02 } } },
  { permno: P.DLB, first: FIRST, last: '2020-01-17', price: 30, names: [name('DLB', FIRST, '2020-01-17', 11, 3)], delisting: { dlstdt: '2020-01-21', dlstcd: 552, dlret: null, cizRet: -0.25 } },
  { permno: P.DLC, first: FIRST, last: '2020-01-24', price: 40, names: [name('DLC', FIRST, '2020-01-24', 10, 2)], delisting: { dlstdt: '2020-01-24', dlstcd: 500, dlret: null, cizRet: -0.286 }, overrides: { '2020-01-24': { ret: 0.02 } } },
  { permno: P.DLD, first: FIRST, last: '2020-01-28', price: 50, names: [name('DLD', FIRST, '2020-01-28')], delisting: { dlstdt: '2020-01-29', dlstcd: 331, dlret: null, cizRet: null } },
  { permno: P.OLD1, first: FIRST, last: '2020-01-10', price: 60, names: [name('OLD', FIRST, '2020-01-10')], delisting: { dlstdt: '2020-01-13', dlstcd: 231, dlret: 0.05, cizRet: 0.05 } },
  { permno: P.OLD2, first: '2020-02-03', last: RELEASE_END, price: 70, names: [name('OLD', '2020-02-03', RELEASE_END)] },
  { permno: P.XCH, first: FIRST, last: RELEASE_END, price: 80, names: [name('XCH', FIRST, '2020-01-31', 11, 1), name('XCH', '2020-02-01', RELEASE_END, 11, 4)] },
  { permno: P.SHR, first: FIRST, last: RELEASE_END, price: 90, names: [name('SHR', FIRST, '2020-01-31', 12, 2), name('SHRX', '2020-02-01', RELEASE_END, 10, 2)] },
  { permno: P.IPO, first: '2020-02-03', last: RELEASE_END, price: 15, names: [name('IPO', '2020-01-27', RELEASE_END, 11, 3)] },
  { permno: P.SPL, first: FIRST, last: RELEASE_END, price: 100, names: [name('SPL', FIRST, RELEASE_END)], split: { date: '2020-01-10', ratio: 2 } },
];

/** One dsf row as the fixture generates it. */
export interface DailyRow {
  readonly permno: number;
  readonly date: string;
  readonly prc: number | null;
  readonly ret: number | null;
  readonly shrout: number;
  readonly cfacpr: number;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The dsf rows of one security: a gentle deterministic drift, the split, then the overrides. */
export function dailyRows(sec: Sec): DailyRow[] {
  const out: DailyRow[] = [];
  let prev: number | null = null;
  for (const [i, date] of SESSIONS.filter((d) => d >= sec.first && d <= sec.last).entries()) {
    const o = sec.overrides?.[date];
    if (o?.skip === true) continue;
    const before = sec.split !== undefined && date < sec.split.date;
    const ratio = sec.split?.ratio ?? 1;
    const raw = Math.round(sec.price * (1 + 0.002 * ((i % 7) - 3)) * 100) / 100;
    const prc = o?.prc !== undefined ? o.prc : before || sec.split === undefined ? raw : raw / ratio;
    const level = prc === null || prc === 0 ? null : Math.abs(prc) * (before || sec.split === undefined ? 1 : ratio);
    const ret = o?.ret !== undefined ? o.ret : prev === null || level === null ? null : r6(level / prev - 1);
    out.push({ permno: sec.permno, date, prc, ret, shrout: before ? 1000 : 1000 * (sec.split === undefined ? 1 : ratio), cfacpr: before ? ratio : 1 });
    if (level !== null) prev = level;
  }
  return out;
}

const cell = (v: string | number | null | undefined): string => (v === null || v === undefined ? '' : String(v));
const num = (v: number | null): string => (v === null ? '' : v.toFixed(6));

/** Write a CSV file (header + rows) and return its path. */
export function writeCsv(dir: string, file: string, header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n');
  return path;
}

export const DSF_HEADER = ['cusip', 'permno', 'permco', 'date', 'bidlo', 'askhi', 'prc', 'vol', 'ret', 'bid', 'ask', 'shrout', 'cfacpr', 'cfacshr', 'openprc', 'retx'];
export function dsfCsvRow(r: DailyRow): (string | number | null)[] {
  const p = r.prc === null || r.prc === 0 ? null : Math.abs(r.prc);
  return [`C${r.permno}`, r.permno, r.permno + 40000, r.date, num(p === null ? null : p * 0.99), num(p === null ? null : p * 1.01), num(r.prc), num(1000.5), num(r.ret),
    num(p === null ? null : p - 0.05), num(p === null ? null : p + 0.05), num(r.shrout), num(r.cfacpr), num(r.cfacpr), num(p), num(r.ret)];
}

const NAMES_HEADER = ['permno', 'namedt', 'nameendt', 'shrcd', 'exchcd', 'ticker', 'comnam', 'permco'];
const DELIST_HEADER = ['permno', 'permco', 'dlstdt', 'dlstcd', 'dlret'];

/** Monthly rows: the month's last session the security traded, with an explicit monthly ret. */
export const MONTHLY_RET = 0.03;
function monthlyRows(sec: Sec): (string | number | null)[][] {
  const rows = dailyRows(sec);
  const byMonth = new Map<string, DailyRow>();
  for (const r of rows) byMonth.set(r.date.slice(0, 7), r);
  const monthEnds = new Map<string, string>();
  for (const s of SESSIONS) monthEnds.set(s.slice(0, 7), s);
  const out: (string | number | null)[][] = [];
  for (const [month, last] of byMonth) {
    // DLB (code 552) has no row in its delisting month: CRSP shows no ret there (the added-row case).
    if (sec.permno === P.DLB && month === '2020-01') continue;
    const p = last.prc === null ? null : Math.abs(last.prc);
    out.push([`C${sec.permno}`, sec.permno, sec.permno + 40000, monthEnds.get(month)!, num(p === null ? null : p * 0.9), num(p === null ? null : p * 1.1), num(last.prc), num(21000.5), num(MONTHLY_RET), num(last.shrout), num(last.cfacpr), num(MONTHLY_RET)]);
  }
  return out;
}

const ciz = (exchcd: number): string => ({ 1: 'N', 2: 'A', 3: 'Q' })[exchcd] ?? 'X';

/** dsf_v2 rows: delisting returns already inside dlyret (a row on the delisting date, added if needed). */
function cizRows(sec: Sec): (string | number | null)[][] {
  const out = dailyRows(sec).map((r) => {
    const del = sec.delisting?.dlstdt === r.date ? sec.delisting : undefined;
    const ret = del?.cizRet !== undefined && del.cizRet !== null ? del.cizRet : r.ret;
    const flag = r.prc === null || r.prc === 0 ? null : r.prc < 0 ? 'BA' : 'TR';
    const p = r.prc === null || r.prc === 0 ? null : Math.abs(r.prc);
    return [sec.permno, r.date, num(p), num(p), num(p === null ? null : p * 1.01), num(p === null ? null : p * 0.99), num(ret), num(r.shrout), num(r.cfacpr), num(1000.5), flag, del === undefined ? 'N' : 'Y', sec.names[0]!.ticker];
  });
  const d = sec.delisting;
  if (d !== undefined && d.dlstdt > sec.last && d.cizRet !== null) out.push([sec.permno, d.dlstdt, null, null, null, null, num(d.cizRet), num(1000), num(1), null, null, 'Y', sec.names.at(-1)!.ticker]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compustat

/** gvkeys, one per rule. */
export const G = {
  /** Linked to NEG; annual rows with FS and SUMM_STD duplicates (excluded); quarters with and without rdq; restated in v2. */
  BASE: '000101',
  /** Fiscal-year-end change 12 -> 6 in 2020: quarters 2020-03-31 and 2020-06-30 appear under both fyr. */
  FYR: '000102',
} as const;

const FUNDA_HEADER = ['gvkey', 'datadate', 'fyear', 'indfmt', 'consol', 'popsrc', 'datafmt', 'tic', 'conm', 'fyr', 'at', 'ceq', 'ni'];
const FUNDA_ROWS: (string | number | null)[][] = [
  [G.BASE, '2018-12-31', num(2018), 'INDL', 'C', 'D', 'STD', 'NEG', 'NEG CORP', num(12), num(100), num(40), num(5)],
  [G.BASE, '2019-12-31', num(2019), 'INDL', 'C', 'D', 'STD', 'NEG', 'NEG CORP', num(12), num(110), num(44), num(6)],
  [G.BASE, '2019-12-31', num(2019), 'FS', 'C', 'D', 'STD', 'NEG', 'NEG CORP', num(12), num(999), num(999), num(999)],
  [G.BASE, '2019-12-31', num(2019), 'INDL', 'C', 'D', 'SUMM_STD', 'NEG', 'NEG CORP', num(12), num(888), num(888), num(888)],
  [G.FYR, '2019-12-31', num(2019), 'INDL', 'C', 'D', 'STD', 'XCH', 'FYR INC', num(12), num(200), num(80), num(9)],
];

const FUNDQ_HEADER = ['gvkey', 'datadate', 'fyearq', 'fqtr', 'fyr', 'rdq', 'indfmt', 'consol', 'popsrc', 'datafmt', 'tic', 'conm', 'atq', 'niq'];
/** `niq` of BASE 2019-12-31 in the first pull; the second pull restates it to {@link RESTATED_NIQ}. */
export const FIRST_NIQ = 10;
export const RESTATED_NIQ = 12;
function fundqRows(niq: number): (string | number | null)[][] {
  const q = (gvkey: string, datadate: string, fyearq: number, fqtr: number, fyr: number, rdq: string | null, atq: number, n: number) =>
    [gvkey, datadate, num(fyearq), num(fqtr), num(fyr), rdq, 'INDL', 'C', 'D', 'STD', gvkey === G.BASE ? 'NEG' : 'XCH', 'X', num(atq), num(n)];
  return [
    // rdq Thursday 2019-10-24 -> usable Friday 2019-10-25.
    q(G.BASE, '2019-09-30', 2019, 3, 12, '2019-10-24', 100, 3),
    // rdq Friday 2020-01-17 -> Monday 01-20 is MLK day -> usable Tuesday 2020-01-21.
    q(G.BASE, '2019-12-31', 2019, 4, 12, '2020-01-17', 110, niq),
    // No rdq -> datadate + lag (90 days: 2020-06-29).
    q(G.BASE, '2020-03-31', 2020, 1, 12, null, 120, 4),
    q(G.BASE, '2019-12-31', 2019, 4, 12, '2020-01-17', 110, 777).map((v, i) => (i === 6 ? 'FS' : v)),
    q(G.FYR, '2019-12-31', 2019, 4, 12, '2020-02-10', 200, 9),
    q(G.FYR, '2020-03-31', 2020, 1, 12, '2020-04-20', 210, 1),
    q(G.FYR, '2020-03-31', 2020, 3, 6, '2020-04-20', 210, 2),
    q(G.FYR, '2020-06-30', 2020, 2, 12, '2020-07-20', 220, 3),
    q(G.FYR, '2020-06-30', 2020, 4, 6, '2020-07-20', 220, 4),
    q(G.FYR, '2020-09-30', 2021, 1, 6, '2020-10-20', 230, 5),
  ];
}

const LINK_HEADER = ['gvkey', 'linkprim', 'liid', 'linktype', 'lpermno', 'lpermco', 'linkdt', 'linkenddt'];
const LINK_ROWS: (string | number | null)[][] = [
  [G.BASE, 'P', '01', 'LC', num(P.NEG), num(50001), '2019-01-01', null],
  // Link closing 2020-01-31 and another opening 2020-02-01 for the same gvkey.
  [G.FYR, 'C', '01', 'LU', num(P.XCH), num(50008), '2019-01-01', '2020-01-31'],
  [G.FYR, 'P', '01', 'LC', num(P.SHR), num(50009), '2020-02-01', null],
  // Excluded by the standard filter: a non-research link type and a non-primary link.
  [G.FYR, 'P', '90', 'NR', null, null, '2018-01-01', '2018-12-31'],
  [G.BASE, 'J', '02', 'LU', num(P.SPL), num(50011), '2019-01-01', null],
];

// ---------------------------------------------------------------------------------------------
// Building

export interface CrspFixture {
  readonly dir: string;
  readonly log: EventLog;
  readonly files: string;
  /** Log head after each step: `crsp` (every CRSP dataset), `compustat` (first fundq pull), `restated` (second pull). */
  readonly seq: { readonly crsp: number; readonly compustat: number; readonly restated: number };
  close(): void;
}

/** Ingest one CSV as `dataset/partition` with the catalogue's key. */
export async function ingestCsv(dir: string, log: EventLog, dataset: string, partition: string, file: string, key: readonly string[] = []): Promise<number> {
  await ingestFile({ dir, log, dataset, partition, file, key, whVersion: 'test' });
  return log.head().seq;
}

/** Build the fixture warehouse in a fresh temporary directory. */
export async function buildCrspFixture(): Promise<CrspFixture> {
  const root = tempDir('wh-crsp-fx-');
  const dir = join(root, 'wh');
  const files = join(root, 'csv');
  initWarehouse(dir, 'test');
  const log = openWarehouseLog(dir);
  const daily = SECURITIES.flatMap(dailyRows);
  for (const year of ['2019', '2020']) {
    const f = writeCsv(files, `dsf-${year}.csv`, DSF_HEADER, daily.filter((r) => r.date.startsWith(year)).map(dsfCsvRow));
    await ingestCsv(dir, log, 'crsp_dsf', year, f, ['permno', 'date']);
  }
  const msf = writeCsv(files, 'msf.csv', ['cusip', 'permno', 'permco', 'date', 'bidlo', 'askhi', 'prc', 'vol', 'ret', 'shrout', 'cfacpr', 'retx'], SECURITIES.flatMap(monthlyRows));
  await ingestCsv(dir, log, 'crsp_msf', '2020', msf, ['permno', 'date']);
  const names = SECURITIES.flatMap((s) => s.names.map((n) => [s.permno, n.namedt, n.nameendt, n.shrcd, n.exchcd, n.ticker, `${n.ticker} CORP`, s.permno + 40000]));
  const delist = SECURITIES.map((s) => {
    const d = s.delisting ?? { dlstdt: RELEASE_END, dlstcd: 100, dlret: null };
    return [s.permno, s.permno + 40000, d.dlstdt, d.dlstcd, d.dlret === null ? null : num(d.dlret)];
  });
  for (const ds of ['crsp_dsenames', 'crsp_msenames']) await ingestCsv(dir, log, ds, 'all', writeCsv(files, `${ds}.csv`, NAMES_HEADER, names), ['permno', 'namedt']);
  for (const ds of ['crsp_dsedelist', 'crsp_msedelist']) await ingestCsv(dir, log, ds, 'all', writeCsv(files, `${ds}.csv`, DELIST_HEADER, delist), ['permno', 'dlstdt']);
  const v2 = writeCsv(files, 'dsf_v2.csv', ['permno', 'dlycaldt', 'dlyprc', 'dlyopen', 'dlyhigh', 'dlylow', 'dlyret', 'shrout', 'dlycumfacpr', 'dlyvol', 'dlyprcflg', 'dlydelflg', 'ticker'], SECURITIES.flatMap(cizRows));
  await ingestCsv(dir, log, 'crsp_dsf_v2', '2020', v2, ['permno', 'dlycaldt']);
  const info = SECURITIES.flatMap((s) =>
    s.names.map((n) => [s.permno, n.namedt, n.nameendt, n.ticker, `${n.ticker} CORP`, s.permno + 40000, 'NS', 'EQTY', 'COM', [10, 11].includes(n.shrcd) ? 'Y' : 'N', 'CORP', ciz(n.exchcd), 'RW', 'A']),
  );
  await ingestCsv(dir, log, 'crsp_stksecurityinfohist', 'all', writeCsv(files, 'info.csv', ['permno', 'secinfostartdt', 'secinfoenddt', 'ticker', 'issuernm', 'permco', 'sharetype', 'securitytype', 'securitysubtype', 'usincflg', 'issuertype', 'primaryexch', 'conditionaltype', 'tradingstatusflg'], info), ['permno', 'secinfostartdt']);
  const stkdel = SECURITIES.filter((s) => s.delisting !== undefined).map((s) => [s.permno, s.delisting!.dlstdt, 'DEL', num(s.delisting!.cizRet ?? 0)]);
  await ingestCsv(dir, log, 'crsp_stkdelists', 'all', writeCsv(files, 'stkdelists.csv', ['permno', 'delistingdt', 'delactiontype', 'delret'], stkdel));
  const crsp = await ingestCsv(dir, log, 'crsp_ccmxpf_lnkhist', 'all', writeCsv(files, 'links.csv', LINK_HEADER, LINK_ROWS));
  await ingestCsv(dir, log, 'comp_funda', 'all', writeCsv(files, 'funda.csv', FUNDA_HEADER, FUNDA_ROWS));
  const compustat = await ingestCsv(dir, log, 'comp_fundq', 'all', writeCsv(files, 'fundq-v1.csv', FUNDQ_HEADER, fundqRows(FIRST_NIQ)));
  // A later pull of the same partition with a restated value (Restatements: earlier points keep the first).
  const restated = await ingestCsv(dir, log, 'comp_fundq', 'all', writeCsv(files, 'fundq-v2.csv', FUNDQ_HEADER, fundqRows(RESTATED_NIQ)));
  return { dir, log, files, seq: { crsp, compustat, restated }, close: () => log.close() };
}

/** An Arrow table as plain objects, dates as 'YYYY-MM-DD' (DateDay values come out as epoch ms). */
export function plain(table: Table): Record<string, unknown>[] {
  const dates = table.schema.fields.filter((f) => f.type instanceof DateDay).map((f) => f.name);
  return table.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
    const o = r.toJSON();
    for (const c of dates) if (typeof o[c] === 'number') o[c] = new Date(o[c] as number).toISOString().slice(0, 10);
    return o;
  });
}
