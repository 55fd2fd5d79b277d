/**
 * Pulls one TAQ day's raw rows for chosen symbols from the source (WRDS or the sample) into a
 * DuckDB's raw tables: `COPY (SELECT …) TO STDOUT` streams to a temporary CSV file (bounded
 * memory), DuckDB reads it, and the row count is checked against the server's.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SourceUnavailableError, WarehouseError } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { SqlSource } from '../wrds/client.js';
import { RAW_COLUMNS, RAW_TYPES, SYMBOL_SQL } from './clean-day.js';
import { carriesNbboSql, quoteCountSql, type SessionWindow } from './rules.js';

export type RawKind = keyof typeof RAW_COLUMNS;

/** The source relation of each raw table on `day`. */
export function taqRelations(day: string): Record<Exclude<RawKind, 'qcount'>, { schema: string; table: string }> {
  const schema = `taqm_${day.slice(0, 4)}`;
  const ymd = day.replace(/-/g, '');
  return {
    ctm: { schema, table: `ctm_${ymd}` },
    cqm: { schema, table: `cqm_${ymd}` },
    nbbo: { schema, table: `complete_nbbo_${ymd}` },
    master: { schema, table: `mastm_${ymd}` },
  };
}

/** A symbol ('BRK.B') as (sym_root, sym_suffix). */
export function splitSymbol(symbol: string): { root: string; suffix: string | null } {
  const i = symbol.indexOf('.');
  return i < 0 ? { root: symbol, suffix: null } : { root: symbol.slice(0, i), suffix: symbol.slice(i + 1) };
}

/**
 * The SELECT pulling `kind` for `symbols`, given the columns the source relation has. Of the
 * quotes, only those carrying the NBBO travel (nothing else of cqm_ feeds a dataset); `qcount`
 * is the quote counts computed at the source.
 */
export function pullSelect(kind: RawKind, day: string, symbols: readonly string[], present: ReadonlySet<string>, w: SessionWindow): string {
  const roots = [...new Set(symbols.map((s) => splitSymbol(s).root))].sort();
  const inRoots = `sym_root IN (${roots.map(quoteLiteral).join(', ')})`;
  const rels = taqRelations(day);
  if (kind === 'qcount') return quoteCountSql(`${quoteIdent(rels.cqm.schema)}.${quoteIdent(rels.cqm.table)}`, w, inRoots);
  const rel = rels[kind];
  const cols = RAW_COLUMNS[kind].map((c) => (present.has(c) ? quoteIdent(c) : `NULL AS ${quoteIdent(c)}`)).join(', ');
  const carrying = kind === 'cqm' ? ` AND ${carriesNbboSql('qu_source', 'natbbo_ind')}` : '';
  return `SELECT ${cols} FROM ${quoteIdent(rel.schema)}.${quoteIdent(rel.table)} WHERE ${inRoots}${carrying}`;
}

export interface DayPlan {
  readonly day: string;
  /** The SELECTs, in the order ctm, cqm, nbbo, master, qcount. */
  readonly selects: Record<RawKind, string>;
  /** The ctm_ relation's comment and vintage. */
  readonly vintage: string | null;
}

/** Loads the day into `raw_<kind>` tables of `duck`, keeping only `symbols`; returns rows per table. */
export async function pullDay(source: SqlSource, duck: Duck, plan: DayPlan, symbols: readonly string[], tmpDir: string): Promise<Record<RawKind, number>> {
  const counts = {} as Record<RawKind, number>;
  for (const kind of Object.keys(RAW_COLUMNS) as RawKind[]) {
    const file = join(tmpDir, `taq-${process.pid}-${plan.day}-${kind}.csv`);
    try {
      const stream = await source.copyOut(plan.selects[kind]);
      await pipeline(stream, createWriteStream(file));
      const columns = `{${RAW_COLUMNS[kind].map((c) => `${quoteLiteral(c)}: ${quoteLiteral(RAW_TYPES[c]!)}`).join(', ')}}`;
      await duck.run(
        `CREATE OR REPLACE TABLE raw_${kind} AS SELECT * FROM read_csv(${quoteLiteral(file)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = ${columns})`,
      );
      const [r] = (await duck.all(`SELECT count(*)::BIGINT AS n FROM raw_${kind}`)).rows;
      const n = Number(r?.n ?? 0);
      const expected = (stream as { rowCount?: number }).rowCount;
      if (expected !== undefined && expected !== n) {
        throw new SourceUnavailableError(`${plan.selects[kind]}: the server sent ${expected} rows but ${n} arrived`, {
          suggestion: 'the connection was cut mid-transfer; rerun (committed days are kept)',
        });
      }
      counts[kind] = n;
    } finally {
      await rm(file, { force: true });
    }
  }
  // A root may carry other suffixes than the ones asked for: keep exactly the requested symbols.
  await duck.run(`CREATE OR REPLACE TEMP TABLE wanted AS SELECT unnest([${symbols.map(quoteLiteral).join(', ')}]::VARCHAR[]) AS symbol`);
  for (const kind of Object.keys(RAW_COLUMNS) as RawKind[]) {
    await duck.run(`DELETE FROM raw_${kind} WHERE (${SYMBOL_SQL}) NOT IN (SELECT symbol FROM wanted)`);
  }
  return counts;
}
