/**
 * The CRSP–Compustat merge: CRSP price rows (daily or monthly, legacy or CIZ, delisting returns
 * applied) with the gvkey of the link in force on each row's date. The link rule is the one
 * {@link linkAsOf} applies (standard filter, and a link in force on the last trading day covers the
 * delisting), so a delisting return merges to its firm.
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import type { WarehouseSession } from '../query/index.js';
import { linksSql } from './compustat.js';
import { crspFormatSchema, isoDateSchema, MAX_SYMBOLS, ordered, parseProviderOptions, permnoSchema, planPrices, requireDatasets, REVERSED, runRows, runTable } from './crsp.js';

/** Options of {@link mergedPrices}: permnos (default: every linked permno), the market range, frequency and format. */
export const mergeOptionsSchema = z
  .object({
    permnos: z.array(permnoSchema).max(MAX_SYMBOLS).optional(),
    start: isoDateSchema,
    end: isoDateSchema,
    frequency: z.enum(['daily', 'monthly']).default('monthly'),
    format: crspFormatSchema,
  })
  .refine(ordered, REVERSED);
/** What callers pass to {@link mergedPrices}. */
export type MergeOptions = z.input<typeof mergeOptionsSchema>;

/**
 * CRSP prices of [start, end] joined to the CCM link in force on each row's date: the price columns
 * of {@link dailyPrices}/{@link monthlyPrices} plus gvkey, liid, linktype, linkprim. Rows with no
 * link in force are left out (an inner merge). Ordered by permno, date.
 *
 * @throws WarehouseError `INVALID_ARGUMENT`, `UNKNOWN_DATASET`.
 * @example
 * ```ts
 * const m = await mergedPrices(wh.session, { start: '2016-01-01', end: '2016-12-31' }); // monthly, legacy
 * ```
 */
export async function mergedPrices(session: WarehouseSession, options: MergeOptions): Promise<Table> {
  const o = parseProviderOptions(mergeOptionsSchema, options, 'CRSP–Compustat merge');
  requireDatasets(session, ['crsp_ccmxpf_lnkhist']);
  const links = linksSql(session);
  let permnos = o.permnos;
  if (permnos === undefined) {
    const rows = await runRows(session, { sql: `SELECT DISTINCT permno FROM (${links}) WHERE permno IS NOT NULL ORDER BY 1`, params: [] });
    permnos = rows.map((r) => Number(r['permno'])).slice(0, MAX_SYMBOLS);
  }
  if (permnos.length === 0) permnos = [1];
  const plan = await planPrices(session, o.frequency, { permnos, start: o.start, end: o.end, format: o.format }, { unknown: 'skip' });
  const sql = `SELECT px.*, l.gvkey, l.liid, l.linktype, l.linkprim FROM (${plan.query.sql}) px
    JOIN (${links}) l ON l.permno = px.permno AND l.linkdt <= px.date AND px.date <= coalesce(l.effective_enddt, DATE '9999-12-31')
    ORDER BY px.permno, px.date`;
  return runTable(session, { sql, params: plan.query.params });
}
