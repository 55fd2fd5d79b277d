/**
 * The validation gate a synced partition passes before any event names it: row count equals the
 * source's, rows in the order asked of the source, key unique and not null, NULL rates under their
 * thresholds, dates are NYSE sessions (and, for market-wide files, no session missing), no abnormal
 * drop in rows vs the previous version. Checks run on the fsynced temporary Parquet file, so they
 * read the exact bytes to be committed.
 *
 * Order, key and NULL checks are one streaming pass: each row is compared with the one before it
 * (`lag() OVER ()`, which DuckDB runs as a streaming window on one thread), so memory does not
 * depend on the partition's size. Because the key leads the order, a duplicate key is always
 * adjacent to its twin.
 */
import { isSession, sessions, isCalendarRangeError } from '../../calendar/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { ValidationProblem } from '../../store/index.js';
import type { DatasetDef } from './catalogue.js';

export interface GateInput {
  readonly duck: Duck;
  readonly file: string;
  readonly rows: number;
  readonly def: DatasetDef;
  /** The columns the source was asked to order by, in order (the dataset's sort key first). */
  readonly order: readonly string[];
  readonly expectedRows: number;
  readonly previousRows: number | undefined;
}

const num = (v: unknown): number => Number(v ?? 0);

/** `p` sorts strictly after `c` (ascending, NULLs last, as PostgreSQL and DuckDB order by default). */
const after = (p: string, c: string): string => `CASE WHEN ${p} IS NULL THEN ${c} IS NOT NULL WHEN ${c} IS NULL THEN false ELSE ${p} > ${c} END`;

/** The previous row sorts after the current one, lexicographically over `cols` (previous values in `prev`). */
function disorder(cols: readonly string[], prev: readonly string[]): string {
  let expr = 'false';
  for (let i = cols.length - 1; i >= 0; i--) {
    expr = `(${after(prev[i]!, cols[i]!)} OR (${prev[i]} IS NOT DISTINCT FROM ${cols[i]} AND ${expr}))`;
  }
  return expr;
}

export async function validatePartition(g: GateInput): Promise<ValidationProblem | null> {
  const src = `read_parquet(${quoteLiteral(g.file)})`;
  if (g.rows !== g.expectedRows) {
    return { rule: 'row_count', message: `wrote ${g.rows} rows but the source has ${g.expectedRows} for this partition (the transfer was cut short or the source changed mid-sync)` };
  }
  const problem = g.rows > 0 ? await orderKeyAndNulls(g, src) : null;
  if (problem !== null) return problem;
  const sc = g.def.rules.sessionColumn;
  if (sc !== undefined && g.rows > 0) {
    const dates = (await g.duck.all(`SELECT DISTINCT strftime(${quoteIdent(sc)}, '%Y-%m-%d') AS d FROM ${src} WHERE ${quoteIdent(sc)} IS NOT NULL ORDER BY d`)).rows.map((r) => String(r['d']));
    try {
      const bad = dates.find((d) => !isSession(d));
      if (bad !== undefined) return { rule: 'session_dates', message: `${sc} ${bad} is not an NYSE session` };
      if (g.def.rules.completeSessions && dates.length > 0) {
        const have = new Set(dates);
        const missing = sessions(dates[0]!, dates[dates.length - 1]!).find((d) => !have.has(d));
        if (missing !== undefined) return { rule: 'session_gap', message: `no row for the session ${missing} (a gap in a market-wide file)` };
      }
    } catch (e) {
      if (isCalendarRangeError(e)) return { rule: 'session_dates', message: (e as Error).message };
      throw e;
    }
  }
  const drop = g.def.rules.maxRowDrop;
  if (drop !== undefined && g.previousRows !== undefined && g.previousRows > 0 && g.rows < g.previousRows * (1 - drop)) {
    return { rule: 'row_count_drop', message: `${g.rows} rows, down from ${g.previousRows} in the previous version (more than ${(drop * 100).toFixed(0)}% fewer)` };
  }
  return null;
}

/** One streaming pass: NULLs in the key, rows out of order, adjacent equal keys, NULL rates. */
async function orderKeyAndNulls(g: GateInput, src: string): Promise<ValidationProblem | null> {
  const key = g.def.key;
  const nullRates = Object.entries(g.def.rules.maxNullRate ?? {});
  const cols = g.order.map(quoteIdent);
  const prev = g.order.map((_, i) => `"__prev${i}"`);
  const needed = [...new Set([...g.order, ...nullRates.map(([c]) => c)])].map(quoteIdent);
  const keyCols = key.map(quoteIdent);
  const keyPrev = key.map((k) => prev[g.order.indexOf(k)]!);
  const r =
    (
      await g.duck.all(
        `SELECT count(*) FILTER (WHERE "__rn" > 1 AND ${disorder(cols, prev)}) AS disorder,
                ${key.length > 0 ? `count(*) FILTER (WHERE ${keyCols.map((c) => `${c} IS NULL`).join(' OR ')})` : '0'} AS key_nulls,
                ${key.length > 0 ? `count(*) FILTER (WHERE "__rn" > 1 AND ${keyCols.map((c, i) => `${c} = ${keyPrev[i]}`).join(' AND ')})` : '0'} AS dups
                ${nullRates.map(([c], i) => `, count(*) FILTER (WHERE ${quoteIdent(c)} IS NULL) AS "__nulls${i}"`).join('')}
         FROM (SELECT ${needed.join(', ')}, row_number() OVER () AS "__rn", ${cols.map((c, i) => `lag(${c}) OVER () AS ${prev[i]}`).join(', ')} FROM ${src})`,
      )
    ).rows[0] ?? {};
  if (num(r['key_nulls']) > 0) return { rule: 'pk_not_null', message: `${num(r['key_nulls'])} rows have a NULL in the key (${key.join(', ')})` };
  if (num(r['disorder']) > 0) {
    return {
      rule: 'sort_order',
      message: `${num(r['disorder'])} rows arrived out of the order asked of the source (${g.order.join(', ')}); the source did not honour ORDER BY (a collation or type the sync does not handle)`,
    };
  }
  if (num(r['dups']) > 0) {
    const d = (await g.duck.all(`SELECT ${keyCols.join(', ')}, count(*) AS n FROM ${src} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`)).rows[0] ?? {};
    return { rule: 'pk_unique', message: `${num(r['dups'])} duplicate keys, e.g. ${key.map((c) => `${c}=${String(d[c])}`).join(', ')} appears ${num(d['n'])} times` };
  }
  for (const [i, [col, max]] of nullRates.entries()) {
    const rate = num(r[`__nulls${i}`]) / g.rows;
    if (rate > max) return { rule: 'null_rate', message: `${col} is NULL in ${(rate * 100).toFixed(2)}% of rows (limit ${(max * 100).toFixed(2)}%)` };
  }
  return null;
}
