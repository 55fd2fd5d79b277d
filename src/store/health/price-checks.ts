/**
 * The series checks: price jumps of ≥ 100x or ≤ 1/100 with no split to explain them, splits the
 * price did not follow, stale prices, and late data (rows for dates the previous version covered).
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { HealthShape } from './shape.js';
import type { HealthThresholds, PartitionInput } from './checks.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
/** A Parquet file's path, or the name of a temporary table holding its rows. */
const src = (rel: string) => (rel.startsWith('/') ? `read_parquet(${quoteLiteral(rel)})` : rel);
const MAX_WINDOWS = 20;

function series(shape: HealthShape, path: string): string {
  const id = shape.id ?? `'all'`;
  return `SELECT CAST(${id} AS VARCHAR) AS id, CAST(${shape.date} AS DATE) AS date, ${shape.price} AS p, ${shape.splitLevel ?? 'NULL::DOUBLE'} AS r FROM ${src(path)}`;
}

/** Jumps without a split, and splits without a price move. */
export async function jumpsAndSplits(duck: Duck, shape: HealthShape, p: PartitionInput, t: HealthThresholds): Promise<HealthFinding[]> {
  if (shape.date === null || shape.price === null) return [];
  const res = await duck.all(`WITH t AS (${series(shape, p.path)} WHERE ${shape.price} > 0),
      w AS (SELECT *, lag(p) OVER o AS p0, lag(r) OVER o AS r0, lag(date) OVER o AS d0 FROM t WINDOW o AS (PARTITION BY id ORDER BY date))
    SELECT id, CAST(date AS VARCHAR) AS date, CAST(d0 AS VARCHAR) AS before_date, p0 AS before, p AS after, p / p0 AS ratio, r / nullif(r0, 0) AS factor
    FROM w WHERE p0 IS NOT NULL AND (p / p0 >= ${t.jumpRatio} OR p / p0 <= ${1 / t.jumpRatio}
      OR (r0 IS NOT NULL AND r IS NOT NULL AND (r / nullif(r0, 0) >= ${t.splitFactor} OR r / nullif(r0, 0) <= ${1 / t.splitFactor})))
    ORDER BY id, date LIMIT 10000`);
  const jumps: Record<string, string | number | null>[] = [];
  const splits: Record<string, string | number | null>[] = [];
  for (const r of res.rows) {
    const ratio = num(r['ratio'])!;
    const factor = num(r['factor']);
    const isSplit = factor !== null && (factor >= t.splitFactor || factor <= 1 / t.splitFactor);
    const isJump = ratio >= t.jumpRatio || ratio <= 1 / t.jumpRatio;
    // A split of factor f explains a move of the price by about 1/f.
    const explained = isSplit && ratio * factor! >= 0.5 && ratio * factor! <= 2;
    const row = { id: str(r['id']), date: str(r['date']), before_date: str(r['before_date']), before: num(r['before']), after: num(r['after']), ratio, factor };
    if (isJump && !explained) jumps.push(row);
    if (isSplit && ratio >= 0.8 && ratio <= 1.25) splits.push(row);
  }
  const out: HealthFinding[] = [];
  if (jumps.length > 0) {
    out.push({
      kind: 'price_jump', partition: p.partition, count: jumps.length,
      message: `${jumps.length} price jump(s) of ≥ ${t.jumpRatio}x or ≤ 1/${t.jumpRatio} with no split, e.g. ${jumps.slice(0, 3).map((j) => `${j.id} ${j.date} ${j.before} → ${j.after}`).join('; ')}`,
      samples: jumps.slice(0, 50), windows: await windows(duck, shape, p.path, jumps.slice(0, MAX_WINDOWS)),
    });
  }
  if (splits.length > 0) {
    out.push({
      kind: 'split_without_move', partition: p.partition, count: splits.length,
      message: `${splits.length} split(s) with no matching price move, e.g. ${splits.slice(0, 3).map((j) => `${j.id} ${j.date} factor ${Number(j.factor).toFixed(2)}, price ${j.before} → ${j.after}`).join('; ')}`,
      samples: splits.slice(0, 50), windows: await windows(duck, shape, p.path, splits.slice(0, MAX_WINDOWS)),
    });
  }
  return out;
}

