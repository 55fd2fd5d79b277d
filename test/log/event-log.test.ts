import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  EventLog,
  GENESIS_HASH,
  WarehouseError,
  acquireLease,
  canonicalJson,
  eventHash,
  isLeaseLostError,
  type EventDraft,
  type StoredEvent,
} from '../../src/log/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { upcast } from '../../src/log/events.js';
import { tagsAt } from '../../src/projections/index.js';
import { createManualClock, draftOf, liveLocalIdentity, makeTempDir, type ManualClock } from '../support/arbitraries.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const tagged = (tag: string, seq = 0): EventDraft => ({ type: 'SnapshotTagged', data: { tag, seq, note: null } });
const checked = (n: number): EventDraft => ({
  type: 'ChecksumVerified',
  data: { objects: n, events: n, headHash: 'a'.repeat(64) },
});

/** Run `fn` and return the WarehouseError it throws (fails the test if it does not throw one). */
function errorOf(fn: () => unknown): WarehouseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WarehouseError);
    return e as WarehouseError;
  }
  throw new Error('expected a WarehouseError, nothing was thrown');
}

let tmp: ReturnType<typeof makeTempDir>;
let path: string;
let clock: ManualClock;
let log: EventLog;

beforeEach(() => {
  tmp = makeTempDir();
  path = join(tmp.dir, 'wh.log');
  clock = createManualClock(T0);
  log = EventLog.open(path, { create: true, clock, identity: liveLocalIdentity('writer-a') });
});
afterEach(() => {
  try {
    log.close();
  } catch {
    // already closed by the test
  }
  tmp.dispose();
});

