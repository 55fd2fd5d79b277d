import type { Command } from 'commander';
import { z } from 'zod';
import { warehousePaths } from '../src/store/index.js';
import { catalogExists, readCatalogFile, refreshCatalogFile } from '../src/store/index.js';
import { action, emit, parseOptions, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('catalog')
    .description('the DuckDB catalog file other tools can open read-only (one view per dataset over the current objects)')
    .option('--refresh', 'rewrite it now (it is rewritten after every commit anyway)')
    .addHelpText('after', '\nOpen it from any DuckDB client, read-only:\n  duckdb -readonly "$WH_WAREHOUSE/catalog.duckdb" "SELECT count(*) FROM crsp_dsf"\n  python: duckdb.connect(path, read_only=True)      R: dbConnect(duckdb(), path, read_only = TRUE)\n')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ refresh: z.boolean().optional() }), raw);
        const path = warehousePaths(g.warehouse).catalog;
        await withLog(g, async (log) => {
          if (opts.refresh || !catalogExists(g.warehouse)) await refreshCatalogFile(g.warehouse, log);
          const catalog = await readCatalogFile(g.warehouse);
          const info = { seq: catalog.seq, views: catalog.views, head: log.head().seq };
          emit(g, { path, ...info }, () =>
            [`${path}`, `shows the warehouse at seq ${info.seq} (log head ${info.head})`, `views: ${info.views.join(', ') || '(none)'}`, '', `open read-only: duckdb -readonly ${path}`].join('\n'),
          );
        });
      }),
    );
}
