/**
 * A day aggregated a batch of symbols at a time, so memory depends on the batch, not on how many
 * symbols the day has: each batch is loaded into the raw tables, cleaned (clean-day.ts) and its
 * rows of every dataset appended to `acc_<dataset>`; the raw and cleaned tables are then
 * dropped. `acc_symbols` holds the master's symbols and `acc_orphans` symbols traded or quoted
 * but missing from the master (the validation gate reads both).
 */
import { quoteIdent, type Duck } from '../../engine/index.js';
import type { TaqDataset } from './aggregates.js';
import { cleanDay } from './clean-day.js';
import { dropRelations } from './pull-day.js';
import type { SessionWindow } from './rules.js';

/** Symbols per batch: a few hundred MB of DuckDB memory at the sample's busiest intensity. */
export const DEFAULT_BATCH_SYMBOLS = 100;

/**
 * The batch's relations, dropped after it (views before the relations they read: tq_quotes, then
 * the raw ones, then `wanted`). All are ordinary tables and views: with the cleaned tables made
 * temporary, peak RSS at 10x the symbols rose from 1.14x to 1.47x (DuckDB kept the memory of
 * dropped temporary tables).
 */
const TRANSIENT = ['tq_quotes', 'raw_ctm', 'raw_cqm', 'raw_nbbo', 'wanted', 'raw_master', 'raw_qcount', 'tq_quote_counts', 'tq_symbols', 'tq_trades', 'tq_nbbo', 'tq_minute', 'tq_ids', 'tq_matched'];

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
 * Aggregate the day: for each batch, `load(batch)` provides the raw relations (raw_ctm, raw_cqm,
 * raw_nbbo, raw_master; tables or views, pull-day.ts) with that batch's rows; then the batch is
 * cleaned and appended, and the release `load` may return is called (the sync's deletes the batch's pulled files).
 */
export async function aggregateInBatches<B>(
  duck: Duck,
  day: string,
  w: SessionWindow,
  datasets: readonly TaqDataset[],
  batches: readonly B[],
  load: (batch: B) => Promise<void | (() => Promise<void>)>,
): Promise<void> {
  for (const d of datasets) {
    await duck.run(`CREATE OR REPLACE TABLE ${quoteIdent(`acc_${d.name}`)} (${d.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
  }
  await duck.run('CREATE OR REPLACE TABLE acc_symbols (symbol VARCHAR)');
  await duck.run('CREATE OR REPLACE TABLE acc_orphans (symbol VARCHAR)');
  for (const batch of batches) {
    const release = await load(batch);
    try {
      await cleanDay(duck, w);
      await duck.run('INSERT INTO acc_symbols SELECT symbol FROM tq_symbols');
      await duck.run('INSERT INTO acc_orphans SELECT DISTINCT symbol FROM (SELECT symbol FROM tq_trades UNION ALL SELECT symbol FROM tq_nbbo) WHERE symbol NOT IN (SELECT symbol FROM tq_symbols)');
      for (const d of datasets) await duck.run(`INSERT INTO ${quoteIdent(`acc_${d.name}`)} ${d.select(day, w)}`);
      await dropRelations(duck, TRANSIENT);
    } finally {
      await release?.();
    }
  }
}
