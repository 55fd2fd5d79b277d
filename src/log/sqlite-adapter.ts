/**
 * The only file that imports better-sqlite3. Everything else talks to SQLite through the narrow
 * `SqliteDb` interface below, so the engine can be swapped or wrapped (fault injection) in one place.
 */
import Database from 'better-sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type SqlParams = readonly SqlValue[] | Record<string, SqlValue>;

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get<T = Record<string, unknown>>(...params: SqlValue[]): T | undefined;
  all<T = Record<string, unknown>>(...params: SqlValue[]): T[];
  iterate<T = Record<string, unknown>>(...params: SqlValue[]): IterableIterator<T>;
}

export interface SqliteDb {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  /** Run `fn` inside `BEGIN IMMEDIATE ... COMMIT` (rolled back if it throws). Never await inside. */
  immediate<T>(fn: () => T): T;
  pragma(text: string): unknown;
  close(): void;
  readonly path: string;
  readonly readonly: boolean;
}

export interface OpenSqliteOptions {
  readonly readonly?: boolean;
  readonly mustExist?: boolean;
  /** Milliseconds to wait on a locked database before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

/**
 * Open a SQLite database in WAL mode with `synchronous=FULL`: each committed transaction is one
 * fsync, so an acknowledged append survives power loss.
 */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDb {
  const db = new Database(path, {
    readonly: options.readonly ?? false,
    fileMustExist: options.mustExist ?? false,
    timeout: options.busyTimeoutMs ?? 10_000,
  });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
  }
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const stmtCache = new Map<string, Database.Statement>();
  const prepare = (sql: string): SqliteStatement => {
    let stmt = stmtCache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      stmtCache.set(sql, stmt);
    }
    const s = stmt;
    return {
      run: (...p) => s.run(...p),
      get: <T>(...p: SqlValue[]) => s.get(...p) as T | undefined,
      all: <T>(...p: SqlValue[]) => s.all(...p) as T[],
      iterate: <T>(...p: SqlValue[]) => s.iterate(...p) as IterableIterator<T>,
    };
  };
  return {
    path,
    readonly: options.readonly ?? false,
    exec: (sql) => void db.exec(sql),
    prepare,
    immediate: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    pragma: (text) => db.pragma(text),
    close: () => db.close(),
  };
}
