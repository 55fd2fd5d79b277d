import type { Command } from 'commander';
import { z } from 'zod';
import { openSession } from '../src/query/index.js';
import { famaFrenchFactors, famaFrenchModels, type FamaFrenchResult } from '../src/providers/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';
import { csvCell } from './render.js';

const optionsSchema = z.object({
  model: z.enum(famaFrenchModels).default('ff3'),
  frequency: z.enum(['daily', 'monthly']).default('monthly'),
  start: z.string().optional(),
  end: z.string().optional(),
  source: z.enum(['wrds', 'french']).optional(),
  dataset: z.string().optional(),
  asOf: z.string().optional(),
  format: z.enum(['table', 'csv', 'json']).optional(),
});


function footer(r: FamaFrenchResult): string {
  const from = r.section === null ? r.dataset : `${r.dataset}/${r.section}`;
  const vintage = r.vintages.length > 0 ? `, CRSP vintage ${r.vintages.join(', ')}` : '';
  return `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'} of ${r.model} ${r.frequency}, in decimals; ${r.source === 'wrds' ? 'WRDS' : 'French files'}: ${from}${vintage}; as of ${r.point.label})`;
}

export function register(program: Command): void {
  program
    .command('factors')
    .description('Fama–French factors or industry returns, in decimals, from WRDS or the French files, as of any point')
    .option('-m, --model <model>', `${famaFrenchModels.join(' | ')} (default ff3)`)
    .option('--frequency <freq>', 'daily | monthly (default monthly)')
    .option('--start <date>', 'first date, inclusive (YYYY-MM-DD, YYYY-MM or YYYY)')
    .option('--end <date>', 'last date, inclusive (YYYY-MM-DD, YYYY-MM or YYYY)')
    .option('--source <source>', 'wrds | french (default: wrds when synced, else french)')
    .option('--dataset <name>', 'read this dataset instead of the source default')
    .option('-a, --as-of <point>', 'read the warehouse as of a seq, an ISO date/time or a snapshot tag')
    .option('-f, --format <fmt>', 'table | csv | json (default table; json when --json)')
    .addHelpText(
      'after',
      '\nExamples:\n  wh factors --model ff5 --frequency daily --start 2024-01 --end 2024-06\n  wh factors --source french --as-of paper-v1 --format csv > ff3.csv\n',
    )
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        const format = opts.format ?? (g.json ? 'json' : 'table');
        await withLog(
          g,
          async (log) => {
            const session = await openSession(g.warehouse, log, { asOf: opts.asOf });
            let res: FamaFrenchResult;
            try {
              res = await famaFrenchFactors(session, { model: opts.model, frequency: opts.frequency, start: opts.start, end: opts.end, source: opts.source, dataset: opts.dataset });
            } finally {
              session.close();
            }
            if (format === 'json') return emit({ ...g, json: true }, res, () => '');
            if (format === 'csv') {
              const lines = [res.columns.join(','), ...res.rows.map((r) => res.columns.map((c) => csvCell(r[c])).join(','))];
              process.stdout.write(lines.join('\n') + '\n');
              return;
            }
            process.stdout.write(`${table(res.rows, res.columns)}\n${footer(res)}\n`);
          },
          { readonly: true },
        );
      }),
    );
}
