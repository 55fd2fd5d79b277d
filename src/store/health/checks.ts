/**
 * The table-wide health checks, each one DuckDB query over every examined partition at once (a
 * `wh_part` column says which): duplicate keys (when the key is not (series, date)) and null-rate
 * changes against the previous version. The series and calendar checks are one pass: series-pass.ts.
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { HealthShape } from './shape.js';

/** Thresholds of the checks (defaults in {@link defaultThresholds}). */
export interface HealthThresholds {
  /** A close-to-close ratio at or beyond this (or its inverse) is a jump. */
  readonly jumpRatio: number;
  /** A split level ratio at or beyond this (or its inverse) is a split. */
  readonly splitFactor: number;
  /** A change of a column's null fraction by at least this much is reported. */
  readonly nullRateDelta: number;
  /** This many or more consecutive rows with the same price make a stale series. */
  readonly staleRun: number;
}

export const defaultThresholds: HealthThresholds = { jumpRatio: 100, splitFactor: 1.5, nullRateDelta: 0.1, staleRun: 10 };

/** The rows a report examines: relations over the partitions' Parquet files, with the columns the shape uses plus `wh_part`. */
export interface CheckInput {
  /** Rows of every examined partition (the columns the shape uses). */
  readonly rows: string;
  /** Rows of the previous versions of those that had one, or null when none had. */
  readonly previous: string | null;
  /** Every column of the examined partitions, unmaterialized (null rates count them all). */
  readonly allRows: string;
  readonly allPrevious: string | null;
  /** The (partition, Parquet file) pairs behind allRows / allPrevious: null counts come from their footers. */
  readonly files?: readonly (readonly [string, string])[];
  readonly previousFiles?: readonly (readonly [string, string])[];
}

type Row = Record<string, unknown>;
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const SAMPLE = 20;

/** Rows grouped by their `wh_part`. */
export function byPart(rows: readonly Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const p = str(r['wh_part']);
    out.set(p, [...(out.get(p) ?? []), r]);
  }
  return out;
}

export async function duplicateKeys(duck: Duck, shape: HealthShape, p: CheckInput): Promise<HealthFinding[]> {
  if (shape.key.length === 0) return [];
  const k = shape.key.map(quoteIdent).join(', ');
  const r = await duck.all(`SELECT wh_part, ${shape.key.map((c) => `CAST(${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')}, count(*)::BIGINT AS copies FROM ${p.rows} GROUP BY wh_part, ${k} HAVING count(*) > 1 ORDER BY wh_part, copies DESC LIMIT 10000`);
  return [...byPart(r.rows)].map(([part, rows]) => {
    const extra = rows.reduce((n, x) => n + num(x['copies']) - 1, 0);
    return {
      kind: 'duplicate_keys' as const, partition: part, count: extra,
      message: `${extra} duplicate row(s) on key (${shape.key.join(', ')}) in ${rows.length} key value(s)`,
      samples: rows.slice(0, SAMPLE).map((x) => Object.fromEntries(Object.entries(x).filter(([a]) => a !== 'wh_part').map(([a, b]) => [a, a === 'copies' ? num(b) : str(b)]))), windows: [],
    };
  });
}

export async function nullRates(duck: Duck, shape: HealthShape, p: CheckInput, t: HealthThresholds): Promise<HealthFinding[]> {
  if (p.allPrevious === null || shape.columns.length === 0) return [];
  const sel = `wh_part, count(*)::BIGINT AS n, ${shape.columns.map((c, i) => `count(${quoteIdent(c.name)})::BIGINT AS c${i}`).join(', ')}`;
  let now: { readonly rows: readonly Row[] } | null = null;
  let before: { readonly rows: readonly Row[] } | null = null;
  try {
    // Parquet footers record every column chunk's null count: no row is decoded.
    if (p.files !== undefined && p.previousFiles !== undefined) {
      now = await footerCounts(duck, shape, p.files);
      before = now === null ? null : await footerCounts(duck, shape, p.previousFiles);
    }
    if (now === null || before === null) {
      now = await duck.all(`SELECT ${sel} FROM ${p.allRows} GROUP BY wh_part`);
      before = await duck.all(`SELECT ${sel} FROM ${p.allPrevious} GROUP BY wh_part`);
    }
  } catch {
    return []; // the previous version had other columns: schema drift reports it
  }
  const prev = new Map(before!.rows.map((r) => [str(r['wh_part']), r]));
  const rate = (r: Row, i: number) => (num(r['n']) === 0 ? 0 : (num(r['n']) - num(r[`c${i}`])) / num(r['n']));
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const out: HealthFinding[] = [];
  for (const a of now!.rows) {
    const b = prev.get(str(a['wh_part']));
    if (b === undefined) continue;
    const changed = shape.columns.map((c, i) => ({ column: c.name, before: rate(b, i), after: rate(a, i) })).filter((c) => Math.abs(c.after - c.before) >= t.nullRateDelta);
    if (changed.length === 0) continue;
    out.push({
      kind: 'null_rate_change', partition: str(a['wh_part']), count: changed.length,
      message: `null rate changed: ${changed.map((c) => `${c.column} ${pct(c.before)} → ${pct(c.after)}`).join(', ')}`,
      samples: changed.map((c) => ({ column: c.column, before: c.before, after: c.after })), windows: [],
    });
  }
  return out;
}

/**
 * Rows and non-NULL counts per partition (`n`, `c0`.. as the scan computes them) from the files'
 * footers, or null when a file lacks a column or a null count (the caller then scans).
 */
async function footerCounts(duck: Duck, shape: HealthShape, files: readonly (readonly [string, string])[]): Promise<{ rows: Row[] } | null> {
  const r = await duck.all(`SELECT file_name AS f, path_in_schema AS col, sum(row_group_num_rows)::BIGINT AS n, sum(stats_null_count)::BIGINT AS z, count(*) - count(stats_null_count) AS unknown
    FROM parquet_metadata([${files.map(([, f]) => quoteLiteral(f)).join(', ')}]) GROUP BY ALL`);
  const byFile = new Map<string, Map<string, Row>>();
  for (const x of r.rows) {
    const m = byFile.get(str(x['f'])) ?? new Map<string, Row>();
    m.set(str(x['col']), x);
    byFile.set(str(x['f']), m);
  }
  const parts = new Map<string, Row>();
  for (const [part, file] of files) {
    const cols = byFile.get(file);
    if (cols === undefined) return null;
    const out: Row = parts.get(part) ?? { wh_part: part, n: 0, ...Object.fromEntries(shape.columns.map((_, i) => [`c${i}`, 0])) };
    let n: number | null = null;
    for (const [i, c] of shape.columns.entries()) {
      const x = cols.get(c.name);
      if (x === undefined || num(x['unknown']) > 0 || x['z'] === null) return null;
      if (n !== null && n !== num(x['n'])) return null;
      n = num(x['n']);
      out[`c${i}`] = num(out[`c${i}`]) + n - num(x['z']);
    }
    out['n'] = num(out['n']) + (n ?? 0);
    parts.set(part, out);
  }
  return { rows: [...parts.values()] };
}
