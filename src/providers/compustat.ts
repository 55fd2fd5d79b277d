/**
 * The Compustat provider: annual and quarterly fundamentals as they were knowable on a market date,
 * and the CRSP–Compustat link in force on a date, read through a {@link WarehouseSession}. The
 * session fixes what the warehouse held (its asOf point: a restated value pulled later is not
 * seen by an earlier point); `asOfDate` fixes what the market knew (each row's `available_date`).
 * Values are bound as `$n` parameters; item names must be in the fixed allow-lists below.
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { NYSE_KNOWN_RANGE } from '../calendar/index.js';
import type { WarehouseSession } from '../query/index.js';
import {
  MAX_SYMBOLS,
  Params,
  isoDateSchema,
  parseProviderOptions,
  permnoSchema,
  requireDatasets,
  runTable,
  sessionsCte,
  type ProviderPlan,
} from './crsp.js';

/** Annual items a caller may select (WRDS `comp.funda` names). */
export const fundaItems = [
  'act', 'at', 'capx', 'ceq', 'che', 'cogs', 'csho', 'dlc', 'dltt', 'dp', 'dvc', 'ib', 'invt', 'lct', 'lt', 'mkvalt', 'ni', 'oancf',
  'prcc_f', 'pstk', 'pstkl', 'pstkrv', 're', 'revt', 'sale', 'seq', 'txdb', 'txditc', 'xint', 'xsga', 'sich', 'naicsh', 'cik', 'costat', 'fic', 'curcd',
] as const;
/** Quarterly items a caller may select (WRDS `comp.fundq` names). */
export const fundqItems = [
  'actq', 'atq', 'ceqq', 'cheq', 'cshoq', 'dlttq', 'ibq', 'lctq', 'ltq', 'niq', 'prccq', 'pstkq', 'revtq', 'saleq', 'seqq', 'txditcq',
  'datacqtr', 'datafqtr', 'updq', 'cik', 'costat', 'fic', 'curcd',
] as const;

const gvkeySchema = z.string().trim().regex(/^\d{6}$/, 'a gvkey is six digits, e.g. 001690');

const baseSchema = z.object({
  gvkeys: z.array(gvkeySchema).max(MAX_SYMBOLS).optional(),
  /** The market date: only rows available on or before it are returned. */
  asOfDate: isoDateSchema,
  /** Days after datadate a row becomes usable (annual; quarterly rows without rdq). */
  lagDays: z.number().int().min(0).max(3650).default(90),
  /** Keep only each firm's most recent available row. */
  latest: z.boolean().default(false),
});
/** Options of {@link annual}: gvkeys, asOfDate, lagDays (default 90), latest, items from {@link fundaItems}. */
export const annualOptionsSchema = baseSchema.extend({ items: z.array(z.enum(fundaItems)).optional() });
/** Options of {@link quarterly}: as annual, items from {@link fundqItems}, asOfDate within the NYSE calendar. */
export const quarterlyOptionsSchema = baseSchema.extend({
  items: z.array(z.enum(fundqItems)).optional(),
  asOfDate: isoDateSchema.refine((d) => d >= NYSE_KNOWN_RANGE.start && d <= NYSE_KNOWN_RANGE.end, `must be within the NYSE calendar (${NYSE_KNOWN_RANGE.start}..${NYSE_KNOWN_RANGE.end})`),
});
/** What callers pass to {@link annual}. */
export type AnnualOptions = z.input<typeof annualOptionsSchema>;
/** What callers pass to {@link quarterly}. */
export type QuarterlyOptions = z.input<typeof quarterlyOptionsSchema>;

// DATA-RULES "CRSP–Compustat": one row per firm-period only with these four filters.
const STANDARD = "f.indfmt = 'INDL' AND f.datafmt = 'STD' AND f.popsrc = 'D' AND f.consol = 'C'";

function selectList(identity: readonly string[], items: readonly string[] | undefined): string {
  return items === undefined ? 'f.*' : [...new Set([...identity, ...items])].map((c) => `f.${c}`).join(', ');
}

