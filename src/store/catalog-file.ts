/**
 * The warehouse's DuckDB catalog file (`catalog.duckdb`): one view per dataset over the current
 * objects, rewritten after every commit that changes the manifest, so DuckDB's CLI, Python or R
 * can open it read-only (`duckdb -readonly <warehouse>/catalog.duckdb`). It is written to a
 * temporary name and renamed: a reader holding the old file keeps a consistent old view. A table
 * `wh_catalog` records the log position it shows.
 */
import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDuck } from '../engine/index.js';
import type { EventLog } from '../log/index.js';
import { manifestAt } from '../projections/index.js';
import { viewStatements } from './views.js';
import { warehousePaths } from './layout.js';

export interface CatalogInfo {
  readonly path: string;
  readonly seq: number;
  readonly views: readonly string[];
}

/** Rewrite the catalog file for the log's current head (retrying if the head moves meanwhile). */
export async function refreshCatalogFile(dir: string, log: EventLog): Promise<CatalogInfo> {
  const paths = warehousePaths(dir);
  for (let attempt = 0; ; attempt++) {
    const seq = log.head().seq;
    const entries = manifestAt(log, seq);
    const tmp = join(paths.tmp, `catalog-${randomUUID()}.duckdb`);
    const duck = await openDuck({ path: tmp });
    try {
      for (const stmt of viewStatements(dir, entries, { checkFiles: false })) await duck.run(stmt);
      await duck.run('CREATE TABLE wh_catalog (warehouse VARCHAR, seq BIGINT, written_at VARCHAR)');
      await duck.run('INSERT INTO wh_catalog VALUES ($1, $2, $3)', [paths.root, seq, new Date().toISOString()]);
      await duck.run('CHECKPOINT');
    } finally {
      duck.close();
    }
    rmSync(`${tmp}.wal`, { force: true });
    // Read-only for everyone but this writer (which replaces it by rename): other tools open it with -readonly.
    chmodSync(tmp, 0o444);
    renameSync(tmp, paths.catalog);
    // Another writer may have committed while we wrote: make sure the newest state wins.
    if (log.head().seq === seq || attempt >= 3) {
      return { path: paths.catalog, seq, views: [...new Set(entries.map((e) => e.dataset))].sort() };
    }
  }
}

/** What the catalog file shows: the log position it was written at and its views. */
export async function readCatalogFile(dir: string): Promise<CatalogInfo> {
  const path = warehousePaths(dir).catalog;
  const duck = await openDuck({ path, readonly: true });
  try {
    const seq = Number((await duck.all('SELECT seq FROM wh_catalog')).rows[0]?.['seq'] ?? 0);
    const views = (await duck.all('SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name')).rows.map((r) => String(r['view_name']));
    return { path, seq, views };
  } finally {
    duck.close();
  }
}

/** Whether the catalog file exists (it is created by the first write). */
export const catalogExists = (dir: string): boolean => existsSync(warehousePaths(dir).catalog);
