/**
 * `wh query`: SQL over the warehouse as of a point (head, seq, time or tag). The log is opened
 * read-only; nothing on the read path writes. Every session is a sandbox (see
 * docs/concepts/query-sandbox.md): DuckDB may open only the objects of the manifest at that point
 * (and what the caller explicitly allowed), cannot write, attach, install or load anything, and
 * its configuration is locked; user SQL must be one read statement (SELECT, WITH, DESCRIBE, ...).
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { openDuck, type Duck, type DuckParam, type DuckResult } from '../engine/index.js';
import { WarehouseError, type EventLog } from '../log/index.js';
import { datasetsAt, manifestAt, resolvePoint, type ManifestEntry, type Point } from '../projections/index.js';
import { describeFault, faultSuggestion, hashFaults, objectFaults, objectPath, recordedDamage, viewStatements, assertNotCollected, type ObjectFault, warehousePaths } from '../store/index.js';

export interface QueryOptions {
  /** seq, ISO date/time or tag; head when omitted. */
  readonly asOf?: string;
  readonly params?: readonly DuckParam[];
  readonly threads?: number;
  readonly memoryLimit?: string;
  /**
   * Which datasets get a view: all of them (default), or only these. A query's session creates
   * views only for the datasets its SQL names, so it never checks or reads the others' objects.
   */
  readonly views?: readonly string[];
  /**
   * Files or directories outside the warehouse the SQL may read (e.g. your own CSV to join with
   * CRSP). Nothing else outside the warehouse's objects is readable.
   */
  readonly allowRead?: readonly string[];
  /** Re-hash every object of the datasets the SQL names before running it (`wh query --verify`). */
  readonly verify?: boolean;
  /** @internal a file the session may write (wh's own export temporary). */
  readonly writePath?: string;
  /** @internal bench/query.ts only: skip the per-object size and damage check, to measure its cost. */
  readonly uncheckedObjects?: boolean;
}

/** A DuckDB session whose views show the warehouse at `point`. Close it when done. */
export interface WarehouseSession {
  readonly dir: string;
  readonly point: Point;
  readonly duck: Duck;
  readonly datasets: readonly string[];
  /** The manifest entries the views read. */
  readonly entries: readonly ManifestEntry[];
  /** Objects refused at open (missing, resized, recorded damaged): their datasets have no view. */
  readonly faults: readonly ObjectFault[];
  close(): void;
}

/** Whether `path` is `root` or inside it (both resolved through symlinks where they exist). */
export function isInside(path: string, root: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const p = real(path);
  const r = real(root);
  return p === r || p.startsWith(r.endsWith(sep) ? r : r + sep);
}

function allowList(dir: string, allowRead: readonly string[]): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const raw of allowRead) {
    const p = resolve(raw);
    if (isInside(p, dir) || isInside(dir, p)) {
      throw new WarehouseError('QUERY_REFUSED', `--allow-read ${JSON.stringify(raw)} overlaps the warehouse directory`, {
        suggestion: "the warehouse's data is already readable through its views; allow only your own files outside it",
      });
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new WarehouseError('INVALID_ARGUMENT', `--allow-read ${JSON.stringify(raw)}: no such file or directory`, { suggestion: 'give an existing file or directory' });
    }
    (st.isDirectory() ? dirs : files).push(realpathSync(p));
  }
  return { files, dirs };
}

