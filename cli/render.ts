/**
 * The one rendering module of the CLI: rows to an aligned table (numbers as a researcher reads
 * them), CSV, JSON lines or JSON, and atomic file output. CSV and JSON keep full precision; only
 * the table rounds.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WarehouseError } from '../src/log/index.js';

/** One CSV cell (RFC 4180 quoting; NULL is empty). Full precision. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A CSV line of `columns` from `row`. */
export function csvLine(columns: readonly string[], row?: Readonly<Record<string, unknown>>): string {
  return columns.map((c) => csvCell(row === undefined ? c : row[c])).join(',') + '\n';
}

let groupedFormat: Intl.NumberFormat | undefined;
/** Created on first use: building an Intl formatter costs start-up time a command may not need. */
const grouped = (): Intl.NumberFormat => (groupedFormat ??= new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

/**
 * A number as a table shows it: integers as they are (identifiers such as permno stay
 * ungrouped); fractions with six significant digits (returns, factors); magnitudes of 1,000 and
 * more with two decimals and thousands separators (prices, market caps).
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  if (Math.abs(x) >= 1000) return grouped().format(x);
  const s = x.toPrecision(6);
  return s.includes('e') ? s : s.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** A cell as a table shows it (NULL spelled out, objects as JSON, numbers by {@link formatNumber}). */
export function tableCell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const isNumeric = (v: unknown): boolean => typeof v === 'number' || typeof v === 'bigint';

/** Rows as an aligned text table; numeric columns are right-aligned. */
export function table(rows: readonly Readonly<Record<string, unknown>>[], columns?: readonly string[]): string {
  const cols = columns ?? (rows[0] === undefined ? [] : Object.keys(rows[0]));
  if (cols.length === 0) return '(no rows)';
  const body = rows.map((r) => cols.map((c) => tableCell(r[c])));
  const right = cols.map((c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || isNumeric(r[c])) && rows.some((r) => isNumeric(r[c])));
  const widths = cols.map((c, i) => Math.min(60, Math.max(c.length, ...body.map((b) => b[i]!.length))));
  const cell = (v: string, i: number): string => {
    const w = widths[i]!;
    if (v.length > w) return v.slice(0, w - 1) + '…';
    return right[i] ? v.padStart(w) : v.padEnd(w);
  };
  const line = (vals: readonly string[]) => vals.map(cell).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export type TextFormat = 'table' | 'csv' | 'json';

/** Rows in a text format; `table` shows at most `maxRows` and a count line. */
export function renderRows(format: TextFormat, rows: readonly Readonly<Record<string, unknown>>[], columns: readonly string[], maxRows = 1000, label?: string): string {
  if (format === 'json') return `[${rows.map((r) => `\n${JSON.stringify(r)}`).join(',')}${rows.length > 0 ? '\n' : ''}]\n`;
  if (format === 'csv') return csvLine(columns) + rows.map((r) => csvLine(columns, r)).join('');
  const shown = rows.slice(0, maxRows);
  const more = rows.length > shown.length ? `, first ${shown.length} shown` : '';
  return `${table(shown, columns)}\n(${rows.length} row${rows.length === 1 ? '' : 's'}${more}${label !== undefined ? ` at ${label}` : ''})\n`;
}

/** Write a file through a temporary name in the same directory and a rename: never a partial file. */
export async function atomicWrite(out: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const target = resolve(out);
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await write(tmp);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof WarehouseError) throw e;
    throw new WarehouseError('IO_ERROR', `cannot write ${target}: ${(e as Error).message.split('\n')[0]}`, { suggestion: 'check that the directory exists and is writable', cause: e });
  }
}

/** Text to stdout, or atomically to `out`. */
export async function emitText(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text);
  else await atomicWrite(out, (tmp) => writeFileSync(tmp, text));
}
