/**
 * The PostgreSQL adapter: the only file that imports `pg` and `pg-copy-streams`. It offers two
 * narrow shapes, and callers declare which one they need:
 * - a {@link PgSession} (one connection: query, COPY FROM STDIN) for loading and administering a
 *   server (the development sample, tests);
 * - a {@link PgPool} (a small pool: query, streamed COPY TO STDOUT whose row count is known at
 *   the stream's end) for reading a source such as WRDS.
 * Dates come back as 'YYYY-MM-DD' strings and numerics as strings (no float rounding).
 */
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pgTypes from 'pg';
import type { CopyToStreamQuery } from 'pg-copy-streams';

type Pg = typeof pgTypes;
type PgCopy = typeof import('pg-copy-streams');
let loaded: Promise<{ pg: Pg; copy: PgCopy; typeParser: Pg['types']['getTypeParser'] }> | undefined;

/** pg and pg-copy-streams, imported once on first use (commands that never reach a server skip them). */
function loadPg() {
  loaded ??= Promise.all([import('pg'), import('pg-copy-streams')]).then(([pgModule, copy]) => {
    const pg = pgModule.default;
    // Dates as 'YYYY-MM-DD' strings (no time zone shift); everything else as pg parses it.
    const typeParser = ((oid: number, format?: string) =>
      oid === 1082 ? (value: string) => value : pg.types.getTypeParser(oid, format as 'text')) as Pg['types']['getTypeParser'];
    return { pg, copy, typeParser };
  });
  return loaded;
}

/** Where to reach one PostgreSQL database. */
export interface PgConnectionConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** One connection: statements and `COPY ... FROM STDIN`. */
export interface PgSession {
  /** Runs one statement; `date` columns come back as 'YYYY-MM-DD' strings, numerics as strings. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Streams `source` (COPY text chunks) into `COPY ... FROM STDIN`, with backpressure; resolves to the row count. */
  copyFrom(sql: string, source: Iterable<string> | AsyncIterable<string>): Promise<number>;
  /** Closes the connection if this session opened it. */
  end(): Promise<void>;
}

/** Something with a pg-like `query` and `connect`, e.g. a `pg.Client` the caller owns. */
export interface PgClientLike {
  query(...args: never[]): unknown;
  connect(): unknown;
}

/** True when `value` already is a {@link PgSession}. */
export function isPgSession(value: unknown): value is PgSession {
  return typeof value === 'object' && value !== null && typeof (value as { copyFrom?: unknown }).copyFrom === 'function';
}

/**
 * Opens a session on a connection config, or wraps a connected `pg.Client` the caller owns
 * (then `end()` leaves it open).
 *
 * @example
 * const session = await openPgSession(cfg);
 * await session.copyFrom('COPY t FROM STDIN', ['1\tx\n']);
 * await session.end();
 */
export async function openPgSession(target: PgConnectionConfig | PgClientLike): Promise<PgSession> {
  const { pg, copy, typeParser } = await loadPg();
  const owned = !('connect' in target && typeof target.connect === 'function');
  const client = owned ? new pg.Client({ ...(target as PgConnectionConfig), types: { getTypeParser: typeParser } }) : (target as unknown as InstanceType<Pg['Client']>);
  if (owned) await client.connect();
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const result = await client.query({ text: sql, values: params === undefined ? [] : [...params], types: { getTypeParser: typeParser } });
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
    async copyFrom(sql: string, source: Iterable<string> | AsyncIterable<string>) {
      const stream = client.query(copy.from(sql));
      await pipeline(Readable.from(source, { objectMode: false }), stream);
      return stream.rowCount;
    },
    async end() {
      if (owned) await client.end();
    },
  };
}

/** A PostgreSQL identifier, double-quoted (`"a""b"`). */
export function quotePgIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Options of {@link createPgPool}: the connection plus pool and session limits. */
export interface PgPoolOptions extends PgConnectionConfig {
  /** `false`, or TLS with or without certificate verification. */
  readonly ssl: false | { readonly rejectUnauthorized: boolean };
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly applicationName: string;
  /** Called when an idle connection drops (the next query reconnects). */
  readonly onIdleError?: (e: Error & { code?: string }) => void;
}

/** A stream of COPY CSV bytes whose `rowCount` (the server's `COPY n`) is set when it ends. */
export type CopyOutStream = Readable & { rowCount?: number };

/** A small connection pool: statements and streamed `COPY (...) TO STDOUT`. */
export interface PgPool {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Stream `COPY (<select>) TO STDOUT (FORMAT csv)`; the stream errors if the server fails mid-way. */
  copyOut(select: string): Promise<CopyOutStream>;
  end(): Promise<void>;
}

/** Open a pool (no connection is made until the first query). */
export async function createPgPool(o: PgPoolOptions): Promise<PgPool> {
  const { pg, copy: copyStreams } = await loadPg();
  const pool = new pg.Pool({
    host: o.host,
    port: o.port,
    database: o.database,
    user: o.user,
    password: o.password,
    ssl: o.ssl === false ? false : { ...o.ssl },
    max: o.max,
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    application_name: o.applicationName,
    keepAlive: true,
  });
  pool.on('error', (e) => o.onIdleError?.(e as Error & { code?: string }));
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, [...params])).rows as R[];
    },
    async copyOut(select: string) {
      const client = await pool.connect();
      const copy = client.query(copyStreams.to(`COPY (${select}) TO STDOUT (FORMAT csv)`));
      let released = false;
      const release = (err?: Error) => {
        if (!released) {
          released = true;
          client.release(err);
        }
      };
      copy.on('end', () => release());
      copy.on('error', (e) => release(e));
      copy.on('close', () => release());
      return untilCounted(copy);
    },
    async end() {
      await pool.end();
    },
  };
}

/**
 * pg-copy-streams ends its stream at CopyDone, but the server's row count (CommandComplete) may
 * come in a later packet. The stream handed out ends only once both have arrived, so its
 * `rowCount` is always set at 'end': the validation gate compares it with the rows written.
 */
function untilCounted(copy: CopyToStreamQuery): CopyOutStream {
  const out: PassThrough & { rowCount?: number } = new PassThrough();
  let copied = false;
  let counted = false;
  const finish = () => {
    if (copied && counted) {
      out.rowCount = copy.rowCount;
      out.end();
    }
  };
  const handle = (copy as unknown as { handleCommandComplete(msg: unknown): void }).handleCommandComplete.bind(copy);
  (copy as unknown as { handleCommandComplete(msg: unknown): void }).handleCommandComplete = (msg) => {
    handle(msg);
    counted = true;
    finish();
  };
  copy.pipe(out, { end: false });
  copy.on('end', () => {
    copied = true;
    finish();
  });
  copy.on('error', (e) => out.destroy(e));
  out.on('close', () => {
    // Abandoned mid-transfer: fail the copy so its connection is discarded, not pooled mid-COPY.
    if (!copied) copy.destroy(new Error('the COPY was abandoned before it ended'));
  });
  return out;
}