/** Plan {@link annual}. */
export function planAnnual(session: WarehouseSession, options: AnnualOptions): ProviderPlan {
  const o = parseProviderOptions(annualOptionsSchema, options, 'annual fundamentals');
  requireDatasets(session, ['comp_funda']);
  const p = new Params();
  const lag = `CAST(${p.bind(o.lagDays)} AS INTEGER)`;
  const asOf = p.date(o.asOfDate);
  const gv = o.gvkeys === undefined ? '' : `AND f.gvkey IN (${p.list(o.gvkeys)})`;
  const cols = selectList(['gvkey', 'datadate', 'fyear', 'fyr', 'tic', 'conm'], o.items);
  const sql = `WITH a AS (
      -- DATA-RULES "No look-ahead in fundamentals": annual data usable from datadate + lag.
      SELECT ${cols}, CAST(f.datadate AS DATE) + ${lag} AS available_date FROM comp_funda f
      WHERE ${STANDARD} ${gv} AND CAST(f.datadate AS DATE) + ${lag} <= ${asOf}),
    -- A fiscal-year-end change gives one fyear two rows (e.g. fyr 12 -> 3: Dec-2015 and Mar-2016 are both fyear 2015):
    -- keep, among the rows available on asOfDate, the one with the latest datadate (Tidy Finance, "WRDS, CRSP, and Compustat").
    one AS (SELECT * FROM a QUALIFY row_number() OVER (PARTITION BY gvkey, fyear ORDER BY datadate DESC) = 1)
    SELECT * FROM one ${o.latest ? 'QUALIFY row_number() OVER (PARTITION BY gvkey ORDER BY datadate DESC) = 1' : ''}
    ORDER BY gvkey, datadate`;
  return { query: p.query(sql), verify: async () => undefined };
}

/**
 * Annual fundamentals (`comp_funda`, INDL/STD/D/C) known on `asOfDate`: each row's
 * `available_date` is datadate + `lagDays` (default 90) and only rows with `available_date <=
 * asOfDate` are returned (DATA-RULES "No look-ahead in fundamentals"). `latest` keeps each firm's
 * most recent row. Ordered by gvkey, datadate.
 *
 * @throws WarehouseError `INVALID_ARGUMENT` (bad gvkey, date, lag or item), `UNKNOWN_DATASET`.
 * @example
 * ```ts
 * const wh = await openWarehouse(dir, { asOf: '2024-06-30' });          // what the warehouse held
 * const t = await annual(wh.session, { asOfDate: '2019-06-30', items: ['at', 'ceq'] }); // what the market knew
 * ```
 */
export async function annual(session: WarehouseSession, options: AnnualOptions): Promise<Table> {
  return runTable(session, planAnnual(session, options).query);
}

