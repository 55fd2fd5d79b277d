/**
 * `wh fundamentals`: Compustat annual or quarterly fundamentals known on a market date (--date:
 * only rows whose available_date is on or before it), or the CRSP–Compustat links in force on it,
 * as the warehouse held them at --as-of (a later restatement is not seen by an earlier point).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { fundamentalsCoverageWarnings, planAnnual, planLinks, planQuarterly } from '../src/providers/index.js';
import { action, parseOptions } from './context.js';
import { listOf, outputFlags, outputSchema, withWarehouse, writePlan } from './prices.js';

const fundamentalsSchema = outputSchema.extend({
  date: z.string(),
  gvkey: listOf(z.string()),
  permno: listOf(z.coerce.number().int().positive()),
  lagDays: z.coerce.number().int().min(0).max(3650).optional(),
  latest: z.boolean().optional(),
  items: listOf(z.string()),
});

export function register(program: Command): void {
  outputFlags(
    program
      .command('fundamentals')
      .description('Compustat fundamentals known on a market date, or the CRSP–Compustat links in force on it')
      .argument('[kind]', 'annual | quarterly | links', 'annual')
      .requiredOption('-d, --date <date>', 'the market date: rows available on or before it (links: in force on it)')
      .option('--gvkey <g...>', 'Compustat gvkeys, six digits (repeat or comma-separate)')
      .option('--permno <n...>', 'links only: CRSP permnos')
      .option('--lag-days <n>', 'days after datadate a row becomes usable (annual; quarterly without rdq); default 90')
      .option('--latest', "keep only each firm's most recent available row")
      .option('--items <list>', 'data items to return besides the identifiers, e.g. at,ceq,lt (default: every column)'),
  )
    .addHelpText('after', '\nExamples:\n  wh fundamentals annual --date 2019-06-30 --items at,ceq --latest\n  wh fundamentals quarterly --date 2020-08-20 --gvkey 001139 --as-of 2024-01-15\n  wh fundamentals links --date 2020-06-30 --format csv\n')
    .action(
      action(async (g, kind: string, raw: unknown) => {
        const o = parseOptions(fundamentalsSchema, raw);
        await withWarehouse(g, o.asOf, async (wh) => {
          const base = { gvkeys: o.gvkey, asOfDate: o.date, lagDays: o.lagDays, latest: o.latest };
          if (kind === 'annual' || kind === 'quarterly' || kind === 'links') {
            for (const w of await fundamentalsCoverageWarnings(wh.session, kind, o.date)) if (!g.quiet) process.stderr.write(`warning: ${w}\n`);
          }
          if (kind === 'annual') return writePlan(g, wh, planAnnual(wh.session, { ...base, items: o.items as never }), o);
          if (kind === 'quarterly') return writePlan(g, wh, planQuarterly(wh.session, { ...base, items: o.items as never }), o);
          if (kind === 'links') return writePlan(g, wh, planLinks(wh.session, o.date, { gvkeys: o.gvkey, permnos: o.permno }), o);
          throw new WarehouseError('INVALID_ARGUMENT', `unknown kind "${kind.slice(0, 40)}"`, { suggestion: 'use annual, quarterly or links' });
        });
      }),
    );
}
