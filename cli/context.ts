/**
 * What every command shares: resolving the warehouse directory (flag > WH_WAREHOUSE > cwd), the
 * logger, rendering (human or --json), and mapping errors to exit codes. Only cli/ reads
 * process.env or sets the exit code.
 */
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Command } from 'commander';
import type { z } from 'zod';
import { WarehouseError, isWarehouseError, type ErrorCode, type EventLog } from '../src/log/index.js';
import { diskFullError, isNoSpace, openWarehouseLog, recordAnchor } from '../src/store/index.js';

/** Exit codes, documented in docs/reference/exit-codes.md. */
export const EXIT = { ok: 0, error: 1, leaseHeld: 2, validation: 3 } as const;

export function exitCodeFor(code: ErrorCode | undefined): number {
  switch (code) {
    case 'LEASE_HELD':
      return EXIT.leaseHeld;
    case 'VALIDATION_FAILED':
    case 'VERIFICATION_FAILED':
    case 'SCHEMA_DRIFT':
    case 'LOG_CORRUPT':
      return EXIT.validation;
    default:
      return EXIT.error;
  }
}

export { whVersion } from './version.js';
import { whVersion } from './version.js';

export interface GlobalOptions {
  readonly warehouse: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
}

/** The global flags as commander hands them over (checked by hand: zod loads only with a command's own schema). */
function globalFlags(cmd: Command): { warehouse?: string; json?: boolean; verbose?: boolean; quiet?: boolean } {
  const raw = cmd.optsWithGlobals() as Record<string, unknown>;
  const w = raw['warehouse'];
  if (w !== undefined && (typeof w !== 'string' || w === '')) {
    throw new WarehouseError('INVALID_ARGUMENT', 'invalid option warehouse: expected a directory', { suggestion: 'pass --warehouse <dir>' });
  }
  const flag = (k: string): boolean | undefined => (raw[k] === undefined ? undefined : raw[k] === true);
  return { warehouse: w as string | undefined, json: flag('json'), verbose: flag('verbose'), quiet: flag('quiet') };
}

/** Resolve global options once: --warehouse, else WH_WAREHOUSE, else the current directory. */
export function globals(cmd: Command): GlobalOptions {
  const raw = globalFlags(cmd);
  return Object.freeze({
    warehouse: resolve(raw.warehouse ?? process.env['WH_WAREHOUSE'] ?? process.cwd()),
    json: raw.json ?? false,
    verbose: raw.verbose ?? false,
    quiet: raw.quiet ?? false,
  });
}

/** Structured logs go to stderr as JSON lines (pino); stdout is for results. */
export function makeLogger(g: GlobalOptions, options: { level?: string } = {}): Logger {
  const level = g.verbose ? 'debug' : (options.level ?? (g.quiet || g.json ? 'error' : 'warn'));
  // pino loads on first use (a command that never logs does not pay for it).
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  return pino({ level, base: { wh: whVersion() } }, pino.destination(2));
}

/** Parse a command's options with its zod schema; a failure is an INVALID_ARGUMENT error. */
export function parseOptions<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WarehouseError('INVALID_ARGUMENT', `invalid option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, {
      suggestion: 'see --help for the accepted values',
    });
  }
  return r.data;
}

export function openLog(g: GlobalOptions, options: { readonly?: boolean } = {}): EventLog {
  return openWarehouseLog(g.warehouse, { readonly: options.readonly ?? false });
}

/** Print a result: JSON when --json, else the human rendering. */
export function emit(g: GlobalOptions, value: unknown, human: () => string): void {
  if (g.json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else {
    const text = human();
    if (text !== '') process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}

export { table } from './render.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Terminal control bytes (ESC, BEL, C1, ...) in user-supplied names shown as \\xNN escapes, never raw. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Print an error (message + fix) and set the exit code. */
export function fail(error: unknown, json: boolean): void {
  // A full disk is never "unexpected": whichever layer met it (SQLite, DuckDB, a file write).
  const e = !isWarehouseError(error) && isNoSpace(error) ? diskFullError(error) : error;
  if (isWarehouseError(e)) {
    if (json) process.stderr.write(JSON.stringify({ error: e.toJSON() }) + '\n');
    else process.stderr.write(`wh: error: ${printable(e.message)}\n${e.suggestion !== undefined ? `  fix: ${printable(e.suggestion)}\n` : ''}`);
    process.exitCode = exitCodeFor(e.code);
    return;
  }
  const msg = (e as Error)?.message ?? String(e);
  if (json) process.stderr.write(JSON.stringify({ error: { code: 'INTERNAL', message: msg } }) + '\n');
  else process.stderr.write(`wh: unexpected error: ${printable(msg)}\n  fix: this is a bug; rerun with --verbose and report it\n${process.env['WH_DEBUG'] ? (e as Error)?.stack ?? '' : ''}`);
  process.exitCode = EXIT.error;
}

/** Wrap a command action: resolve globals, run, render errors. */
export function action<A extends unknown[]>(fn: (g: GlobalOptions, ...args: A) => Promise<void> | void) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    let g: GlobalOptions | undefined;
    try {
      g = globals(cmd);
      await fn(g, ...(args.slice(0, -1) as A));
    } catch (e) {
      fail(e, g?.json ?? false);
    }
  };
}

/** Run `fn` with the log open, closing it after. */
export async function withLog<T>(g: GlobalOptions, fn: (log: EventLog) => Promise<T> | T, options: { readonly?: boolean } = {}): Promise<T> {
  const log = openLog(g, options);
  const before = options.readonly === true ? undefined : log.head().seq;
  try {
    return await fn(log);
  } finally {
    // One anchor per write command, after its commits: the head, outside the log (src/store/anchor.ts).
    if (before !== undefined) {
      try {
        const head = log.head();
        if (head.seq > before) recordAnchor(g.warehouse, head);
      } catch (e) {
        process.stderr.write(`wh: warning: could not record the log's tail anchor: ${(e as Error).message}\n`);
      }
    }
    log.close();
  }
}
