/**
 * With columnar.ts, the only files that import DuckDB (`@duckdb/node-api`, `@duckdb/node-bindings`). Sync writes objects through it and
 * query reads them; both see this narrow interface only.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBValue, DuckDBValueConverter, Json } from '@duckdb/node-api';
import { columnsOf, type DuckColumn, type DuckModules } from './columnar.js';

type DuckApi = typeof import('@duckdb/node-api');
let api: Promise<DuckApi> | undefined;
/** DuckDB's native library is loaded on first use (about 0.15 s), so commands that never open one start faster. */
const loadApi = (): Promise<DuckApi> => (api ??= import('@duckdb/node-api'));
let modules: Promise<DuckModules> | undefined;
/** node-api and its bindings (result vectors are read through the bindings: columnar.ts). */
const loadModules = (): Promise<DuckModules> =>
  (modules ??= Promise.all([loadApi(), import('@duckdb/node-bindings')]).then(([a, b]) => ({ api: a, bindings: b.default })));

/** A value bound to a `$1`-style SQL parameter. */
export type DuckParam = string | number | boolean | null | bigint;

export interface DuckOptions {
  /** Database file; in-memory when omitted. */
  readonly path?: string;
  readonly readonly?: boolean;
  readonly threads?: number;
  /** e.g. '4GB' */
  readonly memoryLimit?: string;
  /** Spill directory for large sorts. */
  readonly tempDirectory?: string;
  /**
   * Give memory back to the operating system after every statement. DuckDB's allocator otherwise
   * keeps what a statement freed (up to 128 MB by default) for reuse, so a long-running writer's
   * resident size climbs with every partition: 157 → 306 MiB over ten 100k-row partitions, and
   * 104–109 MiB with this set.
   */
  readonly returnMemory?: boolean;
  /**
   * Lock the session down for untrusted SQL: no file access except the paths listed, no
   * extension install or load, configuration locked. See {@link DuckSandbox}.
   */
  readonly sandbox?: DuckSandbox;
}

/**
 * What a sandboxed session may touch. DuckDB's `enable_external_access=false` with
 * `allowed_paths`/`allowed_directories` permits reading AND writing the listed paths, so callers
 * must also accept only read statements ({@link Duck.statementTypes}); listing exact object files
 * (not the objects directory) keeps even that surface minimal.
 */
export interface DuckSandbox {
  /** Exact files the session may open. */
  readonly paths: readonly string[];
  /** Directories (and everything under them) the session may open: a user's explicit opt-in. */
  readonly directories?: readonly string[];
}

/** A result: column names and DuckDB type names, and JSON-safe rows. */
export interface DuckResult {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

/** A result column-major, in Arrow's layout (columnar.ts): what Arrow conversion needs. */
export interface DuckColumns {
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly columns: readonly DuckColumn[];
}

export interface Duck {
  /** Run a statement, discarding rows. */
  run(sql: string, params?: readonly DuckParam[]): Promise<void>;
  /** Run a query and read every row (use `chunks` for large results). */
  all(sql: string, params?: readonly DuckParam[]): Promise<DuckResult>;
  /**
   * Run a query and read it column by column in Arrow's layout, straight from DuckDB's vectors
   * (columnar.ts); `asValues` reads every column as JS values instead (Date, bigint, number,
   * string, boolean): the slower reference path.
   */
  columns(sql: string, params?: readonly DuckParam[], options?: { readonly asValues?: boolean }): Promise<DuckColumns>;
  /** Stream a query's rows in chunks of about 2048 rows (bounded memory). */
  chunks(sql: string, params?: readonly DuckParam[]): AsyncGenerator<DuckResult>;
  /** DuckDB's own statement types of `sql` (parsed and bound, not run): e.g. ['SELECT'], ['COPY'], ['SELECT', 'SELECT']. */
  statementTypes(sql: string): Promise<string[]>;
  /**
   * Another connection to the same database (its temporary tables are its own): two queries, one
   * on each, run at the same time. Closing it leaves this one open.
   */
  connect?(): Promise<Duck>;
  close(): void;
}

const INTEGER_TYPES = new Set(['BIGINT', 'HUGEINT', 'UBIGINT', 'UHUGEINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER', 'USMALLINT', 'UTINYINT']);

function jsonSafe(rows: Record<string, unknown>[], columns: readonly string[], types: readonly string[]): Record<string, unknown>[] {
  const intCols = columns.filter((_, i) => INTEGER_TYPES.has(types[i] ?? ''));
  if (intCols.length === 0) return rows;
  for (const row of rows) {
    for (const c of intCols) {
      const v = row[c];
      if (typeof v === 'string') {
        const n = Number(v);
        if (Number.isSafeInteger(n)) row[c] = n;
      }
    }
  }
  return rows;
}

class DuckAdapter implements Duck {
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly jsonConverter: DuckDBValueConverter<Json>,
    private readonly typeNames: Record<number, string>,
    private readonly ownsInstance = true,
  ) {}

