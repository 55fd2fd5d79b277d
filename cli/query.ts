import type { Command } from 'commander';
import { streamQuery } from '../src/query/index.js';
import { WarehouseError } from '../src/log/index.js';
import { action, table, withLog } from './context.js';
import { csvCell } from './render.js';

interface QueryOptions {
  readonly asOf?: string;
  readonly format?: 'table' | 'csv' | 'json';
  readonly param?: string[];
  readonly maxRows?: number;
}

/**
 * The options of `wh query`, checked by hand rather than with zod: this is the command people
 * run most, and loading zod would cost it a fifth of its start-up.
 */
function queryOptions(raw: Record<string, unknown>): QueryOptions {
  const bad = (what: string, fix: string): never => {
    throw new WarehouseError('INVALID_ARGUMENT', `invalid option ${what}`, { suggestion: fix });
  };
  const format = raw['format'];
  if (format !== undefined && format !== 'table' && format !== 'csv' && format !== 'json') bad(`format: ${String(format)}`, 'use --format table, csv or json');
  const maxRows = raw['maxRows'] === undefined ? undefined : Number(raw['maxRows']);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows > 0)) bad(`max-rows: ${String(raw['maxRows'])}`, 'pass a positive whole number, e.g. --max-rows 50');
  return { asOf: raw['asOf'] as string | undefined, format: format as QueryOptions['format'], param: raw['param'] as string[] | undefined, maxRows };
}


export function register(program: Command): void {
  program
    .command('query')
    .description('run SQL (DuckDB) over the warehouse; every dataset is a view named after it')
    .argument('<sql>', 'the query, e.g. "SELECT count(*) FROM prices"')
    .option('-a, --as-of <point>', 'read the warehouse as of a seq, an ISO date/time or a snapshot tag')
    .option('-f, --format <fmt>', 'table | csv | json (default table; json when --json)')
    .option('--param <value...>', 'values bound to $1, $2, ... (never interpolated)')
    .option('--max-rows <n>', 'table format: stop printing after n rows (default 1000)')
    .addHelpText('after', '\nExamples:\n  wh query "SELECT * FROM prices WHERE permno = $1" --param 10001\n  wh query "SELECT count(*) FROM prices" --as-of 2024-01-15\n  wh query "SELECT * FROM prices" --as-of paper-v1 --format csv > prices.csv\n')
    .action(
      action(async (g, sql: string, raw: unknown) => {
        const opts = queryOptions(raw as Record<string, unknown>);
        const format = opts.format ?? (g.json ? 'json' : 'table');
        await withLog(
          g,
          async (log) => {
            const out = process.stdout;
            let n = 0;
            let header = false;
            const tableRows: Record<string, unknown>[] = [];
            const maxRows = opts.maxRows ?? 1000;
            let columns: readonly string[] = [];
            // '[' only once the query has produced its first chunk: a failing query leaves stdout empty, not broken JSON.
            let opened = false;
            const open = (): void => {
              if (format === 'json' && !opened) out.write('[');
              opened = true;
            };
            for await (const chunk of streamQuery(g.warehouse, log, sql, { asOf: opts.asOf, params: opts.param })) {
              open();
              columns = chunk.columns;
              if (format === 'csv') {
                if (!header) out.write(chunk.columns.map(csvCell).join(',') + '\n');
                for (const r of chunk.rows) out.write(chunk.columns.map((c) => csvCell(r[c])).join(',') + '\n');
              } else if (format === 'json') {
                chunk.rows.forEach((r, i) => out.write((n + i === 0 ? '\n' : ',\n') + JSON.stringify(r)));
              } else {
                for (const r of chunk.rows) if (tableRows.length < maxRows) tableRows.push(r);
              }
              header = true;
              n += chunk.rows.length;
            }
            open();
            if (format === 'json') out.write('\n]\n');
            if (format === 'table') {
              out.write(table(tableRows, columns) + '\n');
              out.write(`(${n} row${n === 1 ? '' : 's'}${n > tableRows.length ? `, first ${tableRows.length} shown` : ''})\n`);
            }
          },
          { readonly: true },
        );
      }),
    );
}