/** Up to 5 prices either side of each event, for the report page. */
async function windows(duck: Duck, shape: HealthShape, path: string, events: readonly Record<string, string | number | null>[]): Promise<HealthFinding['windows']> {
  const out: HealthFinding['windows'] = [];
  for (const e of events) {
    const r = await duck.all(`WITH t AS (${series(shape, path)}), o AS (SELECT date, p, row_number() OVER (ORDER BY date) AS i FROM t WHERE id = $1),
        c AS (SELECT i FROM o WHERE date = CAST($2 AS DATE))
      SELECT CAST(date AS VARCHAR) AS date, p FROM o, c WHERE o.i BETWEEN c.i - 5 AND c.i + 5 ORDER BY date`, [String(e['id']), String(e['date'])]);
    out.push({ label: `${e['id']} ${e['date']}`, points: r.rows.map((x) => [str(x['date']), num(x['p'])] as [string, number | null]) });
  }
  return out;
}

/** Series whose price stays exactly the same for `staleRun` or more consecutive rows. */
export async function staleSeries(duck: Duck, shape: HealthShape, p: PartitionInput, t: HealthThresholds): Promise<HealthFinding[]> {
  if (shape.date === null || shape.price === null) return [];
  const res = await duck.all(`WITH t AS (${series(shape, p.path)}),
      c AS (SELECT *, CASE WHEN p IS NOT DISTINCT FROM lag(p) OVER o THEN 0 ELSE 1 END AS chg FROM t WINDOW o AS (PARTITION BY id ORDER BY date)),
      g AS (SELECT *, sum(chg) OVER (PARTITION BY id ORDER BY date ROWS UNBOUNDED PRECEDING) AS grp FROM c)
    SELECT id, CAST(min(date) AS VARCHAR) AS first, CAST(max(date) AS VARCHAR) AS last, count(*)::BIGINT AS rows, any_value(p) AS price
    FROM g WHERE p IS NOT NULL GROUP BY id, grp HAVING count(*) >= ${t.staleRun} ORDER BY rows DESC, id LIMIT 1000`);
  if (res.rows.length === 0) return [];
  const ids = new Set(res.rows.map((r) => str(r['id'])));
  return [{
    kind: 'stale_series', partition: p.partition, count: ids.size,
    message: `${ids.size} series with the same price for ≥ ${t.staleRun} consecutive rows, e.g. ${res.rows.slice(0, 3).map((r) => `${str(r['id'])} ${num(r['price'])} from ${str(r['first'])} to ${str(r['last'])}`).join('; ')}`,
    samples: res.rows.slice(0, 50).map((r) => ({ id: str(r['id']), first: str(r['first']), last: str(r['last']), rows: num(r['rows']), price: num(r['price']) })), windows: [],
  }];
}

/**
 * Rows new in this version, of a series the previous version already had, dated on or before the
 * previous version's last date (late-arriving or back-filled rows). A series new to the dataset is not late.
 */
export async function lateData(duck: Duck, shape: HealthShape, p: PartitionInput): Promise<HealthFinding[]> {
  if (p.previousPath === null || shape.date === null || shape.key.length === 0) return [];
  const k = shape.key.map(quoteIdent).join(', ');
  let res;
  try {
    res = await duck.all(`WITH old AS (SELECT ${k} FROM ${src(p.previousPath)}), cut AS (SELECT max(CAST(${shape.date} AS DATE)) AS d FROM ${src(p.previousPath)})
      SELECT ${shape.key.map((c) => `CAST(n.${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')}
      FROM ${src(p.path)} n ANTI JOIN old USING (${k}) WHERE CAST(n.${shape.date} AS DATE) <= (SELECT d FROM cut)
      ${shape.id === null ? '' : `AND n.${shape.id} IN (SELECT ${shape.id} FROM ${src(p.previousPath)})`} ORDER BY ALL LIMIT 10000`);
  } catch {
    return []; // key columns changed type between versions: schema drift reports it
  }
  if (res.rows.length === 0) return [];
  return [{
    kind: 'late_data', partition: p.partition, count: res.rows.length,
    message: `${res.rows.length}${res.rows.length === 10000 ? '+' : ''} row(s) appeared for dates the previous version already covered`,
    samples: res.rows.slice(0, 50).map((r) => Object.fromEntries(Object.entries(r).map(([a, b]) => [a, str(b)]))), windows: [],
  }];
}
