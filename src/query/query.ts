/**
 * `wh query`: SQL over the warehouse as of a point (head, seq, time or tag). The log is opened
 * read-only; nothing on the read path writes.
 */
import { openDuck, type Duck, type DuckParam, type DuckResult } from '../engine/index.js';
import { WarehouseError, type EventLog } from '../log/index.js';
import { manifestAt, resolvePoint, type Point } from '../projections/index.js';
import { assertNotCollected, viewStatements } from '../store/index.js';

export interface QueryOptions {
  /** seq, ISO date/time or tag; head when omitted. */
  readonly asOf?: string;
  readonly params?: readonly DuckParam[];
  readonly threads?: number;
  readonly memoryLimit?: string;
}

/** A DuckDB session whose views show the warehouse at `point`. Close it when done. */
export interface WarehouseSession {
  readonly point: Point;
  readonly duck: Duck;
  readonly datasets: readonly string[];
  close(): void;
}

/** Open a DuckDB session over the warehouse at a point. */
export async function openSession(dir: string, log: EventLog, options: QueryOptions = {}): Promise<WarehouseSession> {
  const point = resolvePoint(log, options.asOf);
  const entries = manifestAt(log, point.seq);
  assertNotCollected(log, point, entries);
  const duck = await openDuck({ threads: options.threads, memoryLimit: options.memoryLimit });
  try {
    for (const stmt of viewStatements(dir, entries)) await duck.run(stmt);
  } catch (e) {
    duck.close();
    throw e;
  }
  const datasets = [...new Set(entries.map((e) => e.dataset))].sort();
  return { point, duck, datasets, close: () => duck.close() };
}

function queryError(e: unknown, datasets: readonly string[]): WarehouseError {
  const msg = (e as Error).message ?? String(e);
  const missingTable = /Table with name (\S+) does not exist/.exec(msg);
  return new WarehouseError('QUERY_FAILED', `query failed: ${msg.split('\n')[0]}`, {
    suggestion:
      missingTable !== null
        ? `datasets at this point: ${datasets.join(', ') || '(none)'}; see \`wh status\``
        : 'check the SQL; every dataset is a view named after it',
    cause: e,
  });
}

/** Run one query and read all its rows. */
export async function runQuery(dir: string, log: EventLog, sql: string, options: QueryOptions = {}): Promise<DuckResult & { point: Point }> {
  const s = await openSession(dir, log, options);
  try {
    const res = await s.duck.all(sql, options.params);
    return { ...res, point: s.point };
  } catch (e) {
    throw queryError(e, s.datasets);
  } finally {
    s.close();
  }
}

/** Run one query and stream its rows in chunks (bounded memory). */
export async function* streamQuery(dir: string, log: EventLog, sql: string, options: QueryOptions = {}): AsyncGenerator<DuckResult & { point: Point }> {
  const s = await openSession(dir, log, options);
  try {
    try {
      for await (const chunk of s.duck.chunks(sql, options.params)) yield { ...chunk, point: s.point };
    } catch (e) {
      throw queryError(e, s.datasets);
    }
  } finally {
    s.close();
  }
}
