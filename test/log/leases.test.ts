import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  EventLog,
  LeaseHeldError,
  WarehouseError,
  acquireLease,
  breakLease,
  currentLeases,
  isLeaseHeldError,
  isLeaseLostError,
  processLiveness,
  processStartIdentity,
  releaseLease,
  renewLease,
  withLease,
  type AppendGuard,
  type EventDraft,
  type LeaseRef,
  type ProcessIdentity,
  type TxContext,
} from '../../src/log/index.js';
import {
  createManualClock,
  foreignIdentity,
  liveLocalIdentity,
  makeTempDir,
  reusedPidIdentity,
  type ManualClock,
} from '../support/arbitraries.js';

const T0 = Date.UTC(2024, 5, 1, 9, 0, 0);
const HOUR = 3_600_000;

const removed = (dataset: string): EventDraft => ({ type: 'PartitionRemoved', data: { dataset, partition: 'p1', reason: 'test' } });
const collected: EventDraft = { type: 'ObjectsCollected', data: { objects: [], bytes: 0, temporaries: 0 } };

let tmp: ReturnType<typeof makeTempDir>;
let path: string;
let clock: ManualClock;
const opened: EventLog[] = [];
/** Transactions seen by the recording guard, per event type (to prove events share one commit). */
let txOf: Map<string, TxContext[]>;

/** A connection to the shared log as writer `identity` (same clock for every writer). */
function writer(identity: ProcessIdentity): EventLog {
  const recordTx: AppendGuard = (draft, tx) => {
    const list = txOf.get(draft.type) ?? [];
    list.push(tx);
    txOf.set(draft.type, list);
  };
  const log = EventLog.open(path, { create: true, clock, identity, guards: [recordTx] });
  opened.push(log);
  return log;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

let a: EventLog;
let b: EventLog;

beforeEach(() => {
  tmp = makeTempDir('wh-lease-');
  path = join(tmp.dir, 'wh.log');
  clock = createManualClock(T0);
  txOf = new Map();
  a = writer(liveLocalIdentity('writer-a'));
  b = writer(liveLocalIdentity('writer-b'));
});
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  tmp.dispose();
});

