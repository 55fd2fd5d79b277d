/**
 * Model-based tests of leases (fast-check `fc.commands` / `fc.modelRun`) against a real log file
 * shared by several simulated writers, and `fc.scheduler` races between contenders.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import {
  EventLog,
  WarehouseError,
  acquireLease,
  breakLease,
  currentLeases,
  isLeaseHeldError,
  isLeaseLostError,
  releaseLease,
  renewLease,
  processStartIdentity,
  type EventDraft,
  type Lease,
  type LeaseHeldError,
  type LeaseRef,
  type ProcessIdentity,
} from '../../src/log/index.js';
import {
  createManualClock,
  foreignIdentity,
  liveLocalIdentity,
  makeTempDir,
  reusedPidIdentity,
  type ManualClock,
} from '../support/arbitraries.js';

const T0 = Date.UTC(2024, 2, 1);
const SCOPES = ['dataset:a', 'dataset:b', 'warehouse'] as const;
type Scope = (typeof SCOPES)[number];

const conflicts = (x: string, y: string): boolean => x === 'warehouse' || y === 'warehouse' || x === y;

/**
 * The simulated writers. `reused` claims this process's pid with another start identity: a
 * contender on the same host sees its leases as stale; one on another host cannot tell.
 */
const WRITERS: readonly { identity: ProcessIdentity; reused: boolean }[] = [
  { identity: liveLocalIdentity('w0'), reused: false },
  { identity: liveLocalIdentity('w1'), reused: false },
  // On another host, live there: its own liveness checks (run here) must find its pid alive.
  { identity: { ...foreignIdentity('w2'), pid: process.pid, startTime: processStartIdentity(process.pid) }, reused: false },
  { identity: reusedPidIdentity('w3'), reused: true },
];

// ---------------------------------------------------------------------------------------------
// Model and real system

interface ModelLease {
  readonly scope: string;
  readonly epoch: number;
  readonly writer: number;
  expiresAt: number;
}
interface Model {
  now: number;
  maxEpoch: number;
  readonly leases: Map<string, ModelLease>;
  /** The last lease each writer was granted (kept after it is lost, to try stale tokens). */
  readonly tokens: (LeaseRef | null)[];
}
interface Real {
  readonly clock: ManualClock;
  readonly logs: readonly EventLog[];
}

const isLive = (m: Model, token: LeaseRef): boolean => {
  const l = m.leases.get(token.scope);
  return l !== undefined && l.epoch === token.epoch && l.expiresAt > m.now;
};

/** Is `held` stale in the eyes of writer `contender`? (expired, or a reused pid on the same host) */
const staleFor = (m: Model, held: ModelLease, contender: number): boolean =>
  held.expiresAt <= m.now ||
  (WRITERS[held.writer]!.identity.host === WRITERS[contender]!.identity.host && WRITERS[held.writer]!.reused);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Invariants checked after every command. */
function checkInvariants(m: Model, r: Real): void {
  const log = r.logs[0]!;
  const rows = currentLeases(log);
  // The real lease table is the model's.
  const real = rows.map((l) => ({ scope: l.scope, epoch: l.epoch, expiresAt: Date.parse(l.expiresAt), writerId: l.holder.writerId }));
  const model = [...m.leases.values()].map((l) => ({ scope: l.scope, epoch: l.epoch, expiresAt: l.expiresAt, writerId: WRITERS[l.writer]!.identity.writerId }));
  const byScope = (x: { scope: string }, y: { scope: string }) => (x.scope < y.scope ? -1 : 1);
  expect(real.sort(byScope)).toEqual(model.sort(byScope));
  // At most one lease (live or not yet broken) per conflicting scope.
  for (let i = 0; i < rows.length; i++)
    for (let j = i + 1; j < rows.length; j++) expect(conflicts(rows[i]!.scope, rows[j]!.scope), `${rows[i]!.scope} vs ${rows[j]!.scope}`).toBe(false);
  // Epochs strictly increase over every grant ever.
  const epochs = log.read({ types: ['LeaseAcquired'] }).map((e) => (e.data as { epoch: number }).epoch);
  for (let i = 1; i < epochs.length; i++) expect(epochs[i]!).toBeGreaterThan(epochs[i - 1]!);
  expect(epochs.length === 0 ? 0 : epochs[epochs.length - 1]).toBe(m.maxEpoch);
}

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.Command<Model, Real>;

