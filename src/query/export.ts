/**
 * `wh query "<select>" --out <file>`: wh itself writes a query's result to a file outside the
 * warehouse. The user's SQL is checked to be one read statement, then wrapped in wh's own COPY in a
 * sandbox whose only writable path is a temporary next to the target; the temporary is fsynced and
 * renamed, so the target is either the old file or the complete new one.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { quoteLiteral } from '../engine/index.js';
import { WarehouseError, type EventLog } from '../log/index.js';
import type { Point } from '../projections/index.js';
import { fsyncPath, warehousePaths } from '../store/index.js';
import { checkUserSql, isInside, openSession, queryError, type QueryOptions } from './query.js';

export const exportFormats = ['parquet', 'csv', 'json'] as const;
export type ExportFormat = (typeof exportFormats)[number];

const copyOptions: Record<ExportFormat, string> = {
  parquet: 'FORMAT parquet, COMPRESSION zstd',
  csv: 'FORMAT csv, HEADER true',
  json: 'FORMAT json, ARRAY true',
};

export interface ExportResult {
  readonly path: string;
  readonly format: ExportFormat;
  readonly rows: number;
  readonly bytes: number;
  readonly point: Point;
}

/** The export format a file name implies (`.parquet`, `.csv`, `.json`), else undefined. */
export function formatFromName(path: string): ExportFormat | undefined {
  const m = /\.(parquet|csv|json)$/i.exec(path);
  return m === null ? undefined : (m[1]!.toLowerCase() as ExportFormat);
}

/** Write the result of `sql` to `out` (refused inside the warehouse directory). */
export async function exportQuery(dir: string, log: EventLog, sql: string, out: string, format: ExportFormat, options: QueryOptions = {}): Promise<ExportResult> {
  const target = resolve(out);
  const root = warehousePaths(dir).root;
  if (isInside(target, root) || isInside(dirname(target), root)) {
    throw new WarehouseError('QUERY_REFUSED', `--out ${target} is inside the warehouse directory ${root}`, {
      suggestion: 'write exports outside the warehouse; only wh commands change what is inside it',
    });
  }
  try {
    if (!statSync(dirname(target)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new WarehouseError('INVALID_ARGUMENT', `--out ${target}: directory ${dirname(target)} does not exist`, { suggestion: 'create the directory first' });
  }
  const tmp = join(dirname(target), `.${basename(target)}.wh-${randomUUID().slice(0, 8)}.tmp`);
  const s = await openSession(dir, log, { ...options, writePath: tmp });
  try {
    await checkUserSql(s, sql, options);
    const body = sql.replace(/;\s*$/, '');
    const copy = `COPY (\n${body}\n) TO ${quoteLiteral(tmp)} (${copyOptions[format]})`;
    // The wrapper must still be exactly one COPY: a crafted statement cannot break out of it.
    const types = await s.duck.statementTypes(copy);
    if (types.length !== 1 || types[0] !== 'COPY') throw new WarehouseError('QUERY_REFUSED', 'the query cannot be exported as one statement', { suggestion: 'pass one SELECT' });
    const res = await s.duck.all(copy, options.params);
    const rows = Number(res.rows[0]?.['Count'] ?? 0);
    await fsyncPath(tmp);
    renameSync(tmp, target);
    await fsyncPath(dirname(target));
    return { path: target, format, rows, bytes: statSync(target).size, point: s.point };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw queryError(e, s.datasets, s.faults);
  } finally {
    s.close();
  }
}
