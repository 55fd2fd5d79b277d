/**
 * `wh prices`: CRSP daily or monthly prices of named securities as of a warehouse point (--as-of)
 * over a market-date range (--start/--end), with the DATA-RULES applied (see
 * docs/concepts/crsp-compustat.md); `--gaps` lists the sessions a security has no usable price.
 *
 * Also the output helpers the provider commands share (universe, fundamentals, fetch): table, csv,
 * json to stdout or --out, and parquet through DuckDB COPY to a temporary name, then a rename.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DataType, DateDay, type Table } from 'apache-arrow';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { openWarehouse, type Warehouse } from '../src/query/index.js';
import { coverageWarnings, planGaps, planPrices, type ProviderPlan, type ProviderQuery } from '../src/providers/index.js';
import { action, parseOptions, table, type GlobalOptions } from './context.js';
import { emitText, renderRows } from './render.js';

// ---------------------------------------------------------------------------------------------
// Shared by the provider commands

export const outputSchema = z.object({
  asOf: z.string().optional(),
  format: z.enum(['table', 'csv', 'json', 'parquet']).optional(),
  out: z.string().min(1).optional(),
  maxRows: z.coerce.number().int().positive().optional(),
});
export type OutputOptions = z.infer<typeof outputSchema>;

/** Add --as-of, --format, --out and --max-rows to a provider command. */
export function outputFlags(cmd: Command): Command {
  return cmd
    .option('-a, --as-of <point>', 'read the warehouse as of a seq, an ISO date/time or a snapshot tag (what it held then)')
    .option('-f, --format <fmt>', 'table | csv | json | parquet (default table; json when --json; parquet needs --out)')
    .option('-o, --out <file>', 'write to this file (atomically: a temporary name, then a rename) instead of stdout')
    .option('--max-rows <n>', 'table format: print at most n rows (default 1000)');
}

/** Open the warehouse read-only at --as-of, run `fn`, close. */
export async function withWarehouse<T>(g: GlobalOptions, asOf: string | undefined, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await openWarehouse(g.warehouse, { asOf });
  try {
    return await fn(wh);
  } finally {
    wh.close();
  }
}


const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

const render = renderRows;

function formatOf(g: GlobalOptions, o: OutputOptions): 'table' | 'csv' | 'json' | 'parquet' {
  const format = o.format ?? (g.json ? 'json' : 'table');
  if (format === 'parquet' && o.out === undefined) {
    throw new WarehouseError('INVALID_ARGUMENT', '--format parquet needs --out <file>', { suggestion: 'e.g. --format parquet --out prices.parquet' });
  }
  return format;
}

/** Verify a plan's identifiers, run it and write its result in the chosen format. */
export async function writePlan(g: GlobalOptions, wh: Warehouse, plan: ProviderPlan, o: OutputOptions): Promise<void> {
  const format = formatOf(g, o);
  await plan.verify();
  const q: ProviderQuery = plan.query;
  if (format === 'parquet') {
    await wh.export(q.sql, o.out!, 'parquet', { params: q.params });
    return;
  }
  let res;
  try {
    res = await wh.session.duck.all(q.sql, q.params);
  } catch (e) {
    throw new WarehouseError('QUERY_FAILED', `provider query failed: ${(e as Error).message.split('\n')[0]}`, { suggestion: 'check the datasets with `wh status`', cause: e });
  }
  await emitText(render(format, res.rows, res.columns, o.maxRows ?? 1000), o.out);
}

