import type { Command } from 'commander';
import { WarehouseError } from '../src/log/index.js';
import { exportQuery, formatFromName, streamQuery } from '../src/query/index.js';
import { action, emit, formatBytes, table, withLog } from './context.js';
import { csvCell } from './render.js';

interface QueryOptions {
  readonly asOf?: string;
  readonly format?: 'table' | 'csv' | 'json' | 'parquet';
  readonly out?: string;
  readonly allowRead?: string[];
  readonly verify?: boolean;
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
  if (format !== undefined && format !== 'table' && format !== 'csv' && format !== 'json' && format !== 'parquet') bad(`format: ${String(format)}`, 'use --format table, csv or json (parquet, csv or json with --out)');
  const maxRows = raw['maxRows'] === undefined ? undefined : Number(raw['maxRows']);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows > 0)) bad(`max-rows: ${String(raw['maxRows'])}`, 'pass a positive whole number, e.g. --max-rows 50');
  const out = raw['out'];
  if (out !== undefined && (typeof out !== 'string' || out === '')) bad('out', 'pass a file name, e.g. --out result.parquet');
  const allowRead = raw['allowRead'] as string[] | undefined;
  if (allowRead?.some((p) => p === '')) bad('allow-read: an empty path', 'name a file or directory');
  return {
    asOf: raw['asOf'] as string | undefined,
    format: format as QueryOptions['format'],
    out: out as string | undefined,
    allowRead,
    verify: raw['verify'] === true ? true : undefined,
    param: raw['param'] as string[] | undefined,
    maxRows,
  };
}


export function register(program: Command): void {
  program
    .command('query')
    .description('run SQL (DuckDB) over the warehouse; every dataset is a view named after it')
    .argument('<sql>', 'the query, e.g. "SELECT count(*) FROM prices"')
    .option('-a, --as-of <point>', 'read the warehouse as of a seq, an ISO date/time or a snapshot tag')
    .option('-f, --format <fmt>', 'table | csv | json (default table; json when --json); with --out: parquet | csv | json (default from the file name, else parquet)')
    .option('-o, --out <file>', 'write the result to <file> (outside the warehouse), written by wh')
    .option('--allow-read <path...>', 'let the SQL read these files or directories outside the warehouse (e.g. your own CSV)')
    .option('--verify', 're-hash every object of the datasets the SQL names before running it')
    .option('--param <value...>', 'values bound to $1, $2, ... (never interpolated)')
    .option('--max-rows <n>', 'table format: stop printing after n rows (default 1000)')
    .addHelpText('after', '\nExamples:\n  wh query "SELECT * FROM prices WHERE permno = $1" --param 10001\n  wh query "SELECT count(*) FROM prices" --as-of 2024-01-15\n  wh query "SELECT * FROM prices" --as-of paper-v1 --out prices.parquet\n  wh query "SELECT p.* FROM prices p JOIN read_csv(\'ids.csv\') USING (permno)" --allow-read ids.csv\n\nOnly read statements run (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE): COPY, ATTACH, SET, INSTALL and\nthe like are refused, and nothing outside the warehouse\'s objects is readable without --allow-read.\n')
    .action(
      action(async (g, sql: string, raw: unknown) => {
        const opts = queryOptions(raw as Record<string, unknown>);
        const qopts = { asOf: opts.asOf, params: opts.param, allowRead: opts.allowRead, verify: opts.verify };
        if (opts.out !== undefined) {
          const fmt = opts.format ?? formatFromName(opts.out) ?? 'parquet';
          if (fmt === 'table') throw new WarehouseError('INVALID_ARGUMENT', '--format table cannot be written with --out', { suggestion: 'use --format parquet, csv or json' });
          await withLog(
            g,
            async (log) => {
              const r = await exportQuery(g.warehouse, log, sql, opts.out!, fmt, qopts);
              emit(g, r, () => `wrote ${r.rows} row${r.rows === 1 ? '' : 's'} (${formatBytes(r.bytes)}, ${r.format}) to ${r.path} as of ${r.point.label}`);
            },
            { readonly: true },
          );
          return;
        }
        if (opts.format === 'parquet') throw new WarehouseError('INVALID_ARGUMENT', '--format parquet needs --out <file>', { suggestion: 'add --out result.parquet' });
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
            for await (const chunk of streamQuery(g.warehouse, log, sql, qopts)) {
              open();
              columns = chunk.columns;
              // One write per chunk of about 2,048 rows: a write per row was most of the time to a pipe or file.
              if (format === 'csv') {
                const lines = header ? [] : [chunk.columns.map(csvCell).join(',') + '\n'];
                for (const r of chunk.rows) lines.push(chunk.columns.map((c) => csvCell(r[c])).join(',') + '\n');
                out.write(lines.join(''));
              } else if (format === 'json') {
                out.write(chunk.rows.map((r, i) => (n + i === 0 ? '\n' : ',\n') + JSON.stringify(r)).join(''));
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
