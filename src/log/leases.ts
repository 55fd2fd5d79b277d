/**
 * Leases: exclusivity by event. A writer appends LeaseAcquired inside a transaction that first reads
 * the lease projection, so two contenders can never both win (SQLite serializes BEGIN IMMEDIATE).
 * Each grant gets a strictly increasing epoch, the fencing token every write event carries.
 *
 * Scopes: `dataset:<name>` for work on one dataset (sync, ingest) and `warehouse` for work that
 * touches everything (gc, restore). A warehouse lease conflicts with every dataset lease, and a
 * dataset lease with the warehouse lease and with the same dataset only.
 */
import { LeaseHeldError, LeaseLostError, WarehouseError } from './errors.js';
import type { EventDraft, LeaseRef, StoredEvent } from './events.js';
import type { EventLog, TxContext } from './event-log.js';
import { leaseProjection, type LeaseState } from './lease-projection.js';
import { processLiveness } from './process-identity.js';

/** Default lease lifetime: 4 hours, renewed while the holder works. */
export const DEFAULT_LEASE_TTL_MS = 4 * 60 * 60 * 1000;

/** A lease this process holds. */
export interface Lease extends LeaseRef {
  readonly expiresAt: string;
}

export interface AcquireOptions {
  readonly ttlMs?: number;
  readonly purpose?: string;
}

/** Why a held lease may be taken over, or null when its holder is live. */
export function staleReason(lease: LeaseState, now: number, thisHost: string): string | null {
  if (Date.parse(lease.expiresAt) <= now) return `expired at ${lease.expiresAt}`;
  if (lease.holder.host !== thisHost) return null;
  const liveness = processLiveness(lease.holder.pid, lease.holder.startTime);
  if (liveness === 'dead') return `holder pid ${lease.holder.pid} on ${thisHost} is dead`;
  if (liveness === 'reused') return `pid ${lease.holder.pid} now belongs to another process (pid reused)`;
  return null;
}

export function holderInfo(l: LeaseState) {
  return {
    scope: l.scope,
    epoch: l.epoch,
    host: l.holder.host,
    pid: l.holder.pid,
    writerId: l.holder.writerId,
    since: l.since,
    expiresAt: l.expiresAt,
  };
}

function conflicting(tx: TxContext, scope: string): LeaseState[] {
  const rows = tx.table(leaseProjection).at();
  return rows
    .map((r) => r.value)
    .filter((l) => scope === 'warehouse' || l.scope === 'warehouse' || l.scope === scope);
}

/** One more than the newest epoch granted (epochs rise with seq): an index lookup, not a scan. */
function nextEpoch(log: EventLog): number {
  const r = log.db
    .prepare(`SELECT CAST(json_extract(data, '$.epoch') AS INTEGER) AS m FROM events WHERE type = 'LeaseAcquired' ORDER BY seq DESC LIMIT 1`)
    .get<{ m: number | null }>();
  return (r?.m ?? 0) + 1;
}

export function validateScope(scope: string): void {
  if (scope !== 'warehouse' && !/^dataset:[a-z][a-z0-9_]{0,63}$/.test(scope)) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${scope}" is not a lease scope`, {
      suggestion: 'use `warehouse` or `dataset:<name>` (lowercase letters, digits, _)',
    });
  }
}

/**
 * Acquire the lease on `scope`. Stale leases in the way (expired, or held on this host by a dead or
 * reused pid) are broken in the same transaction (LeaseBroken + LeaseAcquired), so exactly one
 * contender wins a recovery.
 * @throws LeaseHeldError when a live writer holds a conflicting lease.
 */
export function acquireLease(log: EventLog, scope: string, options: AcquireOptions = {}): Lease {
  validateScope(scope);
  const ttl = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const me = log.processIdentity;
  return log.transaction((tx) => {
    const drafts: EventDraft[] = [];
    for (const held of conflicting(tx, scope)) {
      const why = staleReason(held, tx.now, me.host);
      if (why === null) throw new LeaseHeldError(holderInfo(held));
      drafts.push({
        type: 'LeaseBroken',
        data: { scope: held.scope, epoch: held.epoch, reason: `stale: ${why}`, previousHolder: held.holder },
      });
    }
    const epoch = nextEpoch(log);
    const expiresAt = new Date(tx.now + ttl).toISOString();
    drafts.push({
      type: 'LeaseAcquired',
      data: { scope, epoch, holder: { ...me }, expiresAt, purpose: options.purpose ?? 'write' },
    });
    tx.append(drafts);
    return { scope, epoch, expiresAt };
  });
}

