/**
 * The library entry point: a read-only handle on a warehouse as of one point in its history.
 * Nothing here writes: the log is opened read-only and every query runs in an in-memory DuckDB
 * whose views name exactly the objects of the manifest at that point.
 */
import type { Table } from 'apache-arrow';
import type { DuckParam } from '../engine/index.js';
import { datasetsAt, type DatasetSummary, type Point } from '../projections/index.js';
import { openWarehouseLog } from '../store/index.js';
import { toArrow } from './arrow.js';
import { checkUserSql, openSession, queryError, type WarehouseSession } from './query.js';
import { auditTarget, lineageOf, type LineageRecord } from './lineage.js';
import { exportQuery, type ExportFormat, type ExportResult } from './export.js';

export interface OpenWarehouseOptions {
  /** A seq (`"1234"`), an ISO date (end of that UTC day) or time, or a snapshot tag. Default: now. */
  readonly asOf?: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** Files or directories outside the warehouse your SQL may read (nothing else is readable). */
  readonly allowRead?: readonly string[];
}

/** A read-only warehouse at a fixed point. Close it when done. */
export interface Warehouse {
  readonly dir: string;
  /** The log position every read of this handle sees. */
  readonly point: Point;
  /** Datasets at this point, with partition, row and byte counts. */
  datasets(): DatasetSummary[];
  /** Run SQL (DuckDB dialect; each dataset is a view); `$1`-style parameters are bound, never interpolated. */
  sql(query: string, params?: readonly DuckParam[]): Promise<Table>;
  /** Same as `sql`, as plain JSON-safe row objects. */
  rows(query: string, params?: readonly DuckParam[]): Promise<Record<string, unknown>[]>;
  /** Same as `sql`: the result as an Apache Arrow table. */
  arrow(query: string, params?: readonly DuckParam[]): Promise<Table>;
  /** Lineage of a dataset, an object hash or a tag (default: everything current) at this point's history. */
  lineage(target?: string): LineageRecord[];
  /** The underlying session (for the data providers: `universe(wh.session, ...)`). */
  readonly session: WarehouseSession;
  /**
   * Write the result of `query` to `out` (parquet, csv or json) as of this handle's point, through
   * wh's own sandboxed COPY (a temporary next to `out`, fsynced and renamed; refused inside the
   * warehouse). `allowRead` lets the query read files of your own, e.g. a staged JSON file.
   */
  export(query: string, out: string, format: ExportFormat, options?: { readonly params?: readonly DuckParam[]; readonly allowRead?: readonly string[] }): Promise<ExportResult>;
  /** Release DuckDB and the log. */
  close(): void;
}

/**
 * Open the warehouse in `dir` read-only, as of `options.asOf`.
 *
 * @example
 * ```ts
 * import { openWarehouse } from 'wh';
 * const wh = await openWarehouse('/data/wh', { asOf: 'paper-v1' });
 * const t = await wh.sql('SELECT date, ret FROM crsp_dsf WHERE permno = $1 ORDER BY date', [14593]);
 * console.log(t.numRows, wh.point.seq);
 * wh.close();
 * ```
 * @throws WarehouseError `NOT_A_WAREHOUSE`, `UNKNOWN_TAG`, `INVALID_ARGUMENT` (bad point), `OBJECT_MISSING`; `sql`/`rows` throw `QUERY_REFUSED` for anything but one read statement,
 *   `OBJECT_MISSING`/`OBJECT_DAMAGED` when the SQL reads a dataset with a missing or damaged object.
 */
export async function openWarehouse(dir: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  const log = openWarehouseLog(dir, { readonly: true });
  let session: WarehouseSession;
  try {
    session = await openSession(dir, log, options);
  } catch (e) {
    log.close();
    throw e;
  }
  const fail = (e: unknown): never => {
    throw queryError(e, session.datasets, session.faults);
  };
  // User SQL: one read statement only (the session is a sandbox besides).
  const read = async <T>(query: string, run: () => Promise<T>): Promise<T> => {
    await checkUserSql(session, query);
    return run().catch(fail);
  };
  return {
    dir,
    point: session.point,
    session,
    datasets: () => datasetsAt(log, session.point.seq),
    sql: async (query, params) => toArrow(await read(query, () => session.duck.columns(query, params))),
    arrow: async (query, params) => toArrow(await read(query, () => session.duck.columns(query, params))),
    rows: async (query, params) => [...(await read(query, () => session.duck.all(query, params))).rows],
    lineage: (target) => lineageOf(log, auditTarget(log, target)),
    export: (query, out, format, o = {}) =>
      exportQuery(dir, log, query, out, format, { asOf: String(session.point.seq), params: o.params, allowRead: [...(options.allowRead ?? []), ...(o.allowRead ?? [])] }),
    close: () => {
      session.close();
      log.close();
    },
  };
}