/** Write an Arrow table (the fetcher's result) in the chosen format. */
export async function writeArrow(g: GlobalOptions, wh: Warehouse, t: Table, o: OutputOptions): Promise<void> {
  const format = formatOf(g, o);
  const columns = t.schema.fields.map((f) => f.name);
  const dates = new Set(t.schema.fields.filter((f) => f.type instanceof DateDay).map((f) => f.name));
  const rows = t.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
    const obj = r.toJSON();
    for (const c of dates) if (typeof obj[c] === 'number') obj[c] = new Date(obj[c] as number).toISOString().slice(0, 10);
    return obj;
  });
  if (format !== 'parquet') return emitText(render(format, rows, columns, o.maxRows ?? 1000), o.out);
  const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, dates.has(f.name) ? 'DATE' : DataType.isUtf8(f.type) ? 'VARCHAR' : DataType.isBool(f.type) ? 'BOOLEAN' : 'DOUBLE']));
  // The rows are staged as JSON lines next to the target; wh's sandboxed export reads them (and nothing else) and writes Parquet.
  const staged = join(dirname(resolve(o.out!)), `.${basename(o.out!)}.wh-${randomUUID().slice(0, 8)}.ndjson`);
  try {
    writeFileSync(staged, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const cols = Object.entries(types).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ');
    await wh.export(`SELECT * FROM read_json(${sqlString(staged)}, format = 'newline_delimited', columns = {${cols}})`, o.out!, 'parquet', { allowRead: [staged] });
  } finally {
    rmSync(staged, { force: true });
  }
}

/** A list option given as repeated values or comma-separated. */
export const listOf = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '')), z.array(item).optional());

// ---------------------------------------------------------------------------------------------
// wh prices

const pricesSchema = outputSchema.extend({
  permno: listOf(z.coerce.number().int().positive()),
  ticker: listOf(z.string()),
  start: z.string(),
  end: z.string(),
  monthly: z.boolean().optional(),
  crsp: z.enum(['legacy', 'ciz']).optional(),
  adjustTo: z.string().optional(),
  gaps: z.boolean().optional(),
});

export function register(program: Command): void {
  outputFlags(
    program
      .command('prices')
      .description('CRSP prices of securities over a market-date range, as the warehouse held them at --as-of')
      .option('--permno <n...>', 'CRSP permnos (repeat or comma-separate)')
      .option('--ticker <t...>', 'tickers, resolved through the names history by date (a reused ticker gives each holder in its window)')
      .requiredOption('--start <date>', 'first market date, YYYY-MM-DD')
      .requiredOption('--end <date>', 'last market date, YYYY-MM-DD (nothing after it is returned)')
      .option('--monthly', 'monthly file (msf) instead of daily (dsf)')
      .option('--crsp <format>', 'legacy (SIZ, to 2024-12-31) | ciz (v2); default legacy')
      .option('--adjust-to <date>', 'express adj_price in the terms of this date (default: the release\'s last date)')
      .option('--gaps', 'instead of prices, list the sessions the one --permno has no usable price, with a reason'),
  )
    .addHelpText('after', '\nExamples:\n  wh prices --ticker IBM --start 2020-01-01 --end 2020-12-31\n  wh prices --permno 10001 --start 2016-01-01 --end 2016-12-31 --monthly --as-of paper-v1 --format csv\n  wh prices --permno 10001 --start 2020-01-01 --end 2020-12-31 --gaps\n  wh prices --ticker IBM --start 2000-01-01 --end 2024-12-31 --format parquet --out ibm.parquet\n')
    .action(
      action(async (g, raw: unknown) => {
        const o = parseOptions(pricesSchema, raw);
        await withWarehouse(g, o.asOf, async (wh) => {
          const format = o.crsp ?? 'legacy';
          for (const w of await coverageWarnings(wh.session, [o.start, o.end], format)) if (!g.quiet) process.stderr.write(`warning: ${w}\n`);
          if (o.gaps === true) {
            const [permno, ...more] = o.permno ?? [];
            if (permno === undefined || more.length > 0 || (o.ticker?.length ?? 0) > 0) {
              throw new WarehouseError('INVALID_ARGUMENT', '--gaps takes exactly one --permno', { suggestion: 'e.g. wh prices --gaps --permno 10001 --start 2020-01-01 --end 2020-12-31' });
            }
            return writePlan(g, wh, await planGaps(wh.session, permno, o.start, o.end, { format }), o);
          }
          const plan = await planPrices(wh.session, o.monthly === true ? 'monthly' : 'daily', {
            permnos: o.permno, tickers: o.ticker, start: o.start, end: o.end, format, adjustTo: o.adjustTo,
          });
          await writePlan(g, wh, plan, o);
        });
      }),
    );
}
