/**
 * The WRDS client: a `pg` pool of at most 3 connections (WRDS logins cost a Duo push, so one
 * long-lived connection is reused), SSL required for any non-local host, `statement_timeout`, a
 * token-bucket rate limit, and reconnects with jittered exponential backoff on transient errors
 * (connection reset, admin shutdown 57P01, too many connections 53300, SSL EOF).
 * Bulk reads stream `COPY (SELECT ...) TO STDOUT` (CSV) so memory stays bounded.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { SourceUnavailableError, WarehouseError } from '../../log/index.js';
import { createPgPool } from '../../engine/index.js';
import type { Secret, WrdsSettings } from './credentials.js';
import type { SourceColumn } from './type-map.js';
import { TokenBucket } from '../rate-limit.js';

export interface WrdsClientOptions {
  readonly settings: WrdsSettings;
  readonly password: Secret;
  readonly statementTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Queries per minute (token bucket); default 600 (a COPY counts as one query). */
  readonly queriesPerMinute?: number;
  readonly maxRetries?: number;
  readonly retryBaseMs?: number;
  readonly logger?: Logger;
  /** Injectable for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The narrow interface the sync manager reads a source through. */
export interface SqlSource {
  columns(schema: string, table: string): Promise<SourceColumn[]>;
  comment(schema: string, table: string): Promise<string | null>;
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Stream `COPY (<select>) TO STDOUT (FORMAT csv)`; the stream errors if the server fails mid-way. */
  copyOut(select: string): Promise<Readable>;
  close(): Promise<void>;
}

const LOCAL = new Set(['localhost', '127.0.0.1', '::1']);
const TRANSIENT_CODES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

export function isTransient(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code !== undefined && TRANSIENT_CODES.has(err.code)) return true;
  return /Connection terminated|SSL SYSCALL error|EOF detected|server closed the connection|terminating connection/i.test(err?.message ?? '');
}

export function isAuthFailure(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === '28P01' || code === '28000';
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Open a client; the first connection is made (and the login checked) before returning. */
export async function connectWrds(options: WrdsClientOptions): Promise<SqlSource> {
  const s = options.settings;
  const local = LOCAL.has(s.host);
  if (!local && (s.sslmode === 'disable' || s.sslmode === 'prefer')) {
    throw new WarehouseError('INVALID_ARGUMENT', `sslmode=${s.sslmode} is refused for the remote host ${s.host}`, {
      suggestion: 'use sslmode require (the default) for any non-local server',
    });
  }
  const ssl = s.sslmode === 'disable' || (local && s.sslmode === 'prefer') ? false : { rejectUnauthorized: s.sslmode === 'verify-ca' || s.sslmode === 'verify-full' };
  const pool = await createPgPool({
    host: s.host,
    port: s.port,
    database: s.database,
    user: s.user,
    password: options.password.reveal(),
    ssl,
    max: 3,
    connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
    statementTimeoutMs: options.statementTimeoutMs ?? 6 * 60 * 60 * 1000,
    applicationName: 'wh',
    // A dropped idle connection must not crash the process; the next query reconnects.
    onIdleError: (e) => options.logger?.warn({ code: e.code }, 'idle WRDS connection dropped'),
  });
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const bucket = new TokenBucket(options.queriesPerMinute ?? 600, now, sleep);
  const maxRetries = options.maxRetries ?? 5;
  const base = options.retryBaseMs ?? 500;
  const where = `${s.user}@${s.host}:${s.port}/${s.database}`;

  const translate = (e: unknown): Error => {
    if (e instanceof WarehouseError) return e;
    const code = (e as { code?: string }).code;
    if (isAuthFailure(e)) {
      return new WarehouseError('AUTH_FAILED', `the server rejected the login of ${where} (${code})`, {
        suggestion: 'check the password in ~/.pgpass or PGPASSWORD (and that the WRDS account is active)',
      });
    }
    if (isTransient(e)) {
      return new SourceUnavailableError(`the source ${s.host}:${s.port} is unavailable (${code ?? (e as Error).message})`, {
        suggestion: 'check the network and the server; rerun later: the sync resumes where it stopped (committed partitions are kept)',
      });
    }
    if (code === '3D000') {
      // invalid_catalog_name: the database itself is missing, not a table of a dataset definition.
      return new SourceUnavailableError(`the source database "${s.database}" does not exist on ${s.host}:${s.port}`, {
        suggestion: 'check the database name (WRDS_DATABASE, or "database" in <warehouse>/wrds.json; on WRDS it is "wrds")',
        details: { code },
      });
    }
    return new SourceUnavailableError(`source query failed: ${(e as Error).message}`, { suggestion: 'check the dataset definition and the source table', details: { code } });
  };

  async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await bucket.take();
      try {
        return await fn();
      } catch (e) {
        if (!isTransient(e) || attempt >= maxRetries) throw translate(e);
        const delay = Math.round(base * 2 ** attempt * (0.5 + Math.random()));
        options.logger?.warn({ what, attempt: attempt + 1, delayMs: delay, code: (e as { code?: string }).code }, 'transient source error; retrying');
        await sleep(delay);
      }
    }
  }

  const source: SqlSource = {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return retrying('query', () => pool.query<R>(sql, params));
    },
    async columns(schema, table) {
      const rows = await source.query<{ column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null }>(
        `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, table],
      );
      return rows.map((r) => ({ name: r.column_name, dataType: r.data_type, precision: r.numeric_precision, scale: r.numeric_scale }));
    },
    async comment(schema, table) {
      const rows = await source.query<{ c: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS c`, [`${schema}.${table}`]);
      return rows[0]?.c ?? null;
    },
    async copyOut(select) {
      return retrying('copy', () => pool.copyOut(select));
    },
    async close() {
      await pool.end();
    },
  };
  // Check the login now, so a wrong password fails before any lease is taken.
  await source.query('SELECT 1');
  return source;
}