/** Plan {@link quarterly}. */
export function planQuarterly(session: WarehouseSession, options: QuarterlyOptions): ProviderPlan {
  const o = parseProviderOptions(quarterlyOptionsSchema, options, 'quarterly fundamentals');
  requireDatasets(session, ['comp_fundq']);
  const p = new Params();
  const sessions = sessionsCte(p);
  const lag = `CAST(${p.bind(o.lagDays)} AS INTEGER)`;
  const asOf = p.date(o.asOfDate);
  const gv = o.gvkeys === undefined ? '' : `AND f.gvkey IN (${p.list(o.gvkeys)})`;
  const cols = selectList(['gvkey', 'datadate', 'fyearq', 'fqtr', 'fyr', 'rdq', 'tic', 'conm'], o.items);
  const sql = `WITH ${sessions},
    q AS (
      -- DATA-RULES "No look-ahead in fundamentals": usable from the trading day after rdq; without rdq, datadate + lag.
      SELECT ${cols}, coalesce(s.d, CASE WHEN f.rdq IS NULL THEN CAST(f.datadate AS DATE) + ${lag} END) AS available_date
      FROM comp_fundq f ASOF LEFT JOIN sessions s ON s.d > CAST(f.rdq AS DATE)
      WHERE ${STANDARD} ${gv}),
    av AS (SELECT * FROM q WHERE available_date <= ${asOf}),
    -- DATA-RULES "CRSP–Compustat": fiscal-year-end changes duplicate quarters; keep the row whose fyr is the firm's
    -- current one as known when the quarter first became available (t0), so its labels never change afterwards:
    -- among the rows available on t0, the fyr the firm adopted most recently (whose first quarter available by t0 is latest).
    qfirst AS (SELECT gvkey, datadate, min(available_date) AS t0 FROM av GROUP BY 1, 2),
    cand AS (
      SELECT av.*, qf.t0 AS wh_t0,
        (SELECT min(x.datadate) FROM av x WHERE x.gvkey = av.gvkey AND x.fyr IS NOT DISTINCT FROM av.fyr AND x.available_date <= qf.t0) AS wh_fyr_first
      FROM av JOIN qfirst qf ON qf.gvkey = av.gvkey AND qf.datadate = av.datadate
      WHERE av.available_date = qf.t0),
    kept AS (
      SELECT * EXCLUDE (wh_t0, wh_fyr_first) FROM cand
      QUALIFY row_number() OVER (PARTITION BY gvkey, datadate ORDER BY wh_fyr_first DESC, fyr DESC) = 1)
    SELECT * FROM kept ${o.latest ? 'QUALIFY row_number() OVER (PARTITION BY gvkey ORDER BY datadate DESC) = 1' : ''}
    ORDER BY gvkey, datadate`;
  return { query: p.query(sql), verify: async () => undefined };
}

/**
 * Quarterly fundamentals (`comp_fundq`, INDL/STD/D/C) known on `asOfDate`: `available_date` is the
 * NYSE session after `rdq`, or datadate + `lagDays` when `rdq` is missing; only rows available on or
 * before `asOfDate` are returned. Quarters duplicated by a fiscal-year-end change keep the row of
 * the firm's current `fyr` as known on `asOfDate`. Ordered by gvkey, datadate.
 *
 * @throws WarehouseError `INVALID_ARGUMENT` (bad gvkey, item, lag, or a date outside the NYSE
 *   calendar), `UNKNOWN_DATASET`.
 */
export async function quarterly(session: WarehouseSession, options: QuarterlyOptions): Promise<Table> {
  return runTable(session, planQuarterly(session, options).query);
}

/** Arguments of {@link linkAsOf}: the date, and optional gvkey or permno filters. */
export const linkOptionsSchema = z.object({
  date: isoDateSchema,
  gvkeys: z.array(gvkeySchema).max(MAX_SYMBOLS).optional(),
  permnos: z.array(permnoSchema).max(MAX_SYMBOLS).optional(),
});
/** Optional filters of {@link linkAsOf}. */
export type LinkOptions = Omit<z.input<typeof linkOptionsSchema>, 'date'>;

/**
 * SQL of the links that pass the standard filter, with `effective_enddt`: DATA-RULES
 * "CRSP–Compustat" link filter, plus wh's rule "a link in force on the last trading day covers the
 * delisting" — a link whose `linkenddt` is on or after the security's last trading date (the last
 * `nameendt` of its names history) runs through the delisting date and the delisting month's end,
 * so the delisting return (dated `dlstdt`, or the month-end row of a monthly file) merges to the
 * firm. Read from the legacy names and delisting files, else the CIZ ones; with neither, no link is extended.
 */