describe('acquire, renew, release, break', () => {
  it('acquire appends LeaseAcquired with holder, epoch and expiry, and the lease is current', () => {
    const lease = acquireLease(a, 'dataset:prices', { ttlMs: HOUR, purpose: 'sync' });
    expect(lease).toEqual({ scope: 'dataset:prices', epoch: 1, expiresAt: new Date(T0 + HOUR).toISOString() });
    const [e] = a.read();
    expect(e).toMatchObject({
      type: 'LeaseAcquired',
      data: { scope: 'dataset:prices', epoch: 1, holder: a.processIdentity, expiresAt: lease.expiresAt, purpose: 'sync' },
    });
    expect(currentLeases(b)).toEqual([
      expect.objectContaining({ scope: 'dataset:prices', epoch: 1, holder: a.processIdentity, since: new Date(T0).toISOString(), acquiredSeq: 1 }),
    ]);
  });

  it('renew extends the expiry and keeps epoch and since', () => {
    const lease = acquireLease(a, 'warehouse', { ttlMs: HOUR });
    clock.advance(HOUR / 2);
    const renewed = renewLease(a, lease, HOUR);
    expect(renewed).toEqual({ scope: 'warehouse', epoch: lease.epoch, expiresAt: new Date(T0 + HOUR / 2 + HOUR).toISOString() });
    expect(currentLeases(a)).toEqual([expect.objectContaining({ epoch: lease.epoch, expiresAt: renewed.expiresAt, since: new Date(T0).toISOString() })]);
    // Past the original expiry, the renewed lease still writes.
    clock.advance(HOUR - 1);
    expect(a.append([collected], lease)).toHaveLength(1);
  });

  it('renew refuses a released, broken or expired lease', () => {
    const l1 = acquireLease(a, 'dataset:x', { ttlMs: HOUR });
    releaseLease(a, l1);
    expect(isLeaseLostError(thrown(() => renewLease(a, l1)))).toBe(true);
    const l2 = acquireLease(a, 'dataset:x', { ttlMs: HOUR });
    breakLease(b, 'dataset:x', 'stuck');
    expect(isLeaseLostError(thrown(() => renewLease(a, l2)))).toBe(true);
    const l3 = acquireLease(a, 'dataset:x', { ttlMs: HOUR });
    clock.advance(HOUR);
    const err = thrown(() => renewLease(a, l3));
    expect(isLeaseLostError(err)).toBe(true);
    expect((err as Error).message).toMatch(/expired/);
  });

  it('release closes the lease once; a second release is a no-op', () => {
    const lease = acquireLease(a, 'dataset:x');
    expect(releaseLease(a, lease)).toBe(true);
    expect(currentLeases(a)).toEqual([]);
    const head = a.head().seq;
    expect(releaseLease(a, lease)).toBe(false);
    expect(a.head().seq).toBe(head);
    // Someone else can take it now.
    expect(acquireLease(b, 'dataset:x').epoch).toBe(2);
  });

  it('break closes whatever holds the scope and records the operator reason and previous holder', () => {
    acquireLease(a, 'dataset:x');
    const broken = breakLease(b, 'dataset:x', 'host died');
    expect(broken).toMatchObject({ scope: 'dataset:x', epoch: 1, holder: a.processIdentity });
    expect(b.read({ types: ['LeaseBroken'] })[0]!.data).toEqual({
      scope: 'dataset:x',
      epoch: 1,
      reason: 'operator: host died',
      previousHolder: a.processIdentity,
    });
    expect(currentLeases(a)).toEqual([]);
  });

  it('break refuses an unheld scope (LEASE_NOT_FOUND), an empty reason and an invalid scope', () => {
    expect((thrown(() => breakLease(a, 'dataset:x', 'why')) as WarehouseError).code).toBe('LEASE_NOT_FOUND');
    acquireLease(a, 'dataset:x');
    expect((thrown(() => breakLease(a, 'dataset:x', '  ')) as WarehouseError).code).toBe('INVALID_ARGUMENT');
    expect((thrown(() => breakLease(a, '../x', 'why')) as WarehouseError).code).toBe('INVALID_ARGUMENT');
    expect(currentLeases(a)).toHaveLength(1);
  });

  it('withLease holds the lease while fn runs and releases it after, also when fn throws', async () => {
    const seen = await withLease(a, 'dataset:x', { ttlMs: HOUR }, async (lease) => {
      expect(currentLeases(b).map((l) => l.epoch)).toEqual([lease.epoch]);
      a.append([removed('x')], lease);
      return lease.epoch;
    });
    expect(seen).toBe(1);
    expect(currentLeases(a)).toEqual([]);
    await expect(
      withLease(a, 'dataset:x', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(currentLeases(a)).toEqual([]);
    expect(a.read({ types: ['LeaseReleased'] })).toHaveLength(2);
  });
});

describe('conflicts', () => {
  it('LeaseHeldError names the holder, since and expiry', () => {
    acquireLease(a, 'dataset:prices', { ttlMs: HOUR, purpose: 'sync' });
    clock.advance(60_000);
    const err = thrown(() => acquireLease(b, 'dataset:prices'));
    expect(isLeaseHeldError(err)).toBe(true);
    const held = err as LeaseHeldError;
    expect(held.code).toBe('LEASE_HELD');
    expect(held.holder).toEqual({
      scope: 'dataset:prices',
      epoch: 1,
      host: hostname(),
      pid: process.pid,
      writerId: 'writer-a',
      since: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + HOUR).toISOString(),
    });
    expect(held.message).toContain('writer-a');
    expect(held.message).toContain(`pid ${process.pid}`);
    expect(held.message).toContain(new Date(T0).toISOString());
    expect(held.suggestion).toContain('wh lease break dataset:prices');
  });

  it.each([
    ['dataset:x', 'dataset:x', true],
    ['dataset:x', 'dataset:y', false],
    ['dataset:x', 'warehouse', true],
    ['warehouse', 'dataset:x', true],
    ['warehouse', 'warehouse', true],
  ])('held %s vs wanted %s: conflict = %s', (held, wanted, conflict) => {
    const first = acquireLease(a, held);
    const head = a.head().seq;
    if (conflict) {
      const err = thrown(() => acquireLease(b, wanted));
      expect(isLeaseHeldError(err)).toBe(true);
      expect((err as LeaseHeldError).holder.epoch).toBe(first.epoch);
      expect(b.head().seq).toBe(head);
    } else {
      expect(acquireLease(b, wanted).epoch).toBe(first.epoch + 1);
      expect(currentLeases(a).map((l) => l.scope).sort()).toEqual([held, wanted].sort());
    }
  });

  it('the same writer cannot take a scope it already holds', () => {
    acquireLease(a, 'dataset:x');
    expect(isLeaseHeldError(thrown(() => acquireLease(a, 'dataset:x')))).toBe(true);
  });

  it('refuses invalid scopes', () => {
    for (const scope of ['', 'dataset:', 'dataset:Prices', 'datasets:x', 'dataset:../x', 'Warehouse', 'dataset:x/y']) {
      const err = thrown(() => acquireLease(a, scope));
      expect((err as WarehouseError).code, scope).toBe('INVALID_ARGUMENT');
    }
    expect(a.head().seq).toBe(0);
  });
});

describe('stale recovery', () => {
  /** Acquire as `holder`, then have `b` acquire: expect a LeaseBroken + LeaseAcquired pair in one commit. */
  function expectTakeover(holderLog: EventLog, old: LeaseRef, reason: RegExp): void {
    const head = b.head().seq;
    txOf.clear();
    const lease = acquireLease(b, 'dataset:x', { ttlMs: HOUR });
    const added = b.read({ fromSeq: head + 1 });
    expect(added.map((e) => e.type)).toEqual(['LeaseBroken', 'LeaseAcquired']);
    expect(added[0]!.data).toMatchObject({ scope: 'dataset:x', epoch: old.epoch, previousHolder: holderLog.processIdentity });
    expect((added[0]!.data as { reason: string }).reason).toMatch(reason);
    expect(txOf.get('LeaseBroken')).toHaveLength(1);
    expect(txOf.get('LeaseBroken')![0]).toBe(txOf.get('LeaseAcquired')![0]);
    expect(lease.epoch).toBe(old.epoch + 1);
    expect(currentLeases(b).filter((l) => l.scope === 'dataset:x')).toEqual([expect.objectContaining({ epoch: lease.epoch, holder: b.processIdentity })]);
  }

  it('takes over an expired lease (even one on another host)', () => {
    const foreign = writer(foreignIdentity('far-away'));
    acquireLease(foreign, 'dataset:y', { ttlMs: HOUR });
    clock.advance(HOUR - 1);
    expect(isLeaseHeldError(thrown(() => acquireLease(b, 'dataset:y')))).toBe(true);
    clock.advance(1);
    const head = b.head().seq;
    acquireLease(b, 'dataset:y');
    expect(b.read({ fromSeq: head + 1 }).map((e) => e.type)).toEqual(['LeaseBroken', 'LeaseAcquired']);
    const old = acquireLease(foreign, 'dataset:x', { ttlMs: HOUR });
    clock.advance(HOUR);
    expectTakeover(foreign, old, /^stale: expired at /);
  });

  it('takes over a lease whose holder pid on this host is dead', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(child, 'spawn');
    const pid = child.pid!;
    const startTime = processStartIdentity(pid);
    expect(processLiveness(pid, startTime)).toBe('alive');
    const dead = writer({ host: hostname(), pid, writerId: 'child', startTime });
    // While the child lives, its lease holds.
    const old = acquireLease(dead, 'dataset:x', { ttlMs: HOUR });
    expect(isLeaseHeldError(thrown(() => acquireLease(b, 'dataset:x')))).toBe(true);
    child.stdin!.end();
    await once(child, 'exit');
    expect(processLiveness(pid, startTime)).toBe('dead');
    expectTakeover(dead, old, new RegExp(`^stale: holder pid ${pid} on .* is dead$`));
  });

  it('takes over a lease whose pid was reused by another process', () => {
    const ghost = writer(reusedPidIdentity('ghost'));
    expectTakeover(ghost, acquireLease(ghost, 'dataset:x', { ttlMs: HOUR }), /^stale: pid \d+ now belongs to another process \(pid reused\)$/);
  });

  it('does not take over a live, unexpired lease on another host', () => {
    acquireLease(writer(foreignIdentity('far-away')), 'dataset:x', { ttlMs: HOUR });
    const err = thrown(() => acquireLease(b, 'dataset:x'));
    expect(isLeaseHeldError(err)).toBe(true);
    expect((err as LeaseHeldError).holder.host).toBe('other-host.example');
  });

  it('breaks every stale lease in the way of a warehouse lease, in the same commit', () => {
    const ghost = writer(reusedPidIdentity('ghost'));
    acquireLease(ghost, 'dataset:p');
    acquireLease(ghost, 'dataset:q');
    const head = b.head().seq;
    const lease = acquireLease(b, 'warehouse');
    expect(b.read({ fromSeq: head + 1 }).map((e) => [e.type, (e.data as { scope: string }).scope])).toEqual([
      ['LeaseBroken', 'dataset:p'],
      ['LeaseBroken', 'dataset:q'],
      ['LeaseAcquired', 'warehouse'],
    ]);
    expect(lease.epoch).toBe(3);
  });

  it('a stale lease and a live one in the way: nothing is broken, LeaseHeldError', () => {
    acquireLease(writer(reusedPidIdentity('ghost')), 'dataset:p');
    acquireLease(a, 'dataset:q');
    const head = b.head().seq;
    const err = thrown(() => acquireLease(b, 'warehouse'));
    expect((err as LeaseHeldError).holder.writerId).toBe('writer-a');
    expect(b.head().seq).toBe(head);
    expect(currentLeases(b)).toHaveLength(2);
  });
});

