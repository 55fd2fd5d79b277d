/**
 * The validation gate a synced partition passes before any event names it: row count equals the
 * source's, key unique and not null, NULL rates under their thresholds, dates are NYSE sessions
 * (and, for market-wide files, no session missing), no abnormal drop in rows vs the previous version.
 * Checks run on the fsynced temporary Parquet file, so they read the exact bytes to be committed.
 */
import { isSession, sessions, isCalendarRangeError } from '../../calendar/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { ValidationProblem } from '../object-store.js';
import type { DatasetDef } from './catalogue.js';

export interface GateInput {
  readonly duck: Duck;
  readonly file: string;
  readonly rows: number;
  readonly def: DatasetDef;
  readonly expectedRows: number;
  readonly previousRows: number | undefined;
}

const num = (v: unknown): number => Number(v ?? 0);

export async function validatePartition(g: GateInput): Promise<ValidationProblem | null> {
  const src = `read_parquet(${quoteLiteral(g.file)})`;
  if (g.rows !== g.expectedRows) {
    return { rule: 'row_count', message: `wrote ${g.rows} rows but the source has ${g.expectedRows} for this partition (the transfer was cut short or the source changed mid-sync)` };
  }
  const key = g.def.key;
  if (key.length > 0) {
    const k = key.map(quoteIdent).join(', ');
    const r = (await g.duck.all(`SELECT count(*) FILTER (WHERE ${key.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ')}) AS nulls, count(*) - count(DISTINCT (${k})) AS dups FROM ${src}`)).rows[0] ?? {};
    if (num(r['nulls']) > 0) return { rule: 'pk_not_null', message: `${num(r['nulls'])} rows have a NULL in the key (${key.join(', ')})` };
    if (num(r['dups']) > 0) {
      const d = (await g.duck.all(`SELECT ${k}, count(*) AS n FROM ${src} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`)).rows[0] ?? {};
      return { rule: 'pk_unique', message: `${num(r['dups'])} duplicate keys, e.g. ${key.map((c) => `${c}=${String(d[c])}`).join(', ')} appears ${num(d['n'])} times` };
    }
  }
  for (const [col, max] of Object.entries(g.def.rules.maxNullRate ?? {})) {
    const r = (await g.duck.all(`SELECT count(*) FILTER (WHERE ${quoteIdent(col)} IS NULL)::DOUBLE / greatest(count(*), 1) AS rate FROM ${src}`)).rows[0] ?? {};
    if (num(r['rate']) > max) return { rule: 'null_rate', message: `${col} is NULL in ${(num(r['rate']) * 100).toFixed(2)}% of rows (limit ${(max * 100).toFixed(2)}%)` };
  }
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
