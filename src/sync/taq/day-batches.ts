/**
 * A day aggregated a batch of symbols at a time, so memory depends on the batch, not on how many
 * symbols the day has: each batch is attached (the raw relations), cleaned (clean-day.ts) and its
 * rows of every dataset written to a Parquet file; the raw and cleaned relations are then dropped.
 * `acc_<dataset>` reads the day's files, `acc_symbols` the master's symbols and `acc_orphans` the
 * symbols traded or quoted but missing from the master (the validation gate reads both).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { TaqDataset } from './aggregates.js';
import { cleanDay } from './clean-day.js';
import { dropRelations } from './pull-day.js';
import { pool } from '../worker-pool.js';
import type { SessionWindow } from './rules.js';

/** Symbols per batch: a few hundred MB of DuckDB memory at the sample's busiest intensity. */
export const DEFAULT_BATCH_SYMBOLS = 100;

/**
 * The batch's relations, dropped after it (views before the relations they read: tq_quotes and
 * tq_matched, then the raw ones). All are ordinary tables and views: with the cleaned tables made
 * temporary, peak RSS at 10x the symbols rose from 1.14x to 1.47x (DuckDB kept the memory of
 * dropped temporary tables).
 */
const TRANSIENT = ['tq_quotes', 'tq_matched', 'raw_ctm', 'raw_cqm', 'raw_nbbo', 'raw_master', 'raw_qcount', 'tq_quote_counts', 'tq_symbols', 'tq_trades', 'tq_nbbo', 'tq_minute', 'tq_sids', 'tq_sid_check'];

/** `symbols` cut into batches of `size`. */
export function batchesOf<T>(symbols: readonly T[], size: number = DEFAULT_BATCH_SYMBOLS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < symbols.length; i += Math.max(1, size)) out.push(symbols.slice(i, i + Math.max(1, size)));
  return out;
}

/** The SELECT reading a dataset's accumulated day, in its sort order. */
export function accumulatedSelect(d: TaqDataset): string {
  return `SELECT * FROM ${quoteIdent(`acc_${d.name}`)} ORDER BY ${d.sortKey.map((c) => `${quoteIdent(c)} NULLS FIRST`).join(', ')}`;
}

/**
 * Batches cleaned at once, each on its own connection to the day's DuckDB whose default schema is
 * its own (`taq_batch_<k>`), holding its cleaned tables: one batch's steps that keep a CPU idle (a
 * CSV parse, a sort's merge) overlap the other's. Each batch's results go to Parquet files, not
 * tables, so memory does not grow with the day's symbols. Results appended to in-memory tables
 * from two connections took 56–93 MiB instead of 34 (peak RSS at 10x the symbols 1.21–1.41x), and
 * temporary cleaned tables kept the memory of dropped ones (1.47x).
 */
export const BATCHES_AT_ONCE = 2;

export interface AggregateOptions {
  /** Where each batch's result files go (the caller removes it once the day is written). */
  readonly partsDir: string;
  /** Batches at once (default {@link BATCHES_AT_ONCE}); one at a time on a Duck that cannot connect more. */
  readonly atOnce?: number;
}

/**
 * Aggregate the day: for each batch, `load(batch, conn)` provides the raw relations (raw_ctm,
 * raw_cqm, raw_nbbo, raw_master; tables or views, pull-day.ts) with that batch's rows on the
 * connection `conn`; then the batch is cleaned, its results are written to Parquet files in
 * `partsDir`, and the release `load` may return is called (the sync's deletes the batch's pulled
 * files). Afterwards `duck` reads the day's results as the views `acc_<dataset>`, `acc_symbols`
 * and `acc_orphans` over those files, batches in any order: readers sort them (accumulatedSelect).
 */
export async function aggregateInBatches<B>(
  duck: Duck,
  day: string,
  w: SessionWindow,
  datasets: readonly TaqDataset[],
  batches: readonly B[],
  load: (batch: B, conn: Duck) => Promise<void | (() => Promise<void>)>,
  o: AggregateOptions,
): Promise<void> {
  mkdirSync(o.partsDir, { recursive: true });
  const results: { name: string; select: string; columns: string }[] = [
    ...datasets.map((d) => ({ name: `acc_${d.name}`, select: d.select(day, w), columns: d.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ') })),
    { name: 'acc_symbols', select: 'SELECT symbol FROM tq_symbols', columns: 'symbol VARCHAR' },
    {
      name: 'acc_orphans',
      select: 'SELECT symbol FROM tq_sids WHERE symbol NOT IN (SELECT symbol FROM tq_symbols)',
      columns: 'symbol VARCHAR',
    },
  ];
  await dropRelations(duck, results.map((r) => r.name));
  const part = (result: string, batch: number): string => join(o.partsDir, `${result}-${batch}.parquet`);
  const n = duck.connect === undefined ? 1 : Math.min(Math.max(1, o.atOnce ?? BATCHES_AT_ONCE), Math.max(1, batches.length));
  const conns: Duck[] = [];
  try {
    if (n === 1) conns.push(duck);
    for (let k = 0; n > 1 && k < n; k++) {
      const conn = await duck.connect!();
      conns.push(conn);
      await conn.run(`CREATE SCHEMA IF NOT EXISTS taq_batch_${k}`);
      await conn.run(`SET search_path = 'taq_batch_${k},main'`);
    }
    await pool(batches, conns, async (batch, index, conn) => {
      const release = await load(batch, conn);
      try {
        await cleanDay(conn, w, { ticks: datasets.some((d) => d.name === 'taq_ticks') });
        for (const r of results) await conn.run(`COPY (${r.select}) TO ${quoteLiteral(part(r.name, index))} (FORMAT parquet)`);
      } finally {
        await dropRelations(conn, TRANSIENT).catch(() => undefined);
        await release?.();
      }
    });
    for (const r of results) {
      const files = batches.map((_, i) => part(r.name, i));
      await duck.run(
        files.length === 0
          ? `CREATE TABLE ${r.name} (${r.columns})`
          : `CREATE VIEW ${r.name} AS SELECT * FROM read_parquet([${files.map(quoteLiteral).join(', ')}])`,
      );
    }
  } finally {
    if (n > 1) for (const c of conns) c.close();
  }
}