describe('append and read', () => {
  it('reads back exactly what was appended, with actor, position and chain links', () => {
    const drafts = [checked(1), tagged('v1', 1), { type: 'DiskWatermarkCrossed', data: { level: 'warning', usedFraction: 0.91, freeBytes: 1e9, path: '/d' } }] as EventDraft[];
    const stored = log.append(drafts);
    const read = log.read();
    expect(read).toEqual(stored);
    expect(read.map(draftOf)).toEqual(drafts);
    expect(read.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(read[0]!.prevHash).toBe(GENESIS_HASH);
    expect(read[1]!.prevHash).toBe(read[0]!.hash);
    expect(read[2]!.prevHash).toBe(read[1]!.hash);
    expect(read[0]!.actor).toEqual({ host: log.processIdentity.host, pid: process.pid, writerId: 'writer-a' });
    expect(read.every((e) => e.lease === null)).toBe(true);
    expect(log.get(2)).toEqual(read[1]);
    expect(log.get(4)).toBeUndefined();
    expect(log.head()).toEqual({ seq: 3, hash: read[2]!.hash, time: read[2]!.time });
  });

  it('survives close and reopen, and the chain verifies', () => {
    const stored = log.append([checked(1), checked(2)]);
    log.close();
    log = EventLog.open(path, { clock });
    expect(log.read()).toEqual(stored);
    expect(log.verifyChain()).toMatchObject({ ok: true, events: 2, headHash: stored[1]!.hash, problems: [] });
  });

  it('filters reads by range, type, order and limit', () => {
    log.append([checked(1), tagged('a'), checked(2), tagged('b'), checked(3)]);
    expect(log.read({ fromSeq: 2, toSeq: 4 }).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.read({ types: ['SnapshotTagged'] }).map((e) => e.seq)).toEqual([2, 4]);
    expect(log.read({ reverse: true, limit: 2 }).map((e) => e.seq)).toEqual([5, 4]);
    expect([...log.readAll(2)].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('numbers events densely from 1 across single and batch appends', () => {
    log.append([checked(1)]);
    log.append([checked(2), checked(3), checked(4)]);
    log.append([]);
    log.append([checked(5)]);
    expect(log.read().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps commit times strictly increasing when the clock steps back or stands still', () => {
    clock.set(T0);
    const [a] = log.append([checked(1)]);
    clock.set(T0 - 60_000); // NTP step back
    const [b] = log.append([checked(2)]);
    const [c] = log.append([checked(3)]); // clock stands still
    clock.set(T0 + 10_000);
    const [d, e] = log.append([checked(4), checked(5)]);
    expect([a!.time, b!.time, c!.time, d!.time, e!.time]).toEqual([T0, T0 + 1, T0 + 2, T0 + 10_000, T0 + 10_001]);
  });

  it('commit times are strictly increasing and never before the clock, for any clock (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -5_000, max: 5_000 }), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 15 }), (steps) => {
        const t = makeTempDir();
        const c = createManualClock(T0);
        const l = EventLog.open(join(t.dir, 'wh.log'), { create: true, clock: c });
        try {
          for (const [delta, n] of steps) {
            c.advance(delta);
            const out = l.append(Array.from({ length: n }, (_, i) => checked(i)));
            expect(out[0]!.time).toBeGreaterThanOrEqual(c());
          }
          const times = l.read().map((e) => e.time);
          for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
        } finally {
          l.close();
          t.dispose();
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('one commit per batch', () => {
  it('writes nothing when one draft of a batch is invalid', () => {
    log.append([checked(0)]);
    const before = log.head();
    const bad = { type: 'PartitionRemoved', data: { dataset: 'Not A Dataset', partition: '2020', reason: 'x' } } as EventDraft;
    const err = errorOf(() => log.append([checked(1), tagged('ok'), bad]));
    expect(err.code).toBe('EVENT_INVALID');
    expect(err.message).toMatch(/invalid PartitionRemoved event: data\.dataset: /);
    expect(log.head()).toEqual(before);
    expect(log.read()).toHaveLength(1);
  });

  it('writes nothing, projections included, when a later draft of a batch is fenced out', () => {
    const t = makeTempDir();
    const wh = join(t.dir, 'wh');
    initWarehouse(wh, '0.0.0-test', { clock });
    const w = openWarehouseLog(wh, { clock });
    try {
      const before = w.head();
      const write = { type: 'PartitionRemoved', data: { dataset: 'prices', partition: '2020', reason: 'x' } } as EventDraft;
      expect(() => w.append([tagged('before-write'), write], { scope: 'dataset:prices', epoch: 1 })).toThrow(/no lease is held/);
      expect(w.head()).toEqual(before);
      expect(tagsAt(w)).toEqual([]);
    } finally {
      w.close();
      t.dispose();
    }
  });

  it('other connections see none of a batch until all of it commits', () => {
    log.append([checked(0)]);
    const reader = EventLog.open(path, { readonly: true });
    const seenMidBatch: number[] = [];
    log.close();
    log = EventLog.open(path, {
      clock,
      guards: [
        (draft) => {
          if (draft.type === 'SnapshotTagged') seenMidBatch.push(reader.head().seq);
        },
      ],
    });
    try {
      log.append([checked(1), tagged('x'), tagged('y')]);
      expect(seenMidBatch).toEqual([1, 1]);
      expect(reader.head().seq).toBe(4);
    } finally {
      reader.close();
    }
  });
});

describe('invalid drafts', () => {
  const invalid: [string, unknown][] = [
    ['unknown type', { type: 'PartitionExploded', data: {} }],
    ['missing data field', { type: 'SnapshotTagged', data: { tag: 'x', seq: 1 } }],
    ['object that is not a hash', { type: 'ChecksumVerified', data: { objects: 1, events: 1, headHash: 'xyz' } }],
    ['negative count', { type: 'ChecksumVerified', data: { objects: -1, events: 1, headHash: 'a'.repeat(64) } }],
    ['non-integer seq', { type: 'SnapshotTagged', data: { tag: 'x', seq: 1.5, note: null } }],
    ['tag with a slash', { type: 'SnapshotTagged', data: { tag: 'a/b', seq: 1, note: null } }],
    ['bad lease scope', { type: 'LeaseReleased', data: { scope: 'dataset:Prices', epoch: 1 } }],
    ['bad expiry', { type: 'LeaseRenewed', data: { scope: 'warehouse', epoch: 1, expiresAt: 'tomorrow' } }],
  ];
  it.each(invalid)('refuses a draft with %s (EVENT_INVALID), writing nothing', (_, draft) => {
    const err = errorOf(() => log.append([draft as EventDraft]));
    expect(err.code).toBe('EVENT_INVALID');
    expect(err.suggestion).toMatch(/nothing was written/);
    expect(log.head().seq).toBe(0);
  });
});

describe('the schema enforces append-only', () => {
  beforeEach(() => {
    log.append([checked(1), checked(2)]);
  });

  it('refuses UPDATE of an event', () => {
    expect(() => log.db.exec(`UPDATE events SET data = '{}' WHERE seq = 1`)).toThrow(/append-only; UPDATE refused/);
    expect(log.verifyChain().ok).toBe(true);
  });

  it('refuses DELETE of an event', () => {
    expect(() => log.db.exec('DELETE FROM events WHERE seq = 2')).toThrow(/append-only; DELETE refused/);
    expect(log.head().seq).toBe(2);
  });

  it.each([
    ['a gap', 4],
    ['an existing seq', 2],
    ['seq 0', 0],
  ])('refuses an insert at %s', (_, seq) => {
    const sql = `INSERT INTO events(seq, time_ms, type, version, data, actor, prev_hash, hash)
      VALUES (${seq}, 1, 'ChecksumVerified', 1, '{}', '{}', 'x', 'y')`;
    expect(() => log.db.exec(sql)).toThrow(/must be appended at max\(seq\)\+1/);
    expect(log.read().map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('upcasting', () => {
  it('lifts SnapshotTagged v1 (no note) to the current version', () => {
    expect(upcast('SnapshotTagged', 1, { tag: 'a', seq: 3 })).toEqual({ tag: 'a', seq: 3, note: null });
    expect(upcast('SnapshotTagged', 2, { tag: 'a', seq: 3, note: 'n' })).toEqual({ tag: 'a', seq: 3, note: 'n' });
    expect(() => upcast('LeaseAcquired', 0, {})).toThrow(/no upcaster for LeaseAcquired v0/);
  });

  it('reads a stored v1 row as current, keeps its stored version, and the chain still verifies', () => {
    const t = makeTempDir();
    const wh = join(t.dir, 'wh');
    initWarehouse(wh, '0.0.0-test', { clock });
    const w = openWarehouseLog(wh, { clock });
    try {
      const head = w.head();
      const v1 = { seq: head.seq + 1, time: head.time + 1, type: 'SnapshotTagged', version: 1, data: { tag: 'old', seq: 1 }, actor: { host: 'h', pid: 1, writerId: 'old-wh' }, lease: null };
      w.db
        .prepare(`INSERT INTO events(seq, time_ms, type, version, data, actor, lease_scope, lease_epoch, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`)
        .run(v1.seq, v1.time, v1.type, 1, canonicalJson(v1.data), canonicalJson(v1.actor), head.hash, eventHash(head.hash, v1));
      const e = w.get(v1.seq)!;
      expect(e.type).toBe('SnapshotTagged');
      expect(e.version).toBe(1);
      expect(e.data).toEqual({ tag: 'old', seq: 1, note: null });
      expect(w.verifyChain()).toMatchObject({ ok: true, problems: [] });
      // The raw insert bypassed the projections; a rebuild folds the upcast event in.
      expect(w.rebuildProjections().find((r) => r.name === 'snapshots')).toMatchObject({ equal: false, rows: 1 });
      expect(tagsAt(w)).toMatchObject([{ tag: 'old', seq: 1, note: null }]);
      // New appends chain on top of the v1 row.
      w.append([tagged('new', 2)]);
      expect(w.verifyChain().ok).toBe(true);
      expect(w.rebuildProjections().every((r) => r.equal)).toBe(true);
    } finally {
      w.close();
      t.dispose();
    }
  });
});

describe('seqAtTime', () => {
  it('names the last event committed at or before a time', () => {
    clock.set(1_000);
    log.append([checked(1)]); // t=1000
    clock.set(2_000);
    log.append([checked(2), checked(3)]); // t=2000, 2001
    clock.set(5_000);
    log.append([checked(4)]); // t=5000
    expect(log.seqAtTime(999)).toBe(0);
    expect(log.seqAtTime(1_000)).toBe(1);
    expect(log.seqAtTime(1_999)).toBe(1);
    expect(log.seqAtTime(2_000)).toBe(2);
    expect(log.seqAtTime(2_001)).toBe(3);
    expect(log.seqAtTime(4_999)).toBe(3);
    expect(log.seqAtTime(1e15)).toBe(4);
  });
});

describe('opening', () => {
  it('refuses a missing path with NOT_A_WAREHOUSE, creating nothing', () => {
    const missing = join(tmp.dir, 'nope', 'wh.log');
    const err = errorOf(() => EventLog.open(missing));
    expect(err.code).toBe('NOT_A_WAREHOUSE');
    expect(err.suggestion).toMatch(/wh init/);
    expect(errorOf(() => EventLog.open(join(tmp.dir, 'none.log'), { readonly: true })).code).toBe('NOT_A_WAREHOUSE');
  });

  function expectCorrupt(p: string, detail: RegExp): void {
    for (const readonly of [false, true]) {
      const err = errorOf(() => EventLog.open(p, { readonly }));
      expect(err.code).toBe('LOG_CORRUPT');
      expect(err.message).toContain(p);
      expect(err.message).toMatch(detail);
      expect(err.suggestion).toMatch(/backup/);
    }
  }

  function writtenLog(name: string, events: number): string {
    const p = join(tmp.dir, name);
    const l = EventLog.open(p, { create: true, clock });
    for (let i = 0; i < events; i++) l.append([{ type: 'SnapshotDeleted', data: { tag: `t${i}`.padEnd(100, 'x'), reason: 'r'.repeat(200) } }]);
    l.close();
    return p;
  }

  it('reports garbage bytes as LOG_CORRUPT', () => {
    const p = join(tmp.dir, 'garbage.log');
    writeFileSync(p, Buffer.alloc(8192, 0x5a));
    expectCorrupt(p, /damaged \(SQLITE_NOTADB\)/);
  });

  it('reports a destroyed SQLite header as LOG_CORRUPT', () => {
    const p = writtenLog('header.log', 3);
    const bytes = readFileSync(p);
    bytes.fill(0, 0, 16);
    writeFileSync(p, bytes);
    expectCorrupt(p, /damaged/);
  });

  it('reports a truncated log as LOG_CORRUPT', () => {
    const p = writtenLog('truncated.log', 200);
    truncateSync(p, 3 * 4096);
    expectCorrupt(p, /damaged \(SQLITE_CORRUPT/);
  });

  it('reports an empty (0-byte) log as LOG_CORRUPT instead of adopting it as a new log', () => {
    const p = join(tmp.dir, 'empty.log');
    writeFileSync(p, '');
    expectCorrupt(p, /empty/);
    // Still refused on the next open: no events table was created in it.
    expect(errorOf(() => EventLog.open(p)).code).toBe('LOG_CORRUPT');
  });

  it('refuses a foreign SQLite database with NOT_A_WAREHOUSE and leaves it untouched', () => {
    const p = join(tmp.dir, 'foreign.db');
    const d = new Database(p);
    d.exec('CREATE TABLE t(x)');
    d.close();
    const err = errorOf(() => EventLog.open(p));
    expect(err.code).toBe('NOT_A_WAREHOUSE');
    const check = new Database(p, { readonly: true });
    const tables = check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all();
    check.close();
    expect(tables).toEqual([{ name: 't' }]);
  });

  it('a readonly log reads but cannot append', () => {
    const stored = log.append([checked(1)]);
    const ro = EventLog.open(path, { readonly: true });
    try {
      expect(ro.read()).toEqual(stored);
      expect(ro.verifyChain().ok).toBe(true);
      expect(() => ro.append([checked(2)])).toThrow(/readonly/);
      expect(() => acquireLease(ro, 'dataset:prices')).toThrow(/readonly/);
    } finally {
      ro.close();
    }
    expect(log.read()).toEqual(stored);
  });
});

describe('fencing at the log', () => {
  it('refuses a write event without a lease', () => {
    const write: EventDraft = { type: 'PartitionRemoved', data: { dataset: 'prices', partition: '2020', reason: 'x' } };
    let thrown: unknown;
    try {
      log.append([write]);
    } catch (e) {
      thrown = e;
    }
    expect(isLeaseLostError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/needs a lease/);
    expect(log.head().seq).toBe(0);
  });

  it('records the fencing token on write events only', () => {
    const lease = acquireLease(log, 'dataset:prices');
    const out: StoredEvent[] = log.append(
      [checked(1), { type: 'PartitionRemoved', data: { dataset: 'prices', partition: '2020', reason: 'x' } }],
      lease,
    );
    expect(out[0]!.lease).toBeNull();
    expect(out[1]!.lease).toEqual({ scope: 'dataset:prices', epoch: lease.epoch });
    expect(log.get(out[1]!.seq)!.lease).toEqual({ scope: 'dataset:prices', epoch: lease.epoch });
  });
});
