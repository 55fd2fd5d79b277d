/**
 * `wh yahoo sync` and `wh yahoo prices`: the Yahoo Finance development source. Sync stores raw
 * (split-adjusted as of the fetch, dividend-unadjusted) daily bars and split/dividend events;
 * prices reads them at any point of the warehouse's history and derives adjusted prices locally.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { openSession, type WarehouseSession } from '../src/query/index.js';
import { normalizeSymbol, syncYahoo, type YahooSymbolResult } from '../src/sync/index.js';
import { yahooPrices, type YahooPriceRow } from '../src/providers/index.js';
import { action, emit, makeLogger, parseOptions, table, whVersion, withLog, type GlobalOptions } from './context.js';
import { csvCell } from './render.js';

const symbolList = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

const syncSchema = z.object({
  symbols: symbolList,
  start: day,
  end: day,
  baseUrl: z.url().optional(),
  allowProduction: z.boolean().optional(),
  penceToPounds: z.boolean().optional(),
});

const pricesSchema = z.object({
  symbols: symbolList,
  adjusted: z.boolean().optional(),
  asOf: z.string().optional(),
  start: day.optional(),
  end: day.optional(),
  format: z.enum(['table', 'csv', 'json']).optional(),
});


const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 ? 4 : 2)} %`;

function syncRow(r: YahooSymbolResult): Record<string, unknown> {
  return {
    symbol: r.symbol,
    partition: r.partition,
    bars: r.bars,
    events: r.events,
    daily: r.daily,
    yahoo_events: r.eventsStatus,
    basis: r.priceBasis,
    currency: r.currency ?? '',
    vs_adjclose: r.adjCheck === null ? '' : pct(r.adjCheck.maxRelError),
    vs_crsp: r.drift === null ? '' : `${pct(r.drift.medianAbsRelDiff)}${r.drift.basisRatio !== 1 ? ` (×${r.drift.basisRatio})` : ''}${r.drift.alerted ? ' DRIFT' : ''}`,
    notes: r.notes.join('; '),
  };
}

function registerSync(yahoo: Command): void {
  yahoo
    .command('sync')
    .description('fetch daily bars and split/dividend events from Yahoo into yahoo_daily and yahoo_events (one partition per symbol)')
    .requiredOption('--symbols <list>', 'comma-separated tickers as Yahoo spells them, e.g. AAPL,MSFT,^GSPC,VOD.L')
    .requiredOption('--start <date>', 'first day, YYYY-MM-DD (exchange-local)')
    .requiredOption('--end <date>', 'last day, YYYY-MM-DD (inclusive)')
    .option('--base-url <url>', 'chart API base (default $WH_YAHOO_BASE_URL, else https://query2.finance.yahoo.com); a replay server in tests')
    .option('--allow-production', 'run even though WH_ENV=production (Yahoo is a development source)')
    .option('--pence-to-pounds', 'store GBp/ZAc/ILA quotes in GBP/ZAR/ILS (÷ 100); default: as Yahoo gives them')
    .addHelpText(
      'after',
      `
Each sync replaces the symbol's partition with the requested window. Prices are stored as Yahoo's
v8 chart API gives them: split-adjusted as of the fetch date, not dividend-adjusted (see
docs/concepts/yahoo-source.md). Development only: refused when WH_ENV=production.

Example:
  wh yahoo sync --symbols AAPL,MSFT --start 2020-01-01 --end 2020-12-31`,
    )
    .action(action((g, raw: unknown) => runYahooSync(g, raw)));
}

/** The action of `wh yahoo sync`, exported so `wh sync yahoo --symbols ...` can share it. */
export async function runYahooSync(g: GlobalOptions, raw: unknown): Promise<void> {
  const opts = parseOptions(syncSchema, raw);
  const env = process.env;
  const logger = makeLogger(g, { level: g.quiet ? 'error' : 'warn' });
  await withLog(g, async (log) => {
    const res = await syncYahoo({
      dir: g.warehouse,
      log,
      symbols: opts.symbols,
      start: opts.start,
      end: opts.end,
      baseUrl: opts.baseUrl ?? env['WH_YAHOO_BASE_URL'],
      whVersion: whVersion(),
      logger,
      env: { WH_ENV: env['WH_ENV'] },
      allowProduction: opts.allowProduction,
      minorToMajor: opts.penceToPounds,
    });
    emit(g, res, () => table(res.symbols.map(syncRow)));
  });
}

function render(g: GlobalOptions, format: 'table' | 'csv' | 'json', rows: readonly YahooPriceRow[], label: string): void {
  const columns = rows[0] === undefined ? [] : Object.keys(rows[0]);
  if (format === 'json') process.stdout.write(JSON.stringify(rows, null, g.json ? 2 : undefined) + '\n');
  else if (format === 'csv') {
    process.stdout.write(columns.map(csvCell).join(',') + '\n');
    for (const r of rows) process.stdout.write(columns.map((c) => csvCell(r[c])).join(',') + '\n');
  } else {
    process.stdout.write(table(rows, columns) + '\n');
    process.stdout.write(`(${rows.length} row${rows.length === 1 ? '' : 's'} at ${label})\n`);
  }
}

function registerPrices(yahoo: Command): void {
  yahoo
    .command('prices')
    .description('daily prices from yahoo_daily (and yahoo_events), optionally adjusted locally, at any point of history')
    .requiredOption('--symbols <list>', 'comma-separated tickers, e.g. AAPL,MSFT')
    .option('--adjusted', 'add CRSP-style back-adjusted prices (dividends; splits only if the stored prices are as traded)')
    .option('-a, --as-of <point>', 'read the warehouse as of a seq, an ISO date/time or a snapshot tag')
    .option('--start <date>', 'first day to show (the adjustment still uses the whole stored window)')
    .option('--end <date>', 'last day to show')
    .option('-f, --format <fmt>', 'table | csv | json (default table; json when --json)')
    .addHelpText('after', '\nExamples:\n  wh yahoo prices --symbols AAPL --adjusted\n  wh yahoo prices --symbols AAPL,NVDA --as-of paper-v1 --format csv > prices.csv\n')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(pricesSchema, raw);
        const symbols = [...new Set(opts.symbols.map(normalizeSymbol))];
        const format = opts.format ?? (g.json ? 'json' : 'table');
        await withLog(
          g,
          async (log) => {
            const s = await openSession(g.warehouse, log, { asOf: opts.asOf });
            try {
              const rows = await yahooPrices(s, { symbols, adjusted: opts.adjusted, start: opts.start, end: opts.end });
              render(g, format, rows, s.point.label);
            } finally {
              s.close();
            }
          },
          { readonly: true },
        );
      }),
    );
}

/** Register `wh yahoo sync` and `wh yahoo prices`. */
export function register(program: Command): void {
  const yahoo = program.command('yahoo').description('Yahoo Finance daily prices: a development source (unofficial API; never for production)');
  registerSync(yahoo);
  registerPrices(yahoo);
}