class Acquire implements Cmd {
  constructor(
    readonly writer: number,
    readonly scope: Scope,
    readonly ttl: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const log = r.logs[this.writer]!;
    const head = log.head().seq;
    const inWay = [...m.leases.values()].filter((l) => conflicts(l.scope, this.scope)).sort((x, y) => (x.scope < y.scope ? -1 : 1));
    const blocker = inWay.find((l) => !staleFor(m, l, this.writer));
    let lease: Lease | undefined;
    const err = thrown(() => (lease = acquireLease(log, this.scope, { ttlMs: this.ttl })));
    if (blocker !== undefined) {
      expect(isLeaseHeldError(err), String(err)).toBe(true);
      expect((err as LeaseHeldError).holder).toMatchObject({ scope: blocker.scope, epoch: blocker.epoch, writerId: WRITERS[blocker.writer]!.identity.writerId });
      expect(log.head().seq).toBe(head);
    } else {
      expect(err).toBeUndefined();
      m.maxEpoch += 1;
      expect(lease).toEqual({ scope: this.scope, epoch: m.maxEpoch, expiresAt: new Date(m.now + this.ttl).toISOString() });
      const added = log.read({ fromSeq: head + 1 }).map((e) => e.type);
      expect(added).toEqual([...inWay.map(() => 'LeaseBroken'), 'LeaseAcquired']);
      for (const l of inWay) m.leases.delete(l.scope);
      m.leases.set(this.scope, { scope: this.scope, epoch: m.maxEpoch, writer: this.writer, expiresAt: m.now + this.ttl });
      m.tokens[this.writer] = { scope: this.scope, epoch: m.maxEpoch };
    }
    checkInvariants(m, r);
  }
  toString = () => `Acquire(w${this.writer}, ${this.scope}, ttl=${this.ttl})`;
}

class Renew implements Cmd {
  constructor(
    readonly writer: number,
    readonly ttl: number,
  ) {}
  check = (m: Readonly<Model>) => m.tokens[this.writer] !== null;
  run(m: Model, r: Real): void {
    const token = m.tokens[this.writer]!;
    const err = thrown(() => renewLease(r.logs[this.writer]!, token, this.ttl));
    if (isLive(m, token)) {
      expect(err).toBeUndefined();
      m.leases.get(token.scope)!.expiresAt = m.now + this.ttl;
    } else {
      expect(isLeaseLostError(err), String(err)).toBe(true);
    }
    checkInvariants(m, r);
  }
  toString = () => `Renew(w${this.writer}, ttl=${this.ttl})`;
}

class Release implements Cmd {
  constructor(readonly writer: number) {}
  check = (m: Readonly<Model>) => m.tokens[this.writer] !== null;
  run(m: Model, r: Real): void {
    const token = m.tokens[this.writer]!;
    const ours = m.leases.get(token.scope)?.epoch === token.epoch; // expired or not
    expect(releaseLease(r.logs[this.writer]!, token)).toBe(ours);
    if (ours) m.leases.delete(token.scope);
    checkInvariants(m, r);
  }
  toString = () => `Release(w${this.writer})`;
}

class Break implements Cmd {
  constructor(readonly scope: Scope) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const held = m.leases.get(this.scope);
    let out: unknown;
    const err = thrown(() => (out = breakLease(r.logs[0]!, this.scope, 'model test')));
    if (held === undefined) {
      expect((err as WarehouseError).code).toBe('LEASE_NOT_FOUND');
    } else {
      expect(err).toBeUndefined();
      expect(out).toMatchObject({ scope: this.scope, epoch: held.epoch });
      m.leases.delete(this.scope);
    }
    checkInvariants(m, r);
  }
  toString = () => `Break(${this.scope})`;
}

class AdvanceClock implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.clock.advance(this.ms);
    checkInvariants(m, r);
  }
  toString = () => `AdvanceClock(${this.ms})`;
}

/** Write under the writer's last token (or none): a dataset write, or a warehouse-wide one. */
class Write implements Cmd {
  constructor(readonly writer: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const log = r.logs[this.writer]!;
    const token = m.tokens[this.writer] ?? null;
    const draft: EventDraft =
      token === null || token.scope === 'warehouse'
        ? { type: 'ObjectsCollected', data: { objects: [], bytes: 0, temporaries: 0 } }
        : { type: 'PartitionRemoved', data: { dataset: token.scope.slice('dataset:'.length), partition: 'p', reason: 'model' } };
    const head = log.head().seq;
    const err = thrown(() => log.append([draft], token));
    if (token !== null && isLive(m, token)) {
      expect(err).toBeUndefined();
      expect(log.get(head + 1)!.lease).toEqual(token);
    } else {
      expect(isLeaseLostError(err), String(err)).toBe(true);
      expect(log.head().seq).toBe(head);
    }
    checkInvariants(m, r);
  }
  toString = () => `Write(w${this.writer})`;
}

const writerArb = fc.integer({ min: 0, max: WRITERS.length - 1 });
const scopeArb = fc.constantFrom(...SCOPES);
const ttlArb = fc.constantFrom(1_000, 5_000, 20_000);

const acquireArb = fc.tuple(writerArb, scopeArb, ttlArb).map(([w, s, t]) => new Acquire(w, s, t));
const writeArb = writerArb.map((w) => new Write(w));
/** Acquire and Write listed more than once: most runs should hold leases and write under them. */
const commandArbs = [
  acquireArb,
  acquireArb,
  acquireArb,
  writeArb,
  fc.tuple(writerArb, ttlArb).map(([w, t]) => new Renew(w, t)),
  writerArb.map((w) => new Release(w)),
  scopeArb.map((s) => new Break(s)),
  fc.constantFrom(1, 999, 1_000, 4_000, 15_000).map((ms) => new AdvanceClock(ms)),
  writeArb,
];

