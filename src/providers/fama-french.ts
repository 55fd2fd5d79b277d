/**
 * The Fama–French provider: factor and industry returns in decimals with one naming, from either
 * source: the WRDS `ff.*` datasets (already decimals) or the Kenneth French files loaded by
 * `wh french load` (converted to decimals at load; DATA-RULES "Fama–French"). It reads through a
 * `WarehouseSession`, so an as-of session shows the values as they were loaded then.
 *
 * Monthly rows are dated by their month's last calendar day for both sources (WRDS dates a month
 * by its first day; French by YYYYMM).
 */
import { z } from 'zod';
import { WarehouseError } from '../log/index.js';
import { quoteIdent, type DuckParam } from '../engine/index.js';
import type { Point } from '../projections/index.js';
import type { WarehouseSession } from '../query/index.js';

export const famaFrenchModels = ['ff3', 'ff5', 'mom', 'industry10', 'industry10_ew'] as const;
export type FamaFrenchModel = (typeof famaFrenchModels)[number];
export type FamaFrenchFrequency = 'daily' | 'monthly';
export type FamaFrenchSource = 'wrds' | 'french';

const dateSpec = z.string().regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, 'a date YYYY-MM-DD (or YYYY-MM, YYYY)');

export const famaFrenchOptionsSchema = z.object({
  model: z.enum(famaFrenchModels),
  frequency: z.enum(['daily', 'monthly']),
  /** First date, inclusive: YYYY-MM-DD, or YYYY-MM / YYYY meaning its first day. */
  start: dateSpec.optional(),
  /** Last date, inclusive: YYYY-MM-DD, or YYYY-MM / YYYY meaning its last day. */
  end: dateSpec.optional(),
  /** Default: WRDS when the warehouse has the WRDS dataset at this point, else French. */
  source: z.enum(['wrds', 'french']).optional(),
  /** Read this dataset instead of the default one of the source (e.g. a French file loaded with --dataset). */
  dataset: z.string().regex(/^[a-z][a-z0-9_]*$/).optional(),
});
export type FamaFrenchOptions = z.input<typeof famaFrenchOptionsSchema>;

/** One row: `date` (YYYY-MM-DD), then one decimal per factor (null where the source says missing). */
export type FactorRow = { readonly date: string } & Readonly<Record<string, number | null | string>>;

export interface FamaFrenchResult {
  readonly model: FamaFrenchModel;
  readonly frequency: FamaFrenchFrequency;
  readonly source: FamaFrenchSource;
  readonly dataset: string;
  /** The French section (partition) read; null for WRDS. */
  readonly section: string | null;
  readonly point: Point;
  /** `date`, then the factor columns. */
  readonly columns: readonly string[];
  readonly rows: readonly FactorRow[];
  /** CRSP vintages of the French rows returned (one unless the range spans loads); empty for WRDS. */
  readonly vintages: readonly string[];
}

/** Where a model lives in one source: dataset, French section, and output column → source column. */
interface Spec {
  readonly dataset: string;
  readonly section: string | null;
  readonly columns: Readonly<Record<string, string>>;
}

const FF3 = { mktrf: 'mktrf', smb: 'smb', hml: 'hml', rf: 'rf' };
const FF5 = { mktrf: 'mktrf', smb: 'smb', hml: 'hml', rmw: 'rmw', cma: 'cma', rf: 'rf' };
const INDUSTRIES = ['nodur', 'durbl', 'manuf', 'enrgy', 'hitec', 'telcm', 'shops', 'hlth', 'utils', 'other'];
const IND10 = Object.fromEntries(INDUSTRIES.map((c) => [c, c]));

function wrdsSpec(model: FamaFrenchModel, frequency: FamaFrenchFrequency): Spec | null {
  const ff = frequency === 'daily' ? 'ff_factors_daily' : 'ff_factors_monthly';
  switch (model) {
    case 'ff3':
      return { dataset: ff, section: null, columns: FF3 };
    case 'mom':
      return { dataset: ff, section: null, columns: { umd: 'umd' } };
    case 'ff5':
      return frequency === 'daily' ? { dataset: 'ff_fivefactors_daily', section: null, columns: FF5 } : null;
    case 'industry10':
    case 'industry10_ew':
      return null;
    default: {
      const never: never = model;
      throw new Error(`unknown model ${String(never)}`);
    }
  }
}