/**
 * Extend a lease this process holds.
 * @throws LeaseLostError if it was broken, released or has expired.
 */
export function renewLease(log: EventLog, lease: LeaseRef, ttlMs: number = DEFAULT_LEASE_TTL_MS): Lease {
  return log.transaction((tx) => {
    const live = tx.table(leaseProjection).current(lease.scope)?.value;
    if (live === undefined || live.epoch !== lease.epoch) {
      throw new LeaseLostError(lease.scope, lease.epoch, 'it was broken or released');
    }
    if (Date.parse(live.expiresAt) <= tx.now) throw new LeaseLostError(lease.scope, lease.epoch, `expired at ${live.expiresAt}`);
    const expiresAt = new Date(tx.now + ttlMs).toISOString();
    tx.append([{ type: 'LeaseRenewed', data: { scope: lease.scope, epoch: lease.epoch, expiresAt } }]);
    return { scope: lease.scope, epoch: lease.epoch, expiresAt };
  });
}

/** Release a lease; a no-op (returns false) if it is no longer ours. */
export function releaseLease(log: EventLog, lease: LeaseRef): boolean {
  return log.transaction((tx) => {
    const live = tx.table(leaseProjection).current(lease.scope)?.value;
    if (live === undefined || live.epoch !== lease.epoch) return false;
    tx.append([{ type: 'LeaseReleased', data: { scope: lease.scope, epoch: lease.epoch } }]);
    return true;
  });
}

/**
 * Operator override: break whatever lease holds `scope`, recording the reason.
 * @throws WarehouseError `LEASE_NOT_FOUND` if no lease is held there.
 */
export function breakLease(log: EventLog, scope: string, reason: string): LeaseState {
  validateScope(scope);
  if (reason.trim() === '') {
    throw new WarehouseError('INVALID_ARGUMENT', 'breaking a lease needs a reason', { suggestion: 'pass --reason "why"' });
  }
  return log.transaction((tx) => {
    const live = tx.table(leaseProjection).current(scope)?.value;
    if (live === undefined) {
      throw new WarehouseError('LEASE_NOT_FOUND', `no lease is held on "${scope}"`, { suggestion: 'see `wh status` for the leases held' });
    }
    tx.append([{ type: 'LeaseBroken', data: { scope, epoch: live.epoch, reason: `operator: ${reason}`, previousHolder: live.holder } }]);
    return live;
  });
}

/** Current leases (what `wh status` shows). */
export function currentLeases(log: EventLog): LeaseState[] {
  return log.table(leaseProjection).at().map((r) => r.value);
}

/**
 * Hold a lease for the duration of `fn`: acquire, renew every ttl/3 while `fn` runs, release after.
 * `fn` receives the lease to pass as fencing token to its appends.
 */
export async function withLease<T>(
  log: EventLog,
  scope: string,
  options: AcquireOptions,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  const lease = acquireLease(log, scope, options);
  const ttl = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const timer = setInterval(() => {
    try {
      renewLease(log, lease, ttl);
    } catch {
      // Lost: the next fenced append will fail with LeaseLostError and stop the work.
    }
  }, Math.max(1000, Math.floor(ttl / 3)));
  timer.unref();
  try {
    return await fn(lease);
  } finally {
    clearInterval(timer);
    try {
      releaseLease(log, lease);
    } catch {
      // The log may be unwritable (disk full); the lease then expires on its own.
    }
  }
}

/**
 * The stale leases broken by the acquisition of `lease` (the LeaseBroken events committed with
 * its LeaseAcquired), for alerting.
 */
export function staleLeasesBrokenBy(log: EventLog, lease: LeaseRef): StoredEvent[] {
  // The LeaseAcquired is the lease row's acquiredSeq; the stale breaks are the events just before it.
  const row = log.table(leaseProjection).current(lease.scope)?.value;
  const acquiredSeq = row !== undefined && row.epoch === lease.epoch ? row.acquiredSeq : findAcquired(log, lease);
  if (acquiredSeq === undefined) return [];
  const out: StoredEvent[] = [];
  for (let seq = acquiredSeq - 1; seq >= 1; seq--) {
    const e = log.read({ fromSeq: seq, toSeq: seq })[0];
    if (e === undefined || e.type !== 'LeaseBroken' || !e.data.reason.startsWith('stale')) break;
    out.push(e);
  }
  return out;
}

/** The seq of the LeaseAcquired of a lease no longer current (released since): one indexed query. */
function findAcquired(log: EventLog, lease: LeaseRef): number | undefined {
  return log.leaseAcquiredSeq(lease.scope, lease.epoch);
}
