/**
 * Every `wh` command: its name, its one-line summary (what `wh --help` lists) and how to load it.
 * A command's module, and the libraries it needs (DuckDB, Arrow, pg, the event schemas), load
 * only when that command runs or its own --help is asked for. A new command is one line here
 * and one file beside this one exporting `register(program)`.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ register: (program: Command) => void }>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'init', summary: 'create a new, empty warehouse', load: () => import('./init.js') },
  { name: 'status', summary: 'datasets, partitions, rows, bytes, lease holders, recent events and disk usage', load: () => import('./status.js') },
  { name: 'ingest', summary: 'add your own CSV or Parquet file as one partition of a dataset', load: () => import('./ingest.js') },
  { name: 'query', summary: 'run read-only SQL (DuckDB) over the warehouse; every dataset is a view', load: () => import('./query.js') },
  { name: 'snapshot', summary: 'name points in the warehouse history (tags) and protect them', load: () => import('./snapshot.js') },
  { name: 'log', summary: 'show the operation log', load: () => import('./log.js') },
  { name: 'replay', summary: 'show the warehouse as it stood at a point; --out writes a DuckDB file', load: () => import('./replay.js') },
  { name: 'audit', summary: 'lineage of a dataset, object or tag; --verify checks the log, projections and objects', load: () => import('./audit.js') },
  { name: 'diff', summary: 'what changed between two points: partitions, rows and cells per dataset', load: () => import('./diff.js') },
  { name: 'lease', summary: 'inspect and (operator only) break writer leases', load: () => import('./lease.js') },
  { name: 'gc', summary: 'find unreferenced objects and leftover temporaries; --apply deletes them', load: () => import('./gc.js') },
  { name: 'retention', summary: 'how long superseded versions are kept before gc collects them', load: () => import('./retention.js') },
  { name: 'backup', summary: 'encrypted, incremental backups to a directory or rclone remote; verify, drill, check, rotate-key', load: () => import('./backup.js') },
  { name: 'restore', summary: 'build a complete warehouse in a new directory from a backup', load: () => import('./restore.js') },
  { name: 'repair', summary: 'restore damaged or missing objects (or a lost log) from a backup', load: () => import('./repair.js') },
  { name: 'rebuild', summary: 'recompute every projection from the log and compare with the materialized one', load: () => import('./rebuild.js') },
  { name: 'sync', summary: 'pull WRDS datasets into the warehouse (incremental, resumable, validated)', load: () => import('./sync.js') },
  { name: 'catalog', summary: 'the DuckDB catalog file other tools can open read-only', load: () => import('./catalog.js') },
  { name: 'french', summary: 'Kenneth French Data Library files: Fama–French factors and portfolios', load: () => import('./french.js') },
  { name: 'factors', summary: 'Fama–French factors or industry returns, in decimals, as of any point', load: () => import('./factors.js') },
  { name: 'yahoo', summary: 'Yahoo Finance daily prices: a development source (never for production)', load: () => import('./yahoo.js') },
  { name: 'prices', summary: 'CRSP prices of securities over a market-date range, as held at --as-of', load: () => import('./prices.js') },
  { name: 'universe', summary: 'the CRSP common-stock universe on a market date', load: () => import('./universe.js') },
  { name: 'fundamentals', summary: 'Compustat fundamentals known on a market date, or the CCM links in force on it', load: () => import('./fundamentals.js') },
  { name: 'fetch', summary: 'daily prices in one schema from the first provider that has each symbol', load: () => import('./fetch.js') },
  { name: 'etl', summary: 'historical ETL: the unified daily prices dataset through the unified fetcher, by year, incremental', load: () => import('./etl.js') },
  { name: 'health', summary: 'health of each dataset: missing sessions, duplicate keys, null rates, jumps, splits, stale and late data; --html page', load: () => import('./health.js') },
  { name: 'cite', summary: 'a digest and citation of exactly the data a study used; --check finds where a digest holds', load: () => import('./cite.js') },
  { name: 'calendar', summary: 'the NYSE trading calendar: sessions, holidays and early closes (1928-2030)', load: () => import('./calendar.js') },
  { name: 'taq', summary: 'TAQ minute bars, realized variance, spreads and tick samples: sync from WRDS, query as of any point', load: () => import('./taq.js') },
  { name: 'demo', summary: "wh's main job on the embedded sample: sync a local WRDS-shaped PostgreSQL, query, tag, verify", load: () => import('./demo.js') },
];