/** French datasets and sections as `wh french load` names them (src/sync/french/naming.ts). */
function frenchSpec(model: FamaFrenchModel, frequency: FamaFrenchFrequency): Spec {
  const withMkt = (cols: Record<string, string>) => ({ ...cols, mktrf: 'mkt_rf' });
  switch (model) {
    case 'ff3':
      return { dataset: 'french_ff3', section: frequency, columns: withMkt(FF3) };
    case 'ff5':
      return { dataset: 'french_ff5', section: frequency, columns: withMkt(FF5) };
    case 'mom':
      return { dataset: 'french_mom', section: frequency, columns: { umd: 'mom' } };
    case 'industry10':
      return { dataset: 'french_ind10', section: `vw_${frequency}`, columns: IND10 };
    case 'industry10_ew':
      return { dataset: 'french_ind10', section: `ew_${frequency}`, columns: IND10 };
    default: {
      const never: never = model;
      throw new Error(`unknown model ${String(never)}`);
    }
  }
}

const loadHint = (model: FamaFrenchModel, frequency: FamaFrenchFrequency): string => {
  const daily = frequency === 'daily' ? '_daily' : '';
  const file = { ff3: `F-F_Research_Data_Factors${daily}`, ff5: `F-F_Research_Data_5_Factors_2x3${daily}`, mom: `F-F_Momentum_Factor${daily}`, industry10: `10_Industry_Portfolios${daily}`, industry10_ew: `10_Industry_Portfolios${daily}` }[model];
  return `load it with \`wh french load ${file}_CSV.zip\``;
};

/** Inclusive [start, end] as ISO dates; `YYYY`/`YYYY-MM` widen to the period's first/last day. */
function dateRange(start: string | undefined, end: string | undefined): [string, string] {
  const first = (s: string): string => (s.length === 4 ? `${s}-01-01` : s.length === 7 ? `${s}-01` : s);
  const last = (s: string): string => {
    if (s.length === 4) return `${s}-12-31`;
    if (s.length === 7) return `${s}-${String(new Date(Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)), 0)).getUTCDate()).padStart(2, '0')}`;
    return s;
  };
  const range: [string, string] = [first(start ?? '1900'), last(end ?? '9999')];
  for (const d of range) {
    const [y, m, day] = d.split('-').map(Number) as [number, number, number];
    const t = new Date(Date.UTC(y, m - 1, day));
    if (t.getUTCMonth() !== m - 1 || t.getUTCDate() !== day) {
      throw new WarehouseError('INVALID_ARGUMENT', `"${d}" is not a valid date`, { suggestion: 'use YYYY-MM-DD, YYYY-MM or YYYY' });
    }
  }
  if (range[0] > range[1]) throw new WarehouseError('INVALID_ARGUMENT', `start ${range[0]} is after end ${range[1]}`, { suggestion: 'swap --start and --end' });
  return range;
}

function resolveSource(session: WarehouseSession, o: z.output<typeof famaFrenchOptionsSchema>): { source: FamaFrenchSource; spec: Spec } {
  const wrds = wrdsSpec(o.model, o.frequency);
  const french = frenchSpec(o.model, o.frequency);
  const has = (s: Spec | null) => s !== null && session.datasets.includes(o.dataset ?? s.dataset);
  const source = o.source ?? (has(wrds) ? 'wrds' : has(french) ? 'french' : undefined);
  if (source === undefined) {
    throw new WarehouseError('UNKNOWN_DATASET', `no ${o.frequency} ${o.model} data in the warehouse at ${session.point.label}`, {
      suggestion: `${wrds === null ? '' : `sync ${wrds.dataset} from WRDS, or `}${loadHint(o.model, o.frequency)}`,
    });
  }
  if (source === 'wrds' && wrds === null) {
    throw new WarehouseError('INVALID_ARGUMENT', `WRDS has no ${o.frequency} ${o.model} dataset in wh's catalogue`, {
      suggestion: `use --source french and ${loadHint(o.model, o.frequency)}`,
    });
  }
  const spec = source === 'wrds' ? wrds! : french;
  const dataset = o.dataset ?? spec.dataset;
  if (!session.datasets.includes(dataset)) {
    throw new WarehouseError('UNKNOWN_DATASET', `dataset ${dataset} is not in the warehouse at ${session.point.label}`, {
      suggestion: source === 'wrds' ? `run \`wh sync ${dataset}\`, or use --source french` : loadHint(o.model, o.frequency),
    });
  }
  return { source, spec: { ...spec, dataset } };
}