  async connect(): Promise<Duck> {
    return new DuckAdapter(this.instance, await this.instance.connect(), this.jsonConverter, this.typeNames, false);
  }

  async run(sql: string, params: readonly DuckParam[] = []): Promise<void> {
    await this.conn.run(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
  }

  async all(sql: string, params: readonly DuckParam[] = []): Promise<DuckResult> {
    const reader = await this.conn.runAndReadAll(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
    const columns = reader.deduplicatedColumnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    return { columns, types, rows: jsonSafe(reader.getRowObjectsJson() as Record<string, unknown>[], columns, types) };
  }

  async columns(sql: string, params: readonly DuckParam[] = [], options: { readonly asValues?: boolean } = {}): Promise<DuckColumns> {
    const result = await this.conn.run(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
    const columns = columnsOf(await loadModules(), result, options.asValues === true);
    return { names: result.deduplicatedColumnNames(), types: result.columnTypes().map((t) => t.toString()), columns };
  }

  async *chunks(sql: string, params: readonly DuckParam[] = []): AsyncGenerator<DuckResult> {
    const result = await this.conn.stream(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
    const columns = result.deduplicatedColumnNames();
    const types = result.columnTypes().map((t) => t.toString());
    let first = true;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) {
        // An empty result still has columns (a CSV of no rows still has its header).
        if (first) yield { columns, types, rows: [] };
        return;
      }
      first = false;
      const rows = chunk.convertRows(this.jsonConverter).map((values) => {
        const row: Record<string, unknown> = {};
        columns.forEach((c, i) => (row[c] = values[i] ?? null));
        return row;
      });
      yield { columns, types, rows: jsonSafe(rows, columns, types) };
    }
  }

  async statementTypes(sql: string): Promise<string[]> {
    const extracted = await this.conn.extractStatements(sql);
    const out: string[] = [];
    for (let i = 0; i < extracted.count; i++) {
      const prepared = await extracted.prepare(i);
      try {
        out.push(this.typeNames[prepared.statementType] ?? `TYPE_${prepared.statementType}`);
      } finally {
        prepared.destroySync();
      }
    }
    return out;
  }

  close(): void {
    this.conn.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/** Open a DuckDB database (in memory by default). */
export async function openDuck(options: DuckOptions = {}): Promise<Duck> {
  const config: Record<string, string> = {};
  if (options.readonly) config['access_mode'] = 'READ_ONLY';
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
  if (options.tempDirectory !== undefined) config['temp_directory'] = options.tempDirectory;
  if (options.returnMemory === true) {
    config['allocator_flush_threshold'] = '1MB';
    config['allocator_bulk_deallocation_flush_threshold'] = '1MB';
  }
  if (options.sandbox !== undefined) {
    config['autoinstall_known_extensions'] = 'false';
    config['autoload_known_extensions'] = 'false';
  }
  const duck = await loadApi();
  const instance = await duck.DuckDBInstance.create(options.path ?? ':memory:', config);
  const conn = await instance.connect();
  if (options.sandbox !== undefined) {
    try {
      const list = (xs: readonly string[]): string => `[${xs.map(quoteLiteral).join(', ')}]`;
      const dirs = (options.sandbox.directories ?? []).map((d) => (d.endsWith('/') ? d : `${d}/`));
      // Order matters: the allow-lists can only be set while external access is still on, and
      // nothing can be changed once the configuration is locked.
      if (options.sandbox.paths.length > 0) await conn.run(`SET allowed_paths = ${list(options.sandbox.paths)}`);
      if (dirs.length > 0) await conn.run(`SET allowed_directories = ${list(dirs)}`);
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
    } catch (e) {
      conn.closeSync();
      instance.closeSync();
      throw e;
    }
  }
  const names: Record<number, string> = {};
  for (const [k, v] of Object.entries(duck.StatementType)) if (typeof v === 'number') names[v] = k;
  return new DuckAdapter(instance, conn, duck.JsonDuckDBValueConverter, names);
}

/** Quote an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote an SQL string literal (for file paths in table functions, which cannot be bound). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
