/**
 * `wh universe`: the survivorship-free CRSP common-stock universe on a market date (--date), as the
 * warehouse held it at --as-of; with --ticker, the permno that carried a ticker on that date.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { coverageWarnings, planUniverse, tickerToPermno } from '../src/providers/index.js';
import { action, emit, parseOptions } from './context.js';
import { outputFlags, outputSchema, withWarehouse, writePlan } from './prices.js';

const universeSchema = outputSchema.extend({
  date: z.string(),
  crsp: z.enum(['legacy', 'ciz']).optional(),
  ticker: z.string().optional(),
});

export function register(program: Command): void {
  outputFlags(
    program
      .command('universe')
      .description('the CRSP common-stock universe on a market date (every security listed then, later delistings included)')
      .requiredOption('-d, --date <date>', 'the market date, YYYY-MM-DD')
      .option('--crsp <format>', 'legacy: shrcd 10/11 and exchcd 1/2/3 from the names history | ciz: the CIZ common-stock screen (default legacy)')
      .option('--ticker <ticker>', 'instead: which permno carried this ticker on --date'),
  )
    .addHelpText('after', '\nExamples:\n  wh universe --date 2016-01-08\n  wh universe --date 2016-01-08 --as-of paper-v1 --format csv --out universe.csv\n  wh universe --date 2020-06-30 --ticker IBM\n')
    .action(
      action(async (g, raw: unknown) => {
        const o = parseOptions(universeSchema, raw);
        await withWarehouse(g, o.asOf, async (wh) => {
          const format = o.crsp ?? 'legacy';
          // A date outside what the warehouse holds gives an empty answer for want of data: say so (stderr).
          for (const w of await coverageWarnings(wh.session, [o.date], format)) if (!g.quiet) process.stderr.write(`warning: ${w}\n`);
          if (o.ticker !== undefined) {
            const permno = await tickerToPermno(wh.session, o.ticker, o.date, { format });
            const ticker = o.ticker.trim().toUpperCase();
            emit(g, { ticker, date: o.date, permno, point: wh.point.label }, () =>
              permno === null ? `no security carried ${ticker} on ${o.date}` : `${ticker} on ${o.date}: permno ${permno}`,
            );
            return;
          }
          await writePlan(g, wh, planUniverse(wh.session, o.date, { format }), o);
        });
      }),
    );
}
