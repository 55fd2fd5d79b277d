/**
 * The declarative catalogue of WRDS datasets wh syncs: source relation, partitioning, key, sort
 * order and validation rules. Daily and monthly files are partitioned by calendar year of their
 * date column; small tables are one partition (`all`). Both CRSP formats (legacy and CIZ) are here.
 */
import { WarehouseError } from '../../log/index.js';

export interface ValidationRules {
  /** Maximum fraction of NULLs per column (checked on the written object). */
  readonly maxNullRate?: Readonly<Record<string, number>>;
  /** Every value of this date column must be an NYSE session. */
  readonly sessionColumn?: string;
  /** The file is market-wide (one row per session): every session in its range must be present. */
  readonly completeSessions?: boolean;
  /** Refuse a new version with fewer rows than (1 - maxRowDrop) x the previous version. */
  readonly maxRowDrop?: number;
}

export interface DatasetDef {
  /** Warehouse dataset name (a DuckDB view name). */
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  readonly description: string;
  /** Partition by calendar year of this date column; whole table when undefined. */
  readonly yearColumn?: string;
  /** Primary key: validated unique and not null. Empty: no key check. */
  readonly key: readonly string[];
  readonly sortKey: readonly string[];
  readonly rules: ValidationRules;
  /** Columns left out of the pull. */
  readonly exclude?: readonly string[];
}

const COMPUSTAT_KEY = ['gvkey', 'datadate', 'indfmt', 'datafmt', 'popsrc', 'consol'] as const;

const daily = (sessionColumn: string): ValidationRules => ({ sessionColumn, maxRowDrop: 0.5 });