export function linksSql(session: WarehouseSession): string {
  const has = (name: string): boolean => session.datasets.includes(name);
  // Legacy files when present, else the CIZ ones: the delisting date and the last trading date (end of the names history).
  const sources = has('crsp_dsedelist') && has('crsp_dsenames')
    ? { delist: "SELECT CAST(permno AS INTEGER) AS permno, min(CAST(dlstdt AS DATE)) AS dlstdt FROM crsp_dsedelist WHERE dlstcd <> 100 GROUP BY 1",
        last: 'SELECT CAST(permno AS INTEGER) AS permno, max(CAST(nameendt AS DATE)) AS last_trade FROM crsp_dsenames GROUP BY 1' }
    : has('crsp_stkdelists') && has('crsp_stksecurityinfohist')
      ? { delist: 'SELECT CAST(permno AS INTEGER) AS permno, min(CAST(delistingdt AS DATE)) AS dlstdt FROM crsp_stkdelists GROUP BY 1',
          last: 'SELECT CAST(permno AS INTEGER) AS permno, max(CAST(secinfoenddt AS DATE)) AS last_trade FROM crsp_stksecurityinfohist GROUP BY 1' }
      : null;
  const extended = sources !== null
    ? `CASE WHEN l.linkenddt IS NOT NULL AND dl.dlstdt IS NOT NULL AND l.linkenddt >= lt.last_trade
          THEN greatest(l.linkenddt, last_day(dl.dlstdt)) ELSE l.linkenddt END`
    : 'l.linkenddt';
  const joins = sources !== null ? `LEFT JOIN (${sources.delist}) dl ON dl.permno = l.permno LEFT JOIN (${sources.last}) lt ON lt.permno = l.permno` : '';
  return `SELECT l.*, ${extended} AS effective_enddt FROM (
      SELECT gvkey, CAST(lpermno AS INTEGER) AS permno, CAST(lpermco AS INTEGER) AS permco, liid, linktype, linkprim,
        CAST(linkdt AS DATE) AS linkdt, CAST(linkenddt AS DATE) AS linkenddt
      FROM crsp_ccmxpf_lnkhist
      -- DATA-RULES "CRSP–Compustat": LU/LC links, primary (P/C).
      WHERE linktype IN ('LU', 'LC') AND linkprim IN ('P', 'C')) l ${joins}`;
}

/** Plan {@link linkAsOf}. */
export function planLinks(session: WarehouseSession, date: string, options: LinkOptions = {}): ProviderPlan {
  const o = parseProviderOptions(linkOptionsSchema, { ...options, date }, 'links');
  requireDatasets(session, ['crsp_ccmxpf_lnkhist']);
  const p = new Params();
  const d = p.date(o.date);
  const gv = o.gvkeys === undefined ? '' : `AND gvkey IN (${p.list(o.gvkeys)})`;
  const pn = o.permnos === undefined ? '' : `AND permno IN (${p.list(o.permnos)})`;
  const sql = `SELECT ${d} AS date, gvkey, permno, permco, liid, linktype, linkprim, linkdt, linkenddt, effective_enddt
    FROM (${linksSql(session)})
    -- In force on d (a NULL end is still open); the end covers the delisting (see linksSql).
    WHERE linkdt <= ${d} AND ${d} <= coalesce(effective_enddt, DATE '9999-12-31') ${gv} ${pn}
    ORDER BY gvkey, permno, linkdt`;
  return { query: p.query(sql), verify: async () => undefined };
}

/**
 * The CRSP–Compustat links in force on `date`: `linktype IN ('LU','LC')`, `linkprim IN
 * ('P','C')`, `linkdt <= date <= coalesce(effective_enddt, ∞)`, where `effective_enddt` is
 * `linkenddt` extended through the delisting month when the link ran to the last trading day
 * (docs/concepts/crsp-compustat.md, "Links at delisting"). Columns: date, gvkey, permno, permco,
 * liid, linktype, linkprim, linkdt, linkenddt (as stored), effective_enddt; ordered by gvkey, permno.
 *
 * @throws WarehouseError `INVALID_ARGUMENT`, `UNKNOWN_DATASET`.
 */
export async function linkAsOf(session: WarehouseSession, date: string, options: LinkOptions = {}): Promise<Table> {
  return runTable(session, planLinks(session, date, options).query);
}
