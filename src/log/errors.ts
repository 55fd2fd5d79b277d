/**
 * The one error type of wh. Every error carries a machine-readable `code`, a human `message`
 * naming the problem, and a `suggestion` naming the fix; the CLI prints both and maps the code
 * to an exit status.
 */
export const errorCodes = [
  'NOT_A_WAREHOUSE',
  'ALREADY_A_WAREHOUSE',
  'LEASE_HELD',
  'LEASE_LOST',
  'LEASE_NOT_FOUND',
  'VALIDATION_FAILED',
  'VERIFICATION_FAILED',
  'INVALID_ARGUMENT',
  'UNKNOWN_DATASET',
  'UNKNOWN_TAG',
  'TAG_EXISTS',
  'LOG_CORRUPT',
  'EVENT_INVALID',
  'DISK_FULL',
  'DISK_WATERMARK_BLOCKED',
  'OBJECT_MISSING',
  'OBJECT_DAMAGED',
  'QUERY_REFUSED',
  'QUERY_FAILED',
  'SOURCE_UNAVAILABLE',
  'AUTH_FAILED',
  'SCHEMA_DRIFT',
  'IO_ERROR',
  'CALENDAR_RANGE',
  'CALENDAR_INVALID_DATE',
  'CALENDAR_INVALID_RANGE',
  'CALENDAR_NOT_A_SESSION',
  'INTERNAL',
  'DATA_COLLECTED',
  'BACKUP_FAILED',
  'BACKUP_KEY',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface WarehouseErrorOptions {
  readonly suggestion?: string;
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

/** Base error: `code` for programs, `message` + `suggestion` for people. */
export class WarehouseError extends Error {
  readonly code: ErrorCode;
  readonly suggestion: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: WarehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WarehouseError';
    this.code = code;
    this.suggestion = options.suggestion;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, suggestion: this.suggestion, details: this.details };
  }
}

/** Who holds a lease, as shown to a contender that lost. */
export interface LeaseHolderInfo {
  readonly scope: string;
  readonly epoch: number;
  readonly host: string;
  readonly pid: number;
  readonly writerId: string;
  readonly since: string;
  readonly expiresAt: string;
}

/** Thrown when another live writer holds the lease a caller asked for. */
export class LeaseHeldError extends WarehouseError {
  readonly holder: LeaseHolderInfo;
  constructor(holder: LeaseHolderInfo) {
    super(
      'LEASE_HELD',
      `lease "${holder.scope}" is held by writer ${holder.writerId} (pid ${holder.pid} on ${holder.host}, epoch ${holder.epoch}) since ${holder.since}, expiring ${holder.expiresAt}`,
      {
        suggestion:
          'wait for that writer to finish; if it is dead on another host, run `wh lease break ' +
          holder.scope +
          ' --reason "..."` (see docs/runbooks/lease-recovery.md)',
        details: { holder },
      },
    );
    this.name = 'LeaseHeldError';
    this.holder = holder;
  }
}

/** Thrown when a write carries a lease epoch that is no longer the live lease (fenced out). */
export class LeaseLostError extends WarehouseError {
  constructor(scope: string, epoch: number, reason: string) {
    super('LEASE_LOST', `write refused: lease "${scope}" epoch ${epoch} is no longer live (${reason})`, {
      suggestion: 'another writer took over or the lease expired; rerun the command to acquire a fresh lease',
      details: { scope, epoch, reason },
    });
    this.name = 'LeaseLostError';
  }
}

/** Thrown when input data or an event fails validation. */
export class ValidationError extends WarehouseError {
  constructor(message: string, options: WarehouseErrorOptions = {}) {
    super('VALIDATION_FAILED', message, options);
    this.name = 'ValidationError';
  }
}

/** Thrown when a data source cannot be reached. */
export class SourceUnavailableError extends WarehouseError {
  constructor(message: string, options: WarehouseErrorOptions = {}) {
    super('SOURCE_UNAVAILABLE', message, options);
    this.name = 'SourceUnavailableError';
  }
}

export const isWarehouseError = (e: unknown): e is WarehouseError => e instanceof WarehouseError;
export const isLeaseHeldError = (e: unknown): e is LeaseHeldError => e instanceof LeaseHeldError;
export const isLeaseLostError = (e: unknown): e is LeaseLostError => e instanceof LeaseLostError;
export const isValidationError = (e: unknown): e is ValidationError => e instanceof ValidationError;
export const isSourceUnavailableError = (e: unknown): e is SourceUnavailableError =>
  e instanceof SourceUnavailableError;