/** Open a sandboxed DuckDB session over the warehouse at a point. */
export async function openSession(dir: string, log: EventLog, options: QueryOptions = {}): Promise<WarehouseSession> {
  const point = resolvePoint(log, options.asOf);
  const all = manifestAt(log, point.seq);
  assertNotCollected(log, point, all);
  const wanted = options.views === undefined ? undefined : new Set(options.views);
  const entries = wanted === undefined ? all : all.filter((e) => wanted.has(e.dataset));
  const root = warehousePaths(dir).root;
  const allowed = allowList(root, options.allowRead ?? []);
  const faults = options.uncheckedObjects === true ? [] : objectFaults(dir, entries, recordedDamage(log));
  // Only the refused objects are unreadable: intact objects of the same dataset stay readable by path.
  const refused = new Set(faults.map((f) => f.object));
  const readable = [...new Set(entries.filter((e) => !refused.has(e.object)).map((e) => objectPath(dir, e.object)))];
  const duck = await openDuck({
    threads: options.threads,
    memoryLimit: options.memoryLimit,
    sandbox: { paths: [...readable, ...allowed.files, ...(options.writePath === undefined ? [] : [options.writePath])], directories: allowed.dirs },
  });
  try {
    for (const stmt of viewStatements(dir, entries, { checkFiles: false, faults })) await duck.run(stmt);
  } catch (e) {
    duck.close();
    throw e;
  }
  const datasets = [...new Set(all.map((e) => e.dataset))].sort();
  return { dir, point, duck: guarded(duck, faults), datasets, entries, faults, close: () => duck.close() };
}

/** The named OBJECT_MISSING/OBJECT_DAMAGED error when `e` is DuckDB failing to find a refused dataset's view, else null. */
export function faultError(e: unknown, faults: readonly ObjectFault[]): WarehouseError | null {
  if (faults.length === 0) return null;
  const msg = (e as Error)?.message ?? String(e);
  const missingView = /Table with name "?([^\s"!]+)"? does not exist/.exec(msg)?.[1];
  const fault = faults.find((f) => f.dataset.toLowerCase() === missingView?.toLowerCase());
  if (fault === undefined) return null;
  const more = faults.filter((f) => f.dataset === fault.dataset).length - 1;
  return new WarehouseError(fault.kind === 'missing' ? 'OBJECT_MISSING' : 'OBJECT_DAMAGED', `${describeFault(fault)}${more > 0 ? ` (and ${more} more object(s) of this dataset)` : ''}; its data is not served`, {
    suggestion: faultSuggestion,
    cause: e,
    details: { dataset: fault.dataset, partition: fault.partition, object: fault.object, kind: fault.kind },
  });
}

/**
 * The session's Duck, with a refused dataset's missing view reported as the named OBJECT_* error
 * for every caller (providers included), other errors passed through unchanged.
 */
function guarded(duck: Duck, faults: readonly ObjectFault[]): Duck {
  const rethrow = (e: unknown): never => {
    throw faultError(e, faults) ?? e;
  };
  return {
    run: (sql, params) => duck.run(sql, params).catch(rethrow),
    all: (sql, params) => duck.all(sql, params).catch(rethrow),
    columns: (sql, params) => duck.columns(sql, params).catch(rethrow),
    statementTypes: (sql) => duck.statementTypes(sql).catch(rethrow),
    async *chunks(sql, params) {
      try {
        yield* duck.chunks(sql, params);
      } catch (e) {
        rethrow(e);
      }
    },
    close: () => duck.close(),
  };
}

/**
 * The datasets a query's SQL names, at its point; every dataset (undefined) when the SQL reads
 * files itself (a table function or a quoted path), since it may name objects by path.
 */
function viewsFor(log: EventLog, sql: string, asOf: string | undefined): string[] | undefined {
  if (/\b(read_\w+|parquet_\w+|glob)\s*\(|'[^']*\/[^']*'/i.test(sql)) return undefined;
  const point = resolvePoint(log, asOf);
  return referencedDatasets(sql, datasetsAt(log, point.seq).map((d) => d.dataset));
}

/** The datasets among `names` that `sql` mentions as a word (quoted or not, any case). */
export function referencedDatasets(sql: string, names: readonly string[]): string[] {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_$]*/g) ?? []);
  return names.filter((n) => words.has(n.toLowerCase()));
}

