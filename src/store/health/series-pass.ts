/**
 * The series checks in ONE sorted window pass over every examined partition (`wh_part`): price jumps
 * of ≥ 100x or ≤ 1/100 with no split to explain them, splits the price did not follow, stale prices,
 * NYSE sessions missing or extra (daily data), and — when the key is (series, date) — duplicate keys.
 * The pass keeps only the rows that mark something (a small temporary table); each finding kind is
 * then a query over those few rows. Before, the calendar and the duplicate checks each re-read,
 * re-grouped and re-joined every row (the bulk of a report's time).
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteLiteral, type Duck } from '../../engine/index.js';
import { sessions } from '../../calendar/index.js';
import type { HealthShape } from './shape.js';
import { byPart, str, type CheckInput, type HealthThresholds } from './checks.js';
import { windows } from './price-checks.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const MAX_WINDOWS = 20;
const SAMPLE = 20;
type Event = Record<string, string | number | null>;

/** The findings of the pass, by check, in the order the checks report. */
export interface SeriesFindings {
  /** Null: the key is not (series, date); duplicate keys need their own query. */
  readonly duplicates: HealthFinding[] | null;
  readonly calendar: HealthFinding[];
  readonly series: HealthFinding[];
}

/** The partitions holding daily data (≥ half the sessions of their date range present), and the sessions they span. */
async function dailyParts(duck: Duck, shape: HealthShape, rows: string): Promise<{ parts: string[]; lo: string; hi: string }> {
  const d = `CAST(${shape.date} AS DATE)`;
  const spans = (await duck.all(`SELECT wh_part, CAST(min(${d}) AS VARCHAR) AS lo, CAST(max(${d}) AS VARCHAR) AS hi, count(DISTINCT ${d})::BIGINT AS days FROM ${rows} GROUP BY wh_part`)).rows;
  const parts: string[] = [];
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
    if (n === 0 || Number(s['days']) < n / 2) continue; // not daily data
    parts.push(str(s['wh_part']));
    if (lo === '' || str(s['lo']) < lo) lo = str(s['lo']);
    if (hi === '' || str(s['hi']) > hi) hi = str(s['hi']);
  }
  return { parts, lo, hi };
}

export async function seriesPass(duck: Duck, shape: HealthShape, p: CheckInput, t: HealthThresholds): Promise<SeriesFindings> {
  if (shape.date === null) return { duplicates: null, calendar: [], series: [] };

  const daily = await dailyParts(duck, shape, p.rows);
  const cal = daily.parts.length > 0;
  if (cal) {
    // One bound string, split in DuckDB: parsing thousands of date literals costs more than the check.
    await duck.run(`CREATE OR REPLACE TEMP TABLE wh_sessions AS SELECT CAST(d AS DATE) AS date, row_number() OVER (ORDER BY d) AS i FROM (SELECT unnest(string_split($1, ',')) AS d)`, [sessions(daily.lo, daily.hi).join(',')]);
  }
  const hasPrice = shape.price !== null;
  const dup = shape.keyIsSeriesDate;
  const n = t.staleRun;
  const examined = p.files === undefined ? null : new Set(p.files.map(([part]) => part)).size;
  const isCal = !cal ? 'false' : daily.parts.length === examined ? 'true' : `t.wh_part IN (${daily.parts.map(quoteLiteral).join(', ')})`;
  const event = `p > 0 AND p0 > 0 AND (p / p0 >= ${t.jumpRatio} OR p / p0 <= ${1 / t.jumpRatio}
      OR (r0 IS NOT NULL AND r IS NOT NULL AND (r / nullif(r0, 0) >= ${t.splitFactor} OR r / nullif(r0, 0) <= ${1 / t.splitFactor})))`;
  const marks = [
    ...(hasPrice ? [event, `(cnt = ${n} AND mn = mx)`] : []),
    ...(dup ? ['date = d0'] : []),
    ...(cal ? ['(cal AND date IS NOT NULL AND i IS NULL)', '(i - i0 > 1)'] : []),
  ];
  if (marks.length === 0 && shape.adjacentKey === null) return { duplicates: null, calendar: [], series: [] };
  try {
    const cols = { isCal, hasPrice, n, marks };
    // Objects are written sorted by their key, so the rows usually arrive in (series, date) order:
    // a streaming pass (each row against the ones before it, no sort) then finds everything. A row
    // out of that order, or on a date that is no session, sends the group to the sorted pass.
    const onePart = p.files !== undefined && new Set(p.files.map(([part]) => part)).size === 1;
    const streamed = await streamingMarks(duck, shape, p.rows, daily.lo, cols, onePart);
    if (!streamed) {
      if (marks.length === 0) return { duplicates: null, calendar: [], series: [] };
      await sortedMarks(duck, shape, p.rows, cal, cols);
    }
    const duplicates = dup ? await duplicateFindings(duck, shape) : streamed && shape.adjacentKey !== null ? await adjacentDuplicates(duck, shape) : null;
    const calendar = cal ? await calendarFindings(duck) : [];
    const series = hasPrice ? await seriesFindings(duck, shape, p, t, event) : [];
    return { duplicates, calendar, series };
  } finally {
    await duck.run('DROP TABLE IF EXISTS wh_health_marks').catch(() => undefined);
    await duck.run('DROP TABLE IF EXISTS wh_session_days').catch(() => undefined);
  }
}