function withWriters<T>(fn: (real: Real) => T): T {
  const tmp = makeTempDir('wh-model-');
  const path = join(tmp.dir, 'wh.log');
  const clock = createManualClock(T0);
  const logs = WRITERS.map((w) => EventLog.open(path, { create: true, clock, identity: w.identity }));
  try {
    return fn({ clock, logs });
  } finally {
    for (const l of logs) l.close();
    tmp.dispose();
  }
}

describe('leases against a model', () => {
  it('acquire / renew / release / break / clock / write agree with the model', () => {
    fc.assert(
      fc.property(fc.commands(commandArbs, { maxCommands: 40, size: 'max' }), (cmds) =>
        withWriters((real) => {
          fc.modelRun(() => ({ model: { now: T0, maxEpoch: 0, leases: new Map(), tokens: WRITERS.map(() => null) }, real }), cmds);
          expect(real.logs[0]!.verifyChain().ok).toBe(true);
          expect(real.logs[0]!.rebuildProjections().every((p) => p.equal)).toBe(true);
        }),
      ),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Races

type Outcome = { ok: true; lease: Lease } | { ok: false; error: unknown };

/**
 * Contenders (each its own writer and connection) race to acquire; `fc.scheduler` picks the order.
 * Returns each contender's outcome and the order in which they ran.
 */
async function race(
  s: fc.Scheduler,
  logs: readonly EventLog[],
  scopes: readonly string[],
): Promise<{ outcomes: Outcome[]; order: number[] }> {
  const order: number[] = [];
  const pending = scopes.map((scope, i) =>
    s.schedule(Promise.resolve(i), `acquire c${i} ${scope}`).then((): Outcome => {
      order.push(i);
      try {
        return { ok: true, lease: acquireLease(logs[i]!, scope) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  await s.waitAll();
  return { outcomes: await Promise.all(pending), order };
}

function withContenders<T>(n: number, staleWarehouseHolder: boolean, fn: (logs: EventLog[]) => Promise<T>): Promise<T> {
  const tmp = makeTempDir('wh-race-');
  const path = join(tmp.dir, 'wh.log');
  const clock = createManualClock(T0);
  const ghost = EventLog.open(path, { create: true, clock, identity: reusedPidIdentity('ghost') });
  if (staleWarehouseHolder) acquireLease(ghost, 'warehouse');
  const logs = Array.from({ length: n }, (_, i) => EventLog.open(path, { clock, identity: liveLocalIdentity(`c${i}`) }));
  return fn(logs).finally(() => {
    for (const l of [ghost, ...logs]) l.close();
    tmp.dispose();
  });
}

describe('lease races under fc.scheduler', () => {
  it('contenders for one scope: exactly one winner, the others get LeaseHeldError naming it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 6 }), scopeArb, fc.boolean(), async (s, n, scope, stale) =>
        withContenders(n, stale, async (logs) => {
          const { outcomes, order } = await race(s, logs, Array(n).fill(scope));
          const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
          expect(winners).toEqual([order[0]]);
          for (const o of outcomes) {
            if (o.ok) continue;
            expect(isLeaseHeldError(o.error)).toBe(true);
            expect((o.error as LeaseHeldError).holder.writerId).toBe(`c${order[0]}`);
          }
          // A stale holder in the way is broken exactly once, by the winner's commit.
          const events = logs[0]!.read().filter((e) => e.type === 'LeaseBroken' || e.type === 'LeaseAcquired');
          expect(events.map((e) => e.type)).toEqual(stale ? ['LeaseAcquired', 'LeaseBroken', 'LeaseAcquired'] : ['LeaseAcquired']);
        }),
      ),
      { numRuns: 60 },
    );
  });

  it('contenders for mixed scopes: outcomes equal a sequential run in the scheduled order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(scopeArb, { minLength: 2, maxLength: 6 }), fc.boolean(), async (s, scopes, stale) =>
        withContenders(scopes.length, stale, async (logs) => {
          const { outcomes, order } = await race(s, logs, scopes);
          const held: { scope: string; i: number; epoch: number }[] = [];
          let epoch = stale ? 1 : 0;
          for (const i of order) {
            const o = outcomes[i]!;
            const blocker = held.filter((h) => conflicts(h.scope, scopes[i]!)).sort((x, y) => (x.scope < y.scope ? -1 : 1))[0];
            if (blocker === undefined) {
              epoch += 1;
              expect(o).toEqual({ ok: true, lease: expect.objectContaining({ scope: scopes[i], epoch }) });
              held.push({ scope: scopes[i]!, i, epoch });
            } else {
              expect(o.ok).toBe(false);
              expect((o as { error: LeaseHeldError }).error.holder).toMatchObject({ writerId: `c${blocker.i}`, epoch: blocker.epoch });
            }
          }
          const live = currentLeases(logs[0]!);
          expect(live.map((l) => l.epoch).sort()).toEqual(held.map((h) => h.epoch).sort());
          for (const x of live) for (const y of live) if (x !== y) expect(conflicts(x.scope, y.scope)).toBe(false);
        }),
      ),
      { numRuns: 60 },
    );
  });
});