export const datasets: readonly DatasetDef[] = [
  { name: 'crsp_dsf', schema: 'crsp', table: 'dsf', description: 'CRSP daily stock file (legacy)', yearColumn: 'date', key: ['permno', 'date'], sortKey: ['permno', 'date'], rules: { ...daily('date'), maxNullRate: { permno: 0, date: 0 } } },
  { name: 'crsp_msf', schema: 'crsp', table: 'msf', description: 'CRSP monthly stock file (legacy)', yearColumn: 'date', key: ['permno', 'date'], sortKey: ['permno', 'date'], rules: { maxRowDrop: 0.5 } },
  { name: 'crsp_dsenames', schema: 'crsp', table: 'dsenames', description: 'CRSP daily name history', key: ['permno', 'namedt'], sortKey: ['permno', 'namedt'], rules: {} },
  { name: 'crsp_msenames', schema: 'crsp', table: 'msenames', description: 'CRSP monthly name history', key: ['permno', 'namedt'], sortKey: ['permno', 'namedt'], rules: {} },
  { name: 'crsp_stocknames', schema: 'crsp', table: 'stocknames', description: 'CRSP stock names', key: [], sortKey: ['permno', 'namedt'], rules: {} },
  { name: 'crsp_dsedelist', schema: 'crsp', table: 'dsedelist', description: 'CRSP daily delistings', key: ['permno', 'dlstdt'], sortKey: ['permno', 'dlstdt'], rules: {} },
  { name: 'crsp_msedelist', schema: 'crsp', table: 'msedelist', description: 'CRSP monthly delistings', key: ['permno', 'dlstdt'], sortKey: ['permno', 'dlstdt'], rules: {} },
  { name: 'crsp_dsedist', schema: 'crsp', table: 'dsedist', description: 'CRSP distributions', key: [], sortKey: ['permno', 'exdt'], rules: {} },
  { name: 'crsp_dsi', schema: 'crsp', table: 'dsi', description: 'CRSP daily market indexes', yearColumn: 'date', key: ['date'], sortKey: ['date'], rules: { sessionColumn: 'date', completeSessions: true, maxRowDrop: 0.5 } },
  { name: 'crsp_dsf_v2', schema: 'crsp', table: 'dsf_v2', description: 'CRSP daily stock file (CIZ)', yearColumn: 'dlycaldt', key: ['permno', 'dlycaldt'], sortKey: ['permno', 'dlycaldt'], rules: daily('dlycaldt') },
  { name: 'crsp_msf_v2', schema: 'crsp', table: 'msf_v2', description: 'CRSP monthly stock file (CIZ)', yearColumn: 'mthcaldt', key: ['permno', 'mthcaldt'], sortKey: ['permno', 'mthcaldt'], rules: { maxRowDrop: 0.5 } },
  { name: 'crsp_stksecurityinfohist', schema: 'crsp', table: 'stksecurityinfohist', description: 'CRSP security information history (CIZ)', key: ['permno', 'secinfostartdt'], sortKey: ['permno', 'secinfostartdt'], rules: {} },
  { name: 'crsp_stkdelists', schema: 'crsp', table: 'stkdelists', description: 'CRSP delisting events (CIZ)', key: [], sortKey: ['permno', 'delistingdt'], rules: {} },
  { name: 'crsp_ccmxpf_lnkhist', schema: 'crsp', table: 'ccmxpf_lnkhist', description: 'CRSP/Compustat link history', key: [], sortKey: ['gvkey', 'linkdt'], rules: {} },
  // One row per firm-year and format (../shared/WRDS.md): a declared key keeps the server's sort and
  // the validation pass to six columns instead of several hundred.
  { name: 'comp_funda', schema: 'comp', table: 'funda', description: 'Compustat fundamentals annual', key: [...COMPUSTAT_KEY], sortKey: [...COMPUSTAT_KEY], rules: {} },
  // Fiscal-year-end changes duplicate quarters (same gvkey, datadate; another fyr), so no key.
  { name: 'comp_fundq', schema: 'comp', table: 'fundq', description: 'Compustat fundamentals quarterly', key: [], sortKey: ['gvkey', 'datadate', 'fyr', 'indfmt', 'datafmt', 'popsrc', 'consol'], rules: {} },
  { name: 'comp_company', schema: 'comp', table: 'company', description: 'Compustat company header', key: ['gvkey'], sortKey: ['gvkey'], rules: {} },
  { name: 'ff_factors_daily', schema: 'ff', table: 'factors_daily', description: 'Fama–French 3 factors + momentum, daily (decimals)', key: ['date'], sortKey: ['date'], rules: { sessionColumn: 'date' } },
  { name: 'ff_factors_monthly', schema: 'ff', table: 'factors_monthly', description: 'Fama–French 3 factors + momentum, monthly (decimals)', key: ['date'], sortKey: ['date'], rules: {} },
  { name: 'ff_fivefactors_daily', schema: 'ff', table: 'fivefactors_daily', description: 'Fama–French 5 factors + momentum, daily (decimals)', key: ['date'], sortKey: ['date'], rules: { sessionColumn: 'date' } },
];

/** Look up datasets by name; refuses unknown or malformed names. */
export function findDatasets(names: readonly string[], all = false): DatasetDef[] {
  if (all) return [...datasets];
  if (names.length === 0) {
    throw new WarehouseError('INVALID_ARGUMENT', 'no dataset named', { suggestion: `name one or more datasets, or --all; known: ${datasets.map((d) => d.name).join(', ')}` });
  }
  return names.map((n) => {
    const d = datasets.find((x) => x.name === n);
    if (d === undefined) {
      throw new WarehouseError('UNKNOWN_DATASET', `unknown dataset "${n.slice(0, 80)}"`, { suggestion: `known datasets: ${datasets.map((x) => x.name).join(', ')}` });
    }
    return d;
  });
}

/** Parse `2000-2024` or `2020` into an inclusive range; refuses anything else. */
export function parseYears(spec: string | undefined): { from: number; to: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d{4})(?:-(\d{4}))?$/.exec(spec.trim());
  const from = Number(m?.[1]);
  const to = Number(m?.[2] ?? m?.[1]);
  if (m === null || from < 1900 || to > 2100 || from > to) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${spec.slice(0, 40)}" is not a year range`, { suggestion: 'use YYYY or YYYY-YYYY, e.g. --years 2000-2024' });
  }
  return { from, to };
}
