/**
 * The table-wide health checks, each one DuckDB query over every examined partition at once (a
 * `wh_part` column says which): duplicate keys, null-rate changes against the previous version,
 * and NYSE sessions missing or extra. The series checks are in price-checks.ts.
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import { sessions } from '../../calendar/index.js';
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

/** The rows a report examines: temporary tables with the dataset's columns plus `wh_part`. */
export interface CheckInput {
  /** Rows of every examined partition (the columns the shape uses). */
  readonly rows: string;
  /** Rows of the previous versions of those that had one, or null when none had. */
  readonly previous: string | null;
  /** Every column of the examined partitions, unmaterialized (null rates count them all). */
  readonly allRows: string;
  readonly allPrevious: string | null;
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
  let now;
  let before;
  try {
    now = await duck.all(`SELECT ${sel} FROM ${p.allRows} GROUP BY wh_part`);
    before = await duck.all(`SELECT ${sel} FROM ${p.allPrevious} GROUP BY wh_part`);
  } catch {
    return []; // the previous version had other columns: schema drift reports it
  }
  const prev = new Map(before.rows.map((r) => [str(r['wh_part']), r]));
  const rate = (r: Row, i: number) => (num(r['n']) === 0 ? 0 : (num(r['n']) - num(r[`c${i}`])) / num(r['n']));
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const out: HealthFinding[] = [];
  for (const a of now.rows) {
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

/** Sessions missing and dates that are not sessions, for daily data (≥ half the sessions in a partition's range present). */
export async function calendarGaps(duck: Duck, shape: HealthShape, p: CheckInput): Promise<HealthFinding[]> {
  if (shape.date === null) return [];
  const d = `CAST(${shape.date} AS DATE)`;
  const spans = (await duck.all(`SELECT wh_part, CAST(min(${d}) AS VARCHAR) AS lo, CAST(max(${d}) AS VARCHAR) AS hi, count(DISTINCT ${d})::BIGINT AS days FROM ${p.rows} GROUP BY wh_part`)).rows;
  const daily: string[] = [];
  let lo = '';
  let hi = '';
  for (const s of spans) {
    if (s['lo'] === null || s['lo'] === undefined) continue;
    let n: number;
    try {
      n = sessions(str(s['lo']), str(s['hi'])).length;
    } catch {
      continue; // outside the calendar's known range
    }
    if (n === 0 || num(s['days']) < n / 2) continue; // not daily data
    daily.push(str(s['wh_part']));
    if (lo === '' || str(s['lo']) < lo) lo = str(s['lo']);
    if (hi === '' || str(s['hi']) > hi) hi = str(s['hi']);
  }
  if (daily.length === 0) return [];
  // One bound string, split in DuckDB: parsing thousands of date literals costs more than the check.
  await duck.run(`CREATE OR REPLACE TEMP TABLE wh_sessions AS SELECT CAST(d AS DATE) AS date, row_number() OVER (ORDER BY d) AS i FROM (SELECT unnest(string_split($1, ',')) AS d)`, [sessions(lo, hi).join(',')]);
  const id = shape.id ?? `'all'`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE wh_daily AS SELECT DISTINCT wh_part, CAST(${id} AS VARCHAR) AS id, ${d} AS date FROM ${p.rows} WHERE wh_part IN (${daily.map(quoteLiteral).join(', ')})`);
  const out: HealthFinding[] = [];
  const extra = await duck.all(`SELECT DISTINCT x.wh_part, CAST(x.date AS VARCHAR) AS date FROM wh_daily x ANTI JOIN wh_sessions s ON x.date = s.date ORDER BY 1, 2`);
  for (const [part, rows] of byPart(extra.rows)) {
    out.push({ kind: 'non_session_dates', partition: part, count: rows.length, message: `${rows.length} date(s) that are not NYSE sessions, e.g. ${rows.slice(0, 3).map((r) => str(r['date'])).join(', ')}`, samples: rows.slice(0, 400).map((r) => ({ date: str(r['date']) })), windows: [] });
  }
  // Equi-joins only: a series misses sessions when the sessions between its first and last (by
  // session number) outnumber its rows; only those series are expanded session by session.
  const missing = await duck.all(`WITH t AS (SELECT x.wh_part, x.id, s.i FROM wh_daily x JOIN wh_sessions s ON x.date = s.date),
      gap AS (SELECT wh_part, id, min(i) AS a, max(i) AS b FROM t GROUP BY wh_part, id HAVING max(i) - min(i) + 1 > count(*)),
      want AS (SELECT g.wh_part, g.id, s.i, s.date FROM gap g JOIN wh_sessions s ON s.i BETWEEN g.a AND g.b)
    SELECT w.wh_part, CAST(w.date AS VARCHAR) AS date, count(*)::BIGINT AS missing FROM want w ANTI JOIN t ON t.wh_part = w.wh_part AND t.id = w.id AND t.i = w.i
    GROUP BY 1, 2 ORDER BY 1, 2`);
  for (const [part, rows] of byPart(missing.rows)) {
    const total = rows.reduce((n, r) => n + num(r['missing']), 0);
    out.push({
      kind: 'missing_sessions', partition: part, count: total,
      message: `${total} series-session(s) missing on ${rows.length} NYSE session(s), e.g. ${rows.slice(0, 3).map((r) => str(r['date'])).join(', ')}`,
      samples: rows.slice(0, 400).map((r) => ({ date: str(r['date']), missing: num(r['missing']) })), windows: [],
    });
  }
  await duck.run('DROP TABLE IF EXISTS wh_daily');
  return out;
}