/** Map a DuckDB failure to a WarehouseError; a refused dataset's view becomes OBJECT_MISSING/OBJECT_DAMAGED. */
export function queryError(e: unknown, datasets: readonly string[], faults: readonly ObjectFault[] = []): WarehouseError {
  if (e instanceof WarehouseError) return e;
  const fault = faultError(e, faults);
  if (fault !== null) return fault;
  const msg = (e as Error).message ?? String(e);
  if (/Permission Error|disabled by configuration|configuration has been locked/.test(msg)) {
    return new WarehouseError('QUERY_REFUSED', `query refused: ${msg.split('\n')[0]}`, {
      suggestion: 'queries read the warehouse only; to read your own file pass --allow-read <path> (allowRead in the library), to export use --out <file>',
      cause: e,
    });
  }
  const missingTable = /Table with name (\S+) does not exist/.exec(msg);
  return new WarehouseError('QUERY_FAILED', `query failed: ${msg.split('\n')[0]}`, {
    suggestion:
      missingTable !== null
        ? `datasets at this point: ${datasets.join(', ') || '(none)'}; see \`wh status\``
        : 'check the SQL; every dataset is a view named after it',
    cause: e,
  });
}

/** Statement types user SQL may have: reads only. DESCRIBE, SHOW and SUMMARIZE are SELECTs to DuckDB. */
export const READ_STATEMENTS: readonly string[] = ['SELECT'];

/**
 * Refuse anything but exactly one read statement, judged by DuckDB's own parser and binder; with
 * `verify`, re-hash the objects of every dataset the SQL names first.
 */
export async function checkUserSql(session: WarehouseSession, sql: string, options: { verify?: boolean } = {}): Promise<void> {
  let types: string[];
  try {
    types = await session.duck.statementTypes(sql);
  } catch (e) {
    throw queryError(e, session.datasets, session.faults);
  }
  if (types.length !== 1) {
    throw new WarehouseError('QUERY_REFUSED', `expected one SQL statement, got ${types.length}`, { suggestion: 'run one SELECT at a time' });
  }
  if (!READ_STATEMENTS.includes(types[0]!)) {
    throw new WarehouseError('QUERY_REFUSED', `${types[0]} statements are refused: queries only read (SELECT, WITH ... SELECT, DESCRIBE, SHOW, SUMMARIZE)`, {
      suggestion: 'to export a result use `wh query "<select>" --out <file> --format parquet|csv|json`; the warehouse changes only through wh commands',
    });
  }
  if (options.verify === true) {
    const named = new Set(session.datasets.filter((d) => new RegExp(`(^|[^A-Za-z0-9_])${d.replace(/[^A-Za-z0-9_]/g, '\\$&')}($|[^A-Za-z0-9_])`, 'i').test(sql)));
    const faults = await hashFaults(session.dir, session.entries.filter((e) => named.has(e.dataset)));
    if (faults.length > 0) throw new WarehouseError('OBJECT_DAMAGED', describeFault(faults[0]!) + (faults.length > 1 ? ` (and ${faults.length - 1} more)` : ''), { suggestion: faultSuggestion });
  }
}

/** Run one query and read all its rows. */
export async function runQuery(dir: string, log: EventLog, sql: string, options: QueryOptions = {}): Promise<DuckResult & { point: Point }> {
  const s = await openSession(dir, log, { ...options, views: options.views ?? viewsFor(log, sql, options.asOf) });
  try {
    await checkUserSql(s, sql, options);
    const res = await s.duck.all(sql, options.params);
    return { ...res, point: s.point };
  } catch (e) {
    throw queryError(e, s.datasets, s.faults);
  } finally {
    s.close();
  }
}

/** Run one query and stream its rows in chunks (bounded memory). */
export async function* streamQuery(dir: string, log: EventLog, sql: string, options: QueryOptions = {}): AsyncGenerator<DuckResult & { point: Point }> {
  const s = await openSession(dir, log, { ...options, views: options.views ?? viewsFor(log, sql, options.asOf) });
  try {
    await checkUserSql(s, sql, options);
    try {
      for await (const chunk of s.duck.chunks(sql, options.params)) yield { ...chunk, point: s.point };
    } catch (e) {
      throw queryError(e, s.datasets, s.faults);
    }
  } finally {
    s.close();
  }
}