interface MarkSql {
  readonly isCal: string;
  readonly hasPrice: boolean;
  readonly n: number;
  readonly marks: readonly string[];
}

const DAY_MS = 86_400_000;

/**
 * The marking rows of a pass over the rows in the order they are stored (`lag() OVER ()`, which
 * DuckDB streams without sorting). Returns false, leaving no table, when the rows are not in
 * (partition, series, date) order or a daily partition has a row on a non-session date: the
 * running "last session" of the sorted pass is then needed.
 */
async function streamingMarks(duck: Duck, shape: HealthShape, rows: string, lo: string, m: MarkSql, onePart: boolean): Promise<boolean> {
  const cal = m.isCal !== 'false';
  if (cal) {
    // The session number of every calendar day from `lo` (NULL on non-session days): a list
    // indexed by day, so the pass looks dates up without a join (which could reorder rows).
    const first = Date.parse(`${lo}T00:00:00Z`);
    const all = (await duck.all('SELECT CAST(date AS VARCHAR) AS d, i FROM wh_sessions ORDER BY i')).rows;
    const days: (number | null)[] = [];
    for (const r of all) {
      const at = Math.round((Date.parse(`${str(r['d'])}T00:00:00Z`) - first) / DAY_MS);
      while (days.length < at) days.push(null);
      days.push(Number(r['i']));
    }
    await duck.run(`CREATE OR REPLACE TEMP TABLE wh_session_days AS SELECT list_transform(string_split($1, ','), x -> CAST(nullif(x, '') AS BIGINT)) AS l`, [days.map((d) => (d === null ? '' : String(d))).join(',')]);
  }
  const id = shape.id ?? `'all'`;
  // Rows of one partition need no partition comparison (each lag is a window column to compute).
  // Partitions are compared by their integer index (wh_pi), not their name.
  const samePart = (k: number) => (onePart ? 'true' : `lag(wh_pi, ${k}) OVER () = wh_pi`);
  const same = (k: number) => (k === 0 ? 'true' : onePart ? `(lag(rid, ${k}) OVER () = rid)` : `(lag(wh_pi, ${k}) OVER () = wh_pi AND lag(rid, ${k}) OVER () = rid)`);
  const prev = (c: string) => `CASE WHEN ${same(1)} THEN lag(${c}) OVER () END`;
  const staleEq = Array.from({ length: m.n - 1 }, (_, k) => `lag(p, ${k + 1}) OVER () = p`);
  const stale = `(${[same(m.n - 1), 'p IS NOT NULL', ...staleEq].join(' AND ')})`;
  const disorder = `(${samePart(1)} AND (lag(rid) OVER () > rid OR (lag(rid) OVER () = rid AND lag(date) OVER () > date)))`;
  const lookup = cal ? `CASE WHEN ${m.isCal} THEN (SELECT l FROM wh_session_days)[CAST(t.date - DATE ${quoteLiteral(lo)} AS BIGINT) + 1] END` : 'NULL::BIGINT';
  // Duplicates on a (K, date) key whose K is not the series: adjacent in stored (key) order.
  const k = shape.adjacentKey;
  const kPart = onePart ? '' : 'lag(wh_pi) OVER () = wh_pi AND ';
  const kCols = k === null ? '' : `, (${kPart}lag(k) OVER () = k AND lag(date) OVER () = date) AS kdup, (${kPart}(lag(k) OVER () > k OR (lag(k) OVER () = k AND lag(date) OVER () > date))) AS kbad`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE wh_health_marks AS
    WITH t AS (SELECT wh_part, wh_pi, ${id} AS rid, CAST(${shape.date} AS DATE) AS date, ${shape.price ?? 'NULL::DOUBLE'} AS p, ${shape.splitLevel ?? 'NULL::DOUBLE'} AS r${k === null ? '' : `, ${k} AS k`} FROM ${rows}),
      c AS (SELECT t.*, ${m.isCal.replaceAll('t.wh_part', 'wh_part')} AS cal, ${lookup.replaceAll('t.wh_part', 'wh_part')} AS i FROM t),
      w AS (SELECT *, ${prev('p')} AS p0, ${prev('r')} AS r0, ${prev('date')} AS d0, ${prev('i')} AS i0,
          ${m.hasPrice ? `CASE WHEN ${stale} THEN ${m.n} END` : 'NULL'}::BIGINT AS cnt, p AS mn, p AS mx,
          (rid IS NULL OR date IS NULL OR ${disorder} OR (cal AND i IS NULL)) AS bad${kCols}
        FROM c)
    SELECT * EXCLUDE (rid, wh_pi${k === null ? '' : ', k'}), CAST(rid AS VARCHAR) AS id${k === null ? '' : ', CAST(k AS VARCHAR) AS k'} FROM w WHERE bad OR ${[...m.marks, ...(k === null ? [] : ['kdup', 'kbad'])].join(' OR ')}`);
  const bad = await duck.all('SELECT 1 AS x FROM wh_health_marks WHERE bad LIMIT 1');
  if (bad.rows.length === 0) return true;
  await duck.run('DROP TABLE IF EXISTS wh_health_marks');
  return false;
}

/** The marking rows of one sorted window pass per (partition, series) — any row order, any dates. */
async function sortedMarks(duck: Duck, shape: HealthShape, rows: string, cal: boolean, m: MarkSql): Promise<void> {
  const n = m.n;
  // i: the session number of the row's date (daily partitions only); i0: the last session number
  // before it in the series (a running max skips rows on non-session dates).
  await duck.run(`CREATE OR REPLACE TEMP TABLE wh_health_marks AS
    WITH t AS (SELECT wh_part, CAST(${shape.id ?? `'all'`} AS VARCHAR) AS id, CAST(${shape.date} AS DATE) AS date, ${shape.price ?? 'NULL::DOUBLE'} AS p, ${shape.splitLevel ?? 'NULL::DOUBLE'} AS r FROM ${rows}),
      c AS (SELECT t.*, ${m.isCal} AS cal, ${cal ? `CASE WHEN ${m.isCal} THEN s.i END` : 'NULL::BIGINT'} AS i FROM t ${cal ? 'LEFT JOIN wh_sessions s ON t.date = s.date' : ''}),
      w AS (SELECT *, lag(p) OVER o AS p0, lag(r) OVER o AS r0, lag(date) OVER o AS d0,
          max(i) OVER (PARTITION BY wh_part, id ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS i0,
          ${m.hasPrice ? 'count(p) OVER f AS cnt, min(p) OVER f AS mn, max(p) OVER f AS mx' : 'NULL::BIGINT AS cnt, NULL::DOUBLE AS mn, NULL::DOUBLE AS mx'},
          false AS bad
        FROM c WINDOW o AS (PARTITION BY wh_part, id ORDER BY date), f AS (PARTITION BY wh_part, id ORDER BY date ROWS BETWEEN ${n - 1} PRECEDING AND CURRENT ROW))
    SELECT * FROM w WHERE ${m.marks.join(' OR ')}`);
}

/**
 * Duplicate keys from the marked rows: a row dated like the one before it in its series (`col` =
 * 'id', key (series, date)), or equal on the key's first column and date to the row before it
 * (`col` = 'k', key (K, date)).
 */
async function duplicateFindings(duck: Duck, shape: HealthShape, col: 'id' | 'k' = 'id'): Promise<HealthFinding[]> {
  const marked = col === 'id' ? 'date = d0' : 'kdup';
  const r = await duck.all(`SELECT wh_part, ${col} AS v, CAST(date AS VARCHAR) AS date, (count(*) + 1)::BIGINT AS copies FROM wh_health_marks WHERE ${marked} GROUP BY wh_part, ${col}, date ORDER BY wh_part, copies DESC, ${col}, date LIMIT 10000`);
  const roles = col === 'id' ? shape.keyRoles : (['id', 'date'] as const);
  return [...byPart(r.rows)].map(([part, rows]) => {
    const extra = rows.reduce((k, x) => k + Number(x['copies']) - 1, 0);
    return {
      kind: 'duplicate_keys' as const, partition: part, count: extra,
      message: `${extra} duplicate row(s) on key (${shape.key.join(', ')}) in ${rows.length} key value(s)`,
      samples: rows.slice(0, SAMPLE).map((x) => ({ ...Object.fromEntries(shape.key.map((k, i) => [k, str(roles[i] === 'date' ? x['date'] : x['v'])])), copies: Number(x['copies']) })),
      windows: [],
    };
  });
}

/** Duplicates on a (K, date) key found as adjacent rows; null when a file was not in key order (the caller queries). */
async function adjacentDuplicates(duck: Duck, shape: HealthShape): Promise<HealthFinding[] | null> {
  if ((await duck.all('SELECT 1 AS x FROM wh_health_marks WHERE kbad LIMIT 1')).rows.length > 0) return null;
  return duplicateFindings(duck, shape, 'k');
}

async function calendarFindings(duck: Duck): Promise<HealthFinding[]> {
  const out: HealthFinding[] = [];
  const extra = await duck.all(`SELECT DISTINCT wh_part, CAST(date AS VARCHAR) AS date FROM wh_health_marks WHERE cal AND date IS NOT NULL AND i IS NULL ORDER BY 1, 2`);
  const missing = await duck.all(`SELECT m.wh_part, CAST(s.date AS VARCHAR) AS date, count(*)::BIGINT AS missing FROM wh_health_marks m JOIN wh_sessions s ON s.i > m.i0 AND s.i < m.i
    WHERE m.i - m.i0 > 1 GROUP BY 1, 2 ORDER BY 1, 2`);
  const missingBy = byPart(missing.rows);
  const parts = [...new Set([...byPart(extra.rows).keys(), ...missingBy.keys()])].sort();
  const extraBy = byPart(extra.rows);
  for (const part of parts) {
    const rows = extraBy.get(part);
    if (rows !== undefined) {
      out.push({ kind: 'non_session_dates', partition: part, count: rows.length, message: `${rows.length} date(s) that are not NYSE sessions, e.g. ${rows.slice(0, 3).map((r) => str(r['date'])).join(', ')}`, samples: rows.slice(0, 400).map((r) => ({ date: str(r['date']) })), windows: [] });
    }
    const gaps = missingBy.get(part);
    if (gaps !== undefined) {
      const total = gaps.reduce((k, r) => k + Number(r['missing']), 0);
      out.push({
        kind: 'missing_sessions', partition: part, count: total,
        message: `${total} series-session(s) missing on ${gaps.length} NYSE session(s), e.g. ${gaps.slice(0, 3).map((r) => str(r['date'])).join(', ')}`,
        samples: gaps.slice(0, 400).map((r) => ({ date: str(r['date']), missing: Number(r['missing']) })), windows: [],
      });
    }
  }
  return out;
}

async function seriesFindings(duck: Duck, shape: HealthShape, p: CheckInput, t: HealthThresholds, event: string): Promise<HealthFinding[]> {
  const n = t.staleRun;
  const ev = await duck.all(`SELECT wh_part, id, CAST(date AS VARCHAR) AS date, CAST(d0 AS VARCHAR) AS before_date, p0 AS before, p AS after, p / p0 AS ratio, r / nullif(r0, 0) AS factor
    FROM wh_health_marks WHERE ${event} ORDER BY wh_part, id, date LIMIT 10000`);
  const st = await duck.all(`SELECT wh_part, id, CAST(max(date) AS VARCHAR) AS date, any_value(p) AS after, (count(*) + ${n - 1})::BIGINT AS rows
    FROM wh_health_marks WHERE cnt = ${n} AND mn = mx GROUP BY wh_part, id ORDER BY wh_part, id LIMIT 10000`);
  const evBy = byPart(ev.rows);
  const stBy = byPart(st.rows);
  const out: HealthFinding[] = [];
  for (const part of [...new Set([...evBy.keys(), ...stBy.keys()])].sort()) {
    const jumps: Event[] = [];
    const splits: Event[] = [];
    for (const r of evBy.get(part) ?? []) {
      const ratio = num(r['ratio'])!;
      const factor = num(r['factor']);
      const isSplit = factor !== null && (factor >= t.splitFactor || factor <= 1 / t.splitFactor);
      const isJump = ratio >= t.jumpRatio || ratio <= 1 / t.jumpRatio;
      // A split of factor f explains a move of the price by about 1/f.
      const explained = isSplit && ratio * factor! >= 0.5 && ratio * factor! <= 2;
      const e = { id: str(r['id']), date: str(r['date']), before_date: str(r['before_date']), before: num(r['before']), after: num(r['after']), ratio, factor };
      if (isJump && !explained) jumps.push(e);
      if (isSplit && ratio >= 0.8 && ratio <= 1.25) splits.push(e);
    }
    const stale: Event[] = (stBy.get(part) ?? []).map((r) => ({ id: str(r['id']), last: str(r['date']), rows: num(r['rows']), price: num(r['after']) }));
    if (jumps.length > 0) {
      out.push({
        kind: 'price_jump', partition: part, count: jumps.length,
        message: `${jumps.length} price jump(s) of ≥ ${t.jumpRatio}x or ≤ 1/${t.jumpRatio} with no split, e.g. ${jumps.slice(0, 3).map((j) => `${j.id} ${j.date} ${j.before} → ${j.after}`).join('; ')}`,
        samples: jumps.slice(0, 50), windows: await windows(duck, shape, p.rows, part, jumps.slice(0, MAX_WINDOWS)),
      });
    }
    if (splits.length > 0) {
      out.push({
        kind: 'split_without_move', partition: part, count: splits.length,
        message: `${splits.length} split(s) with no matching price move, e.g. ${splits.slice(0, 3).map((j) => `${j.id} ${j.date} factor ${Number(j.factor).toFixed(2)}, price ${j.before} → ${j.after}`).join('; ')}`,
        samples: splits.slice(0, 50), windows: await windows(duck, shape, p.rows, part, splits.slice(0, MAX_WINDOWS)),
      });
    }
    if (stale.length > 0) {
      stale.sort((a, b) => Number(b['rows']) - Number(a['rows']) || String(a['id']).localeCompare(String(b['id'])));
      out.push({
        kind: 'stale_series', partition: part, count: stale.length,
        message: `${stale.length} series with the same price for ≥ ${n} consecutive rows, e.g. ${stale.slice(0, 3).map((r) => `${r['id']} ${r['price']} through ${r['last']}`).join('; ')}`,
        samples: stale.slice(0, 50), windows: [],
      });
    }
  }
  return out;
}
