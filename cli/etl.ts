/**
 * `wh etl prices`: the unified daily prices dataset through the unified fetcher, partitioned by
 * year, incremental per symbol, deterministic, resumable.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { runPricesEtl, etlSourceSchema } from '../src/etl/index.js';
import { healthSummaryLine } from '../src/projections/index.js';
import { action, emit, makeLogger, parseOptions, table, whVersion, withLog } from './context.js';

const optionsSchema = z.object({
  symbols: z.string().min(1).optional(),
  universe: z.string().optional(),
  start: z.string(),
  end: z.string(),
  source: etlSourceSchema.optional(),
  dataset: z.string().optional(),
  batch: z.coerce.number().int().min(1).max(10_000).optional(),
  allowProduction: z.boolean().optional(),
});

export function register(program: Command): void {
  const etl = program.command('etl').description('derived datasets built through the unified fetcher (historical ETL)');
  etl
    .command('prices')
    .description('the unified daily prices dataset (identity and provider on every row), by year; incremental per symbol')
    .option('--symbols <list>', 'tickers (or CRSP permnos), comma-separated, e.g. AAPL,MSFT')
    .option('--universe <date>', 'instead of --symbols: every symbol in the universe on this date')
    .requiredOption('--start <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--end <date>', 'last day, YYYY-MM-DD')
    .option('--source <name>', 'crsp, yahoo or auto (CRSP first, Yahoo for the rest; default)')
    .option('--dataset <name>', 'target dataset (default prices_daily)')
    .option('--batch <n>', 'symbols per fetch (default 1000)')
    .option('--allow-production', 'let Yahoo (a development source) serve even though WH_ENV=production')
    .addHelpText(
      'after',
      `
Only what is new for each symbol is fetched (before its first and after its last date held); each
affected year is merged once (sorted by symbol, date; the newest row wins a key). A rerun with the
same inputs writes nothing. A killed run is picked up by the next run. Exit 0 ok, 1 error, 2 lease held.

Examples:
  wh etl prices --symbols IBM,MSFT --start 2015-01-01 --end 2024-12-31
  wh etl prices --universe 2024-06-28 --start 2024-01-01 --end 2024-12-31 --source crsp`,
    )
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        const logger = makeLogger(g, { level: g.quiet ? 'error' : 'info' });
        await withLog(g, async (log) => {
          const r = await runPricesEtl({
            dir: g.warehouse,
            log,
            dataset: opts.dataset,
            symbols: opts.symbols?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
            universe: opts.universe,
            start: opts.start,
            end: opts.end,
            source: opts.source,
            env: process.env['WH_ENV'],
            allowDevelopmentInProduction: opts.allowProduction,
            batch: opts.batch,
            whVersion: whVersion(),
            logger,
          });
          emit(g, r, () => {
            const head = `${r.dataset}: ${r.status}; ${r.symbols} symbols, ${r.fetches} fetch(es), ${r.fetchedRows.toLocaleString('en-US')} rows fetched${r.unserved.length > 0 ? `; no provider had ${r.unserved.slice(0, 10).join(', ')}${r.unserved.length > 10 ? ` and ${r.unserved.length - 10} more` : ''}` : ''}${r.resumedRun !== null ? `; resumed run ${r.resumedRun}` : ''}`;
            const parts = r.partitions.length === 0 ? '' : `\n${table(r.partitions.map((p) => ({ partition: p.partition, status: p.status, rows: p.rows })))}`;
            return `${head}${parts}${r.health == null ? '' : `\n${healthSummaryLine(r.health)}`}`;
          });
        });
      }),
    );
}
