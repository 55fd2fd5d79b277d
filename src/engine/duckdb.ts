/**
 * The only file that imports DuckDB (`@duckdb/node-api`). Sync writes objects through it and
 * query reads them; both see this narrow interface only.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBValue, DuckDBValueConverter, Json } from '@duckdb/node-api';

type DuckApi = typeof import('@duckdb/node-api');
let api: Promise<DuckApi> | undefined;
/** DuckDB's native library is loaded on first use (about 0.15 s), so commands that never open one start faster. */
const loadApi = (): Promise<DuckApi> => (api ??= import('@duckdb/node-api'));

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
}

/** A result: column names and DuckDB type names, and JSON-safe rows. */
export interface DuckResult {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

/** A result column-major, with JS values: what Arrow conversion needs. */
export interface DuckColumns {
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly data: readonly (readonly unknown[])[];
}

export interface Duck {
  /** Run a statement, discarding rows. */
  run(sql: string, params?: readonly DuckParam[]): Promise<void>;
  /** Run a query and read every row (use `chunks` for large results). */
  all(sql: string, params?: readonly DuckParam[]): Promise<DuckResult>;
  /** Run a query and read it column by column as JS values (Date, bigint, number, string, boolean). */
  columns(sql: string, params?: readonly DuckParam[]): Promise<DuckColumns>;
  /** Stream a query's rows in chunks of about 2048 rows (bounded memory). */
  chunks(sql: string, params?: readonly DuckParam[]): AsyncGenerator<DuckResult>;
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
  ) {}

  async run(sql: string, params: readonly DuckParam[] = []): Promise<void> {
    await this.conn.run(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
  }

  async all(sql: string, params: readonly DuckParam[] = []): Promise<DuckResult> {
    const reader = await this.conn.runAndReadAll(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
    const columns = reader.deduplicatedColumnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    return { columns, types, rows: jsonSafe(reader.getRowObjectsJson() as Record<string, unknown>[], columns, types) };
  }

  async columns(sql: string, params: readonly DuckParam[] = []): Promise<DuckColumns> {
    const reader = await this.conn.runAndReadAll(sql, params.length > 0 ? (params as DuckDBValue[]) : undefined);
    return { names: reader.deduplicatedColumnNames(), types: reader.columnTypes().map((t) => t.toString()), data: reader.getColumnsJS() as unknown[][] };
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

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
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
  const duck = await loadApi();
  const instance = await duck.DuckDBInstance.create(options.path ?? ':memory:', config);
  const conn = await instance.connect();
  return new DuckAdapter(instance, conn, duck.JsonDuckDBValueConverter);
}

/** Quote an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote an SQL string literal (for file paths in table functions, which cannot be bound). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