describe('epochs and fencing', () => {
  it('epochs strictly increase across acquire, release, break and takeover', () => {
    const epochs: number[] = [];
    const l1 = acquireLease(a, 'dataset:x');
    epochs.push(l1.epoch);
    releaseLease(a, l1);
    epochs.push(acquireLease(b, 'dataset:y').epoch);
    epochs.push(acquireLease(a, 'dataset:x').epoch);
    breakLease(b, 'dataset:x', 'test');
    epochs.push(acquireLease(b, 'dataset:x', { ttlMs: 1000 }).epoch);
    clock.advance(1000);
    epochs.push(acquireLease(a, 'dataset:x').epoch);
    // Rebuilding the projections does not reset the counter.
    a.rebuildProjections();
    releaseLease(a, { scope: 'dataset:x', epoch: epochs[4]! });
    epochs.push(acquireLease(a, 'dataset:x').epoch);
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
    const acquired = a.read({ types: ['LeaseAcquired'] }).map((e) => (e.data as { epoch: number }).epoch);
    expect(acquired).toEqual(epochs);
  });

  it('a write with an old epoch after a break and takeover is refused, and nothing is written', () => {
    const old = acquireLease(a, 'dataset:x');
    a.append([removed('x')], old);
    breakLease(b, 'dataset:x', 'paused writer');
    const fresh = acquireLease(b, 'dataset:x');
    const head = a.head();
    const err = thrown(() => a.append([{ type: 'ChecksumVerified', data: { objects: 0, events: 0, headHash: 'b'.repeat(64) } }, removed('x')], old));
    expect(isLeaseLostError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`epoch ${fresh.epoch} now holds it`));
    expect(a.head()).toEqual(head);
    expect(b.append([removed('x')], fresh)[0]!.lease).toEqual({ scope: 'dataset:x', epoch: fresh.epoch });
  });

  it('a released lease cannot write', () => {
    const lease = acquireLease(a, 'dataset:x');
    releaseLease(a, lease);
    expect(isLeaseLostError(thrown(() => a.append([removed('x')], lease)))).toBe(true);
  });

  it('an expired lease cannot write, even before anyone takes it over', () => {
    const lease = acquireLease(a, 'dataset:x', { ttlMs: 1000 });
    clock.advance(999);
    a.append([removed('x')], lease);
    clock.advance(1);
    const head = a.head().seq;
    const err = thrown(() => a.append([removed('x')], lease));
    expect(isLeaseLostError(err)).toBe(true);
    expect((err as Error).message).toMatch(/expired at/);
    expect(a.head().seq).toBe(head);
  });

  it('a lease covers its own dataset only; the warehouse lease covers every dataset', () => {
    const x = acquireLease(a, 'dataset:x');
    expect((thrown(() => a.append([removed('y')], x)) as Error).message).toMatch(/does not cover dataset:y/);
    expect(isLeaseLostError(thrown(() => a.append([collected], x)))).toBe(true);
    releaseLease(a, x);
    const w = acquireLease(a, 'warehouse');
    a.append([removed('x'), removed('y'), collected], w);
    expect(a.read({ fromSeq: a.head().seq - 2 }).map((e) => e.lease)).toEqual(Array(3).fill({ scope: 'warehouse', epoch: w.epoch }));
  });

  it('lease events naming an old epoch do not touch the live lease (projection)', () => {
    const old = acquireLease(a, 'dataset:x', { ttlMs: HOUR });
    breakLease(b, 'dataset:x', 'takeover');
    const live = acquireLease(b, 'dataset:x', { ttlMs: HOUR });
    // Late events from the old holder, appended as they would be by a stale writer.
    a.append([
      { type: 'LeaseRenewed', data: { scope: 'dataset:x', epoch: old.epoch, expiresAt: new Date(T0 + 99 * HOUR).toISOString() } },
      { type: 'LeaseReleased', data: { scope: 'dataset:x', epoch: old.epoch } },
      { type: 'LeaseBroken', data: { scope: 'dataset:x', epoch: old.epoch, reason: 'late', previousHolder: a.processIdentity } },
    ]);
    expect(currentLeases(a)).toEqual([expect.objectContaining({ scope: 'dataset:x', epoch: live.epoch, expiresAt: live.expiresAt })]);
    expect(b.append([removed('x')], live)).toHaveLength(1);
    expect(a.rebuildProjections().every((p) => p.equal)).toBe(true);
  });

  it('a forged token (right scope, a never-granted epoch) is refused', () => {
    acquireLease(a, 'dataset:x');
    const forged: LeaseRef = { scope: 'dataset:x', epoch: 99 };
    expect(isLeaseLostError(thrown(() => b.append([removed('x')], forged)))).toBe(true);
  });
});
