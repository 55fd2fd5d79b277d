/**
 * Late data (rows for dates the previous version covered), and the before/after windows of the
 * series findings (series-pass.ts finds jumps, splits and stale series).
 */
import type { HealthFinding } from '../../log/index.js';
import { quoteIdent, type Duck } from '../../engine/index.js';
import type { HealthShape } from './shape.js';
import { byPart, num as count, str, type CheckInput, type HealthThresholds } from './checks.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function series(shape: HealthShape, rows: string): string {
  const id = shape.id ?? `'all'`;
  return `SELECT wh_part, CAST(${id} AS VARCHAR) AS id, CAST(${shape.date} AS DATE) AS date, ${shape.price} AS p, ${shape.splitLevel ?? 'NULL::DOUBLE'} AS r FROM ${rows}`;
}

type Event = Record<string, string | number | null>;

/** Up to 5 prices either side of each event, for the report page. */
export async function windows(duck: Duck, shape: HealthShape, rows: string, part: string, events: readonly Event[]): Promise<HealthFinding['windows']> {
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
 *
 * Most series of a new version hold exactly the previous version's keys up to its last date (an
 * append, or values restated in place), so each side is first summarised per series in one
 * streaming aggregate: the count and the sum of the keys' hashes of the rows up to that date. Only
 * series whose summaries differ are compared key by key (an anti-join): the report costs two scans
 * of the key columns, not a join of every row of both versions.
 */
export async function lateData(duck: Duck, shape: HealthShape, p: CheckInput): Promise<HealthFinding[]> {
  if (p.previous === null || shape.date === null || shape.key.length === 0) return [];
  const id = shape.id === null ? `'all'` : `CAST(${shape.id} AS VARCHAR)`;
  const date = `CAST(${shape.date} AS DATE)`;
  const keyHash = `hash(${shape.key.map(quoteIdent).join(', ')})::HUGEINT`;
  const on = ['wh_part', ...shape.key.map(quoteIdent)].map((c) => `n.${c} = o.${c}`).join(' AND ');
  let res;
  try {
    await duck.run(`CREATE OR REPLACE TEMP TABLE wh_health_cut AS SELECT wh_part, max(${date}) AS d FROM ${p.previous} GROUP BY wh_part`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE wh_health_suspects AS
      WITH o AS (SELECT wh_part, ${id} AS sid, count(*) AS c, sum(${keyHash}) AS h FROM ${p.previous} GROUP BY ALL),
      n AS (SELECT r.wh_part, ${id} AS sid, count(*) AS c, sum(${keyHash}) AS h FROM ${p.rows} r JOIN wh_health_cut cut ON r.wh_part = cut.wh_part WHERE ${date} <= cut.d GROUP BY ALL)
      SELECT n.wh_part, n.sid FROM n JOIN o ON n.wh_part = o.wh_part AND n.sid = o.sid WHERE n.c <> o.c OR n.h <> o.h`);
    const [suspects] = (await duck.all('SELECT count(*)::BIGINT AS k FROM wh_health_suspects')).rows;
    if (count(suspects?.['k']) === 0) return [];
    res = await duck.all(`WITH s AS (SELECT * FROM wh_health_suspects),
      nn AS (SELECT r.* FROM ${p.rows} r JOIN s ON r.wh_part = s.wh_part AND ${id} = s.sid),
      oo AS (SELECT r.* FROM ${p.previous} r JOIN s ON r.wh_part = s.wh_part AND ${id} = s.sid)
      SELECT n.wh_part, ${shape.key.map((c) => `CAST(n.${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')}
      FROM nn n JOIN wh_health_cut cut ON n.wh_part = cut.wh_part ANTI JOIN oo o ON ${on}
      WHERE CAST(n.${shape.date} AS DATE) <= cut.d ORDER BY ALL LIMIT 10000`);
  } catch {
    return []; // key columns changed type between versions: schema drift reports it
  } finally {
    await duck.run('DROP TABLE IF EXISTS wh_health_cut').catch(() => undefined);
    await duck.run('DROP TABLE IF EXISTS wh_health_suspects').catch(() => undefined);
  }
  return [...byPart(res.rows)].map(([part, rows]) => ({
    kind: 'late_data' as const, partition: part, count: rows.length,
    message: `${rows.length} row(s) appeared for dates the previous version already covered`,
    samples: rows.slice(0, 50).map((r) => Object.fromEntries(Object.entries(r).filter(([a]) => a !== 'wh_part').map(([a, b]) => [a, str(b)]))), windows: [],
  }));
}
