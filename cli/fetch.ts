/**
 * `wh fetch`: daily prices through the unified fetcher: each symbol from the first provider in the
 * priority order that has it (CRSP, then Yahoo), with the unified columns (date, symbol, open,
 * high, low, close, adj_close, volume, ret) plus identity (series, provider, permno, exchange).
 * Which provider served each symbol, why the ones before it were skipped, and any symbol split
 * into separate series (a reused ticker) goes to stderr. WH_ENV=production gates Yahoo unless allowed.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { createCrspProvider, createFetcher, createProviderRegistry, createTaqProvider, createYahooProvider, type Attempt } from '../src/providers/index.js';
import { action, makeLogger, parseOptions } from './context.js';
import { listOf, outputFlags, outputSchema, withWarehouse, writeArrow } from './prices.js';

const fetchSchema = outputSchema.extend({
  symbols: listOf(z.string()),
  universeDate: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  priority: listOf(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'provider names are lowercase')),
  allowDevInProduction: z.boolean().optional(),
  allowMissing: z.boolean().optional(),
  crsp: z.enum(['legacy', 'ciz']).optional(),
});

function describe(a: Attempt): string {
  const who = a.symbols.length > 0 ? ` [${a.symbols.slice(0, 8).join(', ')}${a.symbols.length > 8 ? ', ...' : ''}]` : '';
  return a.outcome === 'served' ? `  ${a.provider}: served ${a.rows ?? 0} rows${who}` : `  ${a.provider}: skipped, ${a.reason}${a.detail === undefined ? '' : ` (${a.detail})`}${who}`;
}

export function register(program: Command): void {
  outputFlags(
    program
      .command('fetch')
      .description('daily prices in one schema from the first provider that has each symbol (CRSP, then Yahoo)')
      .option('--symbols <s...>', 'tickers (or permnos), repeat or comma-separate')
      .option('--universe-date <date>', 'instead of prices: the universe on this market date from the first provider that has one')
      .option('--start <date>', 'first market date, YYYY-MM-DD')
      .option('--end <date>', 'last market date, YYYY-MM-DD')
      .option('--priority <list>', 'provider order, e.g. crsp,yahoo (default)')
      .option('--allow-dev-in-production', 'let Yahoo serve when WH_ENV=production (still after CRSP)')
      .option('--allow-missing', 'return what was found instead of failing when a symbol has no provider')
      .option('--crsp <format>', 'CRSP files: legacy | ciz (default legacy)'),
  )
    .addHelpText('after', '\nExamples:\n  wh fetch --symbols IBM,MSFT --start 2020-01-01 --end 2020-12-31\n  WH_ENV=production wh fetch --symbols IBM --start 2020-01-01 --end 2020-12-31 --format parquet --out ibm.parquet\n  wh fetch --universe-date 2020-06-30\n')
    .action(
      action(async (g, raw: unknown) => {
        const o = parseOptions(fetchSchema, raw);
        const env = process.env['WH_ENV'];
        const logger = makeLogger(g);
        await withWarehouse(g, o.asOf, async (wh) => {
          const registry = createProviderRegistry([createCrspProvider(wh.session, { format: o.crsp ?? 'legacy' }), createYahooProvider(wh.session), createTaqProvider(wh.session)]);
          const fetcher = createFetcher({ registry, priority: o.priority, env, allowDevelopmentInProduction: o.allowDevInProduction, onMissing: o.allowMissing ? 'report' : 'error', logger });
          const note = (lines: string[]): void => void (g.quiet ? undefined : process.stderr.write(lines.join('\n') + '\n'));
          if (o.universeDate !== undefined) {
            const u = await fetcher.getUniverse(o.universeDate);
            note([`universe on ${o.universeDate} from ${u.provider ?? 'no provider'} (${u.symbols.length} symbols)`, ...u.attempts.map(describe)]);
            const text = g.json || o.format === 'json' ? JSON.stringify(u.symbols) + '\n' : u.symbols.join('\n') + (u.symbols.length > 0 ? '\n' : '');
            process.stdout.write(text);
            return;
          }
          if (o.symbols === undefined || o.start === undefined || o.end === undefined) {
            throw new WarehouseError('INVALID_ARGUMENT', 'wh fetch needs --symbols, --start and --end (or --universe-date)', { suggestion: 'e.g. wh fetch --symbols IBM --start 2020-01-01 --end 2020-12-31' });
          }
          const r = await fetcher.getDailyPrices(o.symbols, o.start, o.end);
          note([
            `fetched ${r.table.numRows} rows (providers tried: ${fetcher.order().join(' → ')}; WH_ENV=${env ?? 'unset'})`, ...r.attempts.map(describe),
            // A reused ticker is split into one series per security, never spliced into one.
            ...r.splits.map((x) => `  note: ${x.symbol} named ${x.series.length} securities between ${o.start} and ${o.end} (${x.provider}): ${x.series.map((p) => `${p.series} (permno ${p.permno}, ${p.first}..${p.last})`).join(', ')}; returned as separate series (column "series")`),
          ]);
          await writeArrow(g, wh, r.table, o);
        });
      }),
    );
}
