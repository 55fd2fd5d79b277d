/**
 * The per-partition health checks, each one DuckDB query over the partition's object (and its
 * previous version where the check compares): duplicate keys, null-rate changes, NYSE sessions
 * missing or extra, price jumps without a split, splits without a price move, stale series, and
 * late data (rows that appeared for dates the previous version already covered).
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

export interface PartitionInput {
  readonly partition: string;
  /** The partition's rows: its object's absolute path, or a temporary table loaded from it. */
  readonly path: string;
  /** The previous version's rows (same forms), or null. */
  readonly previousPath: string | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const SAMPLE = 20;

/** A Parquet file's path, or the name of a temporary table holding its rows. */
const src = (rel: string) => (rel.startsWith('/') ? `read_parquet(${quoteLiteral(rel)})` : rel);

export async function duplicateKeys(duck: Duck, shape: HealthShape, p: PartitionInput): Promise<HealthFinding[]> {
  if (shape.key.length === 0) return [];
  const k = shape.key.map(quoteIdent).join(', ');
  const r = await duck.all(`SELECT ${shape.key.map((c) => `CAST(${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')}, count(*)::BIGINT AS copies FROM ${src(p.path)} GROUP BY ${k} HAVING count(*) > 1 ORDER BY copies DESC LIMIT 1000`);
  if (r.rows.length === 0) return [];
  const extra = r.rows.reduce((n, x) => n + num(x['copies']) - 1, 0);
  return [{
    kind: 'duplicate_keys', partition: p.partition, count: extra,
    message: `${extra} duplicate row(s) on key (${shape.key.join(', ')}) in ${r.rows.length}${r.rows.length === 1000 ? '+' : ''} key value(s)`,
    samples: r.rows.slice(0, SAMPLE).map((x) => Object.fromEntries(Object.entries(x).map(([a, b]) => [a, a === 'copies' ? num(b) : str(b)]))), windows: [],
  }];
}

export async function nullRates(duck: Duck, shape: HealthShape, p: PartitionInput, t: HealthThresholds): Promise<HealthFinding[]> {
  if (p.previousPath === null || shape.columns.length === 0) return [];
  const sel = `count(*)::BIGINT AS n, ${shape.columns.map((c, i) => `count(${quoteIdent(c.name)})::BIGINT AS c${i}`).join(', ')}`;
  const [now, before] = await Promise.all([duck.all(`SELECT ${sel} FROM ${src(p.path)}`), duck.all(`SELECT ${sel} FROM ${src(p.previousPath)}`)]).catch(() => [undefined, undefined]);
  if (now === undefined || before === undefined) return []; // the previous version had other columns: drift reports it
  const a = now.rows[0]!;
  const b = before.rows[0]!;
  const rate = (r: Row, i: number) => (num(r['n']) === 0 ? 0 : (num(r['n']) - num(r[`c${i}`])) / num(r['n']));
  const changed = shape.columns
    .map((c, i) => ({ column: c.name, before: rate(b, i), after: rate(a, i) }))
    .filter((c) => Math.abs(c.after - c.before) >= t.nullRateDelta);
  if (changed.length === 0) return [];
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return [{
    kind: 'null_rate_change', partition: p.partition, count: changed.length,
    message: `null rate changed: ${changed.map((c) => `${c.column} ${pct(c.before)} → ${pct(c.after)}`).join(', ')}`,
    samples: changed.map((c) => ({ column: c.column, before: c.before, after: c.after })), windows: [],
  }];
}

/** Sessions missing and dates that are not sessions, for daily data (≥ half the sessions in its range present). */
export async function calendarGaps(duck: Duck, shape: HealthShape, p: PartitionInput): Promise<HealthFinding[]> {
  if (shape.date === null) return [];
  const d = `CAST(${shape.date} AS DATE)`;
  const span = (await duck.all(`SELECT CAST(min(${d}) AS VARCHAR) AS lo, CAST(max(${d}) AS VARCHAR) AS hi, count(DISTINCT ${d})::BIGINT AS days FROM ${src(p.path)}`)).rows[0]!;
  if (span['lo'] === null || span['lo'] === undefined) return [];
  let days: string[];
  try {
    days = sessions(str(span['lo']), str(span['hi']));
  } catch {
    return []; // outside the calendar's known range
  }
  if (days.length === 0 || num(span['days']) < days.length / 2) return []; // not daily data
  await duck.run(`CREATE OR REPLACE TEMP TABLE wh_sessions AS SELECT CAST(unnest(${`[${days.map(quoteLiteral).join(',')}]`}) AS DATE) AS date`);
  const out: HealthFinding[] = [];
  const extra = await duck.all(`SELECT DISTINCT CAST(${d} AS VARCHAR) AS date FROM ${src(p.path)} WHERE ${d} NOT IN (SELECT date FROM wh_sessions) ORDER BY 1`);
  if (extra.rows.length > 0) {
    out.push({ kind: 'non_session_dates', partition: p.partition, count: extra.rows.length, message: `${extra.rows.length} date(s) that are not NYSE sessions, e.g. ${extra.rows.slice(0, 3).map((r) => str(r['date'])).join(', ')}`, samples: extra.rows.slice(0, 400).map((r) => ({ date: str(r['date']) })), windows: [] });
  }
  const missing = shape.id === null
    ? await duck.all(`SELECT CAST(date AS VARCHAR) AS date, 1 AS missing FROM wh_sessions WHERE date NOT IN (SELECT ${d} FROM ${src(p.path)}) ORDER BY 1`)
    : await duck.all(`WITH t AS (SELECT DISTINCT ${shape.id} AS id, ${d} AS date FROM ${src(p.path)}),
        span AS (SELECT id, min(date) AS lo, max(date) AS hi FROM t GROUP BY id),
        expect AS (SELECT s.date, count(*) AS n FROM wh_sessions s JOIN span ON s.date BETWEEN span.lo AND span.hi GROUP BY 1),
        have AS (SELECT date, count(*) AS n FROM t GROUP BY 1)
        SELECT CAST(expect.date AS VARCHAR) AS date, (expect.n - coalesce(have.n, 0))::BIGINT AS missing FROM expect LEFT JOIN have USING (date)
        WHERE expect.n > coalesce(have.n, 0) ORDER BY 1`);
  if (missing.rows.length > 0) {
    const total = missing.rows.reduce((n, r) => n + num(r['missing']), 0);
    out.push({
      kind: 'missing_sessions', partition: p.partition, count: total,
      message: `${total} series-session(s) missing on ${missing.rows.length} NYSE session(s), e.g. ${missing.rows.slice(0, 3).map((r) => str(r['date'])).join(', ')}`,
      samples: missing.rows.slice(0, 400).map((r) => ({ date: str(r['date']), missing: num(r['missing']) })), windows: [],
    });
  }
  return out;
}
