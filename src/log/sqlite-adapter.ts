/**
 * The only file that imports better-sqlite3. Everything else talks to SQLite through the narrow
 * `SqliteDb` interface below, so the engine can be swapped or wrapped (fault injection) in one place.
 */
import Database from 'better-sqlite3';
import { WarehouseError } from './errors.js';

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
  /** Copy the database to `destPath` with SQLite's online backup API (consistent while others write). */
  backup(destPath: string): Promise<void>;
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
  // Damage found after opening (a corrupt page is only read when a query touches it) surfaces as
  // LOG_CORRUPT wherever it is hit, never as a raw engine error.
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) {
        throw new WarehouseError('LOG_CORRUPT', `the operation log ${path} is damaged (${code})`, {
          cause: e,
          suggestion: 'restore wh.log from a backup (docs/runbooks/log-recovery.md); the object store is intact',
        });
      }
      throw e;
    }
  };
  const stmtCache = new Map<string, Database.Statement>();
  const prepare = (sql: string): SqliteStatement => {
    let stmt = stmtCache.get(sql);
    if (stmt === undefined) {
      stmt = guard(() => db.prepare(sql));
      stmtCache.set(sql, stmt);
    }
    const s = stmt;
    return {
      run: (...p) => guard(() => s.run(...p)),
      get: <T>(...p: SqlValue[]) => guard(() => s.get(...p) as T | undefined),
      all: <T>(...p: SqlValue[]) => guard(() => s.all(...p) as T[]),
      iterate: <T>(...p: SqlValue[]) => guard(() => s.iterate(...p) as IterableIterator<T>),
    };
  };
  // One transaction wrapper for the connection (building one per call costs ~14 µs a commit).
  const txn = db.transaction((fn: () => unknown) => fn());
  return {
    path,
    readonly: options.readonly ?? false,
    exec: (sql) => guard(() => void db.exec(sql)),
    prepare,
    immediate: <T>(fn: () => T): T => guard(() => db.transaction(fn).immediate()),
    pragma: (text) => guard(() => db.pragma(text)),
    backup: async (destPath) => {
      await db.backup(destPath);
    },
    close: () => db.close(),
  };
}
