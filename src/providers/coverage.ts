/**
 * What market dates the warehouse holds: the first and last date of a CRSP daily file, and a
 * warning for each market date outside them. A universe or price query on such a date returns
 * nothing (or less) because the warehouse has no data then — not because nothing was listed — so
 * the caller is told (DATA-RULES "Calendars": refuse or report, never guess).
 */
import { parseProviderOptions, isoDateSchema, requireDatasets, runRows, type CrspFormat } from './crsp.js';
import type { WarehouseSession } from '../query/index.js';

/** The dates a daily CRSP file holds at the session's point. */
export interface Coverage {
  readonly dataset: string;
  readonly first: string | null;
  readonly last: string | null;
}

const DAILY: Readonly<Record<CrspFormat, { dataset: string; date: string }>> = {
  legacy: { dataset: 'crsp_dsf', date: 'date' },
  ciz: { dataset: 'crsp_dsf_v2', date: 'dlycaldt' },
};

/**
 * The first and last date of the daily CRSP file of `format` at the session's point (null when it
 * holds no rows).
 *
 * @throws WarehouseError `UNKNOWN_DATASET` when the file is not in the warehouse.
 */
export async function crspCoverage(session: WarehouseSession, format: CrspFormat = 'legacy'): Promise<Coverage> {
  const spec = DAILY[format];
  requireDatasets(session, [spec.dataset]);
  const rows = await runRows(session, { sql: `SELECT CAST(min(${spec.date}) AS VARCHAR) AS first, CAST(max(${spec.date}) AS VARCHAR) AS last FROM ${spec.dataset}`, params: [] });
  const r = rows[0] ?? {};
  return { dataset: spec.dataset, first: (r['first'] as string | null) ?? null, last: (r['last'] as string | null) ?? null };
}

/**
 * One sentence per market date outside what the daily CRSP file holds (empty when every date is
 * inside), naming the date, the file's range and what to do.
 *
 * @example
 * ```ts
 * for (const w of await coverageWarnings(wh.session, ['2014-12-31'])) console.error(w);
 * ```
 */
export async function coverageWarnings(session: WarehouseSession, dates: readonly string[], format: CrspFormat = 'legacy'): Promise<string[]> {
  const days = dates.map((d) => parseProviderOptions(isoDateSchema, d, 'market date'));
  const c = await crspCoverage(session, format);
  if (c.first === null || c.last === null) return [`${c.dataset} holds no rows at ${session.point.label}: every market date is outside what the warehouse holds; sync it (\`wh sync ${c.dataset}\`)`];
  return days
    .filter((d) => d < c.first! || d > c.last!)
    .map((d) => `market date ${d} is ${d < c.first! ? 'before the first' : 'after the last'} day ${c.dataset} holds (${c.first}..${c.last} at ${session.point.label}): results for it are empty or incomplete because the warehouse has no data then, not because nothing was listed; sync more years or pick a date inside the range`);
}

/** The dataset and date column whose range a fundamentals kind is checked against. */
const FUNDAMENTALS: Readonly<Record<'annual' | 'quarterly' | 'links', { dataset: string; date: string }>> = {
  annual: { dataset: 'comp_funda', date: 'datadate' },
  quarterly: { dataset: 'comp_fundq', date: 'datadate' },
  links: { dataset: 'crsp_ccmxpf_lnkhist', date: 'linkdt' },
};

/**
 * A warning when `date` precedes every `datadate` the Compustat file holds (or every link start):
 * nothing can be known then, so an empty answer is for want of data. Empty when the date is
 * covered or the dataset is absent (the query itself then says `UNKNOWN_DATASET`).
 */
export async function fundamentalsCoverageWarnings(session: WarehouseSession, kind: 'annual' | 'quarterly' | 'links', date: string): Promise<string[]> {
  const d = parseProviderOptions(isoDateSchema, date, 'market date');
  const spec = FUNDAMENTALS[kind];
  if (!session.datasets.includes(spec.dataset)) return [];
  const rows = await runRows(session, { sql: `SELECT CAST(min(CAST(${spec.date} AS DATE)) AS VARCHAR) AS first, CAST(max(CAST(${spec.date} AS DATE)) AS VARCHAR) AS last FROM ${spec.dataset}`, params: [] });
  const first = (rows[0]?.['first'] as string | null) ?? null;
  if (first !== null && d >= first) return [];
  return [`market date ${d} is before the first ${spec.date} ${spec.dataset} holds (${first ?? 'no rows'} at ${session.point.label}): nothing could be known then, so the answer is empty for want of data; sync earlier years or pick a later date`];
}