async function checkColumns(session: WarehouseSession, spec: Spec): Promise<void> {
  const desc = await session.duck.all(`DESCRIBE ${quoteIdent(spec.dataset)}`);
  const have = new Set(desc.rows.map((r) => String(r['column_name'])));
  const need = ['date', ...Object.values(spec.columns), ...(spec.section === null ? [] : ['section', 'unit', 'vintage'])];
  const missing = need.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new WarehouseError('QUERY_FAILED', `dataset ${spec.dataset} has no column(s) ${missing.join(', ')} (it has ${[...have].join(', ')})`, {
      suggestion: 'is it the right dataset for this model? see `wh status` and docs/concepts/fama-french.md',
    });
  }
}

/** French: the section must be there, and in decimals. Returns its vintages in the range. */
async function checkSection(session: WarehouseSession, spec: Spec, range: [string, string], o: { model: FamaFrenchModel; frequency: FamaFrenchFrequency }): Promise<string[]> {
  const view = quoteIdent(spec.dataset);
  const units = await session.duck.all(`SELECT DISTINCT unit FROM ${view} WHERE section = $1`, [spec.section]);
  if (units.rows.length === 0) {
    throw new WarehouseError('UNKNOWN_DATASET', `${spec.dataset} has no section "${spec.section}" at ${session.point.label}`, { suggestion: loadHint(o.model, o.frequency) });
  }
  const bad = units.rows.map((r) => String(r['unit'])).filter((u) => u !== 'decimal');
  if (bad.length > 0) {
    throw new WarehouseError('QUERY_FAILED', `${spec.dataset}/${spec.section} holds ${bad.join(', ')} values, not decimal returns`, {
      suggestion: 'this section is not a return series; pick another model or dataset',
    });
  }
  const v = await session.duck.all(`SELECT DISTINCT vintage FROM ${view} WHERE section = $1 AND date BETWEEN $2::DATE AND $3::DATE AND vintage IS NOT NULL ORDER BY vintage`, [spec.section, ...range]);
  return v.rows.map((r) => String(r['vintage']));
}

/**
 * Fama–French factors (or industry returns) in decimals, dated YYYY-MM-DD, ordered by date.
 * Columns: ff3 `mktrf, smb, hml, rf`; ff5 adds `rmw, cma`; mom `umd`; industry10(_ew) the ten
 * industries `nodur ... other` (value- or equal-weighted).
 * @throws WarehouseError `INVALID_ARGUMENT` (bad options; a model the source lacks),
 * `UNKNOWN_DATASET` (not synced or loaded at the session's point).
 * @example
 * ```ts
 * const s = await openSession(dir, log, { asOf: 'paper-v1' });
 * try {
 *   const ff = await famaFrenchFactors(s, { model: 'ff3', frequency: 'monthly', start: '2000-01', end: '2020-12' });
 *   ff.rows[0]; // { date: '2000-01-31', mktrf: -0.0474, smb: 0.0577, hml: -0.0188, rf: 0.0041 } (202408 vintage)
 * } finally {
 *   s.close();
 * }
 * ```
 */
export async function famaFrenchFactors(session: WarehouseSession, options: FamaFrenchOptions): Promise<FamaFrenchResult> {
  const parsed = famaFrenchOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WarehouseError('INVALID_ARGUMENT', `invalid Fama–French option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, {
      suggestion: `models: ${famaFrenchModels.join(', ')}; frequencies: daily, monthly; dates YYYY-MM-DD`,
    });
  }
  const o = parsed.data;
  const range = dateRange(o.start, o.end);
  const { source, spec } = resolveSource(session, o);
  await checkColumns(session, spec);
  const vintages = spec.section === null ? [] : await checkSection(session, spec, range, o);
  // WRDS dates a month by its first day: move it to the month's end like the French rows.
  const day = source === 'wrds' && o.frequency === 'monthly' ? 'last_day(CAST(date AS DATE))' : 'CAST(date AS DATE)';
  const cols = Object.entries(spec.columns).map(([out, src]) => `CAST(${quoteIdent(src)} AS DOUBLE) AS ${quoteIdent(out)}`);
  const params: DuckParam[] = [...range];
  let where = `${day} BETWEEN $1::DATE AND $2::DATE`;
  if (spec.section !== null) {
    where += ' AND section = $3';
    params.push(spec.section);
  }
  const sql = `SELECT strftime(${day}, '%Y-%m-%d') AS date, ${cols.join(', ')} FROM ${quoteIdent(spec.dataset)} WHERE ${where} ORDER BY 1`;
  const res = await session.duck.all(sql, params);
  return {
    model: o.model,
    frequency: o.frequency,
    source,
    dataset: spec.dataset,
    section: spec.section,
    point: session.point,
    columns: res.columns,
    rows: res.rows as FactorRow[],
    vintages,
  };
}
