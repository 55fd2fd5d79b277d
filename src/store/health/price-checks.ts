/**
 * The series checks, over every examined partition at once (`wh_part`): price jumps of ≥ 100x or
 * ≤ 1/100 with no split to explain them, splits the price did not follow, stale prices, and late
 * data (rows for dates the previous version covered).
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteIdent, type Duck } from '../../engine/index.js';
import type { HealthShape } from './shape.js';
import { byPart, str, type CheckInput, type HealthThresholds } from './checks.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const MAX_WINDOWS = 20;

function series(shape: HealthShape, rows: string): string {
  const id = shape.id ?? `'all'`;
  return `SELECT wh_part, CAST(${id} AS VARCHAR) AS id, CAST(${shape.date} AS DATE) AS date, ${shape.price} AS p, ${shape.splitLevel ?? 'NULL::DOUBLE'} AS r FROM ${rows}`;
}

type Event = Record<string, string | number | null>;

/**
 * Jumps without a split, splits without a price move, and stale series: one sorted window pass over
 * every series (lag for jumps and splits; a frame of `staleRun` rows whose min equals its max for stale prices).
 */
export async function jumpsSplitsStale(duck: Duck, shape: HealthShape, p: CheckInput, t: HealthThresholds): Promise<HealthFinding[]> {
  if (shape.date === null || shape.price === null) return [];
  const n = t.staleRun;
  const res = await duck.all(`WITH t AS (${series(shape, p.rows)}),
      w AS MATERIALIZED (SELECT *, lag(p) OVER o AS p0, lag(r) OVER o AS r0, lag(date) OVER o AS d0,
          count(p) OVER f AS cnt, min(p) OVER f AS mn, max(p) OVER f AS mx
        FROM t WINDOW o AS (PARTITION BY wh_part, id ORDER BY date), f AS (PARTITION BY wh_part, id ORDER BY date ROWS BETWEEN ${n - 1} PRECEDING AND CURRENT ROW))
    (SELECT 'event' AS kind, wh_part, id, CAST(date AS VARCHAR) AS date, CAST(d0 AS VARCHAR) AS before_date, p0 AS before, p AS after, p / p0 AS ratio, r / nullif(r0, 0) AS factor, NULL::BIGINT AS rows
      FROM w WHERE p > 0 AND p0 > 0 AND (p / p0 >= ${t.jumpRatio} OR p / p0 <= ${1 / t.jumpRatio}
        OR (r0 IS NOT NULL AND r IS NOT NULL AND (r / nullif(r0, 0) >= ${t.splitFactor} OR r / nullif(r0, 0) <= ${1 / t.splitFactor})))
      ORDER BY wh_part, id, date LIMIT 10000)
    UNION ALL
    (SELECT 'stale', wh_part, id, CAST(max(date) AS VARCHAR), NULL, NULL, any_value(p), NULL, NULL, (count(*) + ${n - 1})::BIGINT
      FROM w WHERE cnt = ${n} AND mn = mx GROUP BY wh_part, id ORDER BY wh_part, id LIMIT 10000)`);
  const out: HealthFinding[] = [];
  for (const [part, rows] of byPart(res.rows)) {
    const jumps: Event[] = [];
    const splits: Event[] = [];
    const stale: Event[] = [];
    for (const r of rows) {
      if (r['kind'] === 'stale') {
        stale.push({ id: str(r['id']), last: str(r['date']), rows: num(r['rows']), price: num(r['after']) });
        continue;
      }
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

/** Up to 5 prices either side of each event, for the report page. */
async function windows(duck: Duck, shape: HealthShape, rows: string, part: string, events: readonly Event[]): Promise<HealthFinding['windows']> {
  const out: HealthFinding['windows'] = [];
  for (const e of events) {
    const r = await duck.all(`WITH t AS (${series(shape, rows)}), o AS (SELECT date, p, row_number() OVER (ORDER BY date) AS i FROM t WHERE wh_part = $1 AND id = $2),
        c AS (SELECT i FROM o WHERE date = CAST($3 AS DATE))
      SELECT CAST(date AS VARCHAR) AS date, p FROM o, c WHERE o.i BETWEEN c.i - 5 AND c.i + 5 ORDER BY date`, [part, String(e['id']), String(e['date'])]);
    out.push({ label: `${e['id']} ${e['date']}`, points: r.rows.map((x) => [str(x['date']), num(x['p'])] as [string, number | null]) });
  }
  return out;
}

/**
 * Rows new in this version, of a series the previous version already had, dated on or before the
 * previous version's last date (late-arriving or back-filled rows). A series new to the dataset is not late.
 */
export async function lateData(duck: Duck, shape: HealthShape, p: CheckInput): Promise<HealthFinding[]> {
  if (p.previous === null || shape.date === null || shape.key.length === 0) return [];
  const on = ['wh_part', ...shape.key.map(quoteIdent)].map((c) => `n.${c} = o.${c}`).join(' AND ');
  let res;
  try {
    res = await duck.all(`WITH cut AS (SELECT wh_part, max(CAST(${shape.date} AS DATE)) AS d FROM ${p.previous} GROUP BY wh_part)
      SELECT n.wh_part, ${shape.key.map((c) => `CAST(n.${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')}
      FROM ${p.rows} n JOIN cut ON n.wh_part = cut.wh_part ANTI JOIN ${p.previous} o ON ${on}
      WHERE CAST(n.${shape.date} AS DATE) <= cut.d
      ${shape.id === null ? '' : `AND EXISTS (SELECT 1 FROM ${p.previous} q WHERE q.wh_part = n.wh_part AND q.${shape.id} = n.${shape.id})`} ORDER BY ALL LIMIT 10000`);
  } catch {
    return []; // key columns changed type between versions: schema drift reports it
  }
  return [...byPart(res.rows)].map(([part, rows]) => ({
    kind: 'late_data' as const, partition: part, count: rows.length,
    message: `${rows.length} row(s) appeared for dates the previous version already covered`,
    samples: rows.slice(0, 50).map((r) => Object.fromEntries(Object.entries(r).filter(([a]) => a !== 'wh_part').map(([a, b]) => [a, str(b)]))), windows: [],
  }));
}
