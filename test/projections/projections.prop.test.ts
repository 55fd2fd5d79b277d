/**
 * Projections as specifications: for random valid histories written through a real log (with
 * proper leases and guards), the materialized tables equal the pure fold, a rebuild changes
 * nothing, "as of seq N" equals the fold of the events up to N, and replay is deterministic.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import {
  EventLog,
  acquireLease,
  foldRanged,
  leaseProjection,
  releaseLease,
  rowsAt,
  type EventDraft,
  type Lease,
  type RangedProjection,
  type RangedRow,
  type StoredEvent,
  type WarehouseError,
} from '../../src/log/index.js';
import { initWarehouse, openWarehouseLog, projections } from '../../src/store/index.js';
import { manifestAt, manifestProjection } from '../../src/projections/index.js';
import { createManualClock, hashArb, liveLocalIdentity, makeTempDir, type ManualClock } from '../support/arbitraries.js';

const ALL: readonly RangedProjection[] = [leaseProjection, ...projections];
const T0 = Date.UTC(2024, 0, 2);
const TTL = 10_000;

// ---------------------------------------------------------------------------------------------
// Histories: small name sets so keys collide (rewrites, removals, re-tags)

const dsArb = fc.constantFrom('prices', 'trades', 'ref_data');
const partArb = fc.constantFrom('2023', '2024', 'all');
const tagArb = fc.constantFrom('v1', 'v2', 'paper-v1');
const refArb = fc.constantFrom('r1', 'r2');

type Op =
  | { k: 'write'; ds: string; part: string; object: string; rows: number; withSchema: boolean }
  | { k: 'remove'; ds: string; part: string }
  | { k: 'schema'; ds: string; fingerprint: string }
  | { k: 'quarantine'; id: string; ds: string | null }
  | { k: 'clear'; id: string }
  | { k: 'tag'; tag: string; at: number; note: string | null }
  | { k: 'untag'; tag: string }
  | { k: 'hold'; ref: string; kind: 'tag' | 'object' | 'seq'; tag: string }
  | { k: 'unhold'; ref: string }
  | { k: 'release'; ds: string }
  | { k: 'gc' }
  | { k: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('write' as const), ds: dsArb, part: partArb, object: hashArb, rows: fc.nat(1000), withSchema: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('remove' as const), ds: dsArb, part: partArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('schema' as const), ds: dsArb, fingerprint: hashArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('quarantine' as const), id: fc.constantFrom('q1', 'q2'), ds: fc.option(dsArb, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('clear' as const), id: fc.constantFrom('q1', 'q2', 'q3') }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tag' as const), tag: tagArb, at: fc.double({ min: 0, max: 1, noNaN: true }), note: fc.option(fc.string(), { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('untag' as const), tag: tagArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('hold' as const), ref: refArb, kind: fc.constantFrom('tag' as const, 'object' as const, 'seq' as const), tag: tagArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unhold' as const), ref: refArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('release' as const), ds: dsArb }) },
  { weight: 1, arbitrary: fc.constant({ k: 'gc' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.constantFrom(1, 1_000, TTL, 3 * TTL) }) },
);
const historyArb = fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' });

/** Drives a warehouse log through a history, holding leases properly and predicting the guards. */
class Driver {
  private readonly leases = new Map<string, Lease>();
  private readonly tags = new Set<string>();
  private readonly holds = new Map<string, { kind: string; id: string }>();
  private readonly objects: string[] = [];

  constructor(
    readonly log: EventLog,
    readonly clock: ManualClock,
  ) {}

  private leaseFor(ds: string): Lease {
    const held = this.leases.get(ds);
    if (held !== undefined && Date.parse(held.expiresAt) > this.clock()) return held;
    // Expired (or none): acquiring breaks our own stale lease in the same commit.
    const lease = acquireLease(this.log, `dataset:${ds}`, { ttlMs: TTL, purpose: 'prop' });
    this.leases.set(ds, lease);
    return lease;
  }

  /** Append, expecting a guard to refuse with `refusal` (nothing written) or to accept. */
  private guarded(drafts: EventDraft[], refusal: string | null): void {
    const head = this.log.head().seq;
    if (refusal === null) {
      this.log.append(drafts);
      return;
    }
    expect(() => this.log.append(drafts)).toThrow(expect.objectContaining({ code: refusal }) as WarehouseError);
    expect(this.log.head().seq).toBe(head);
  }

  run(op: Op): void {
    switch (op.k) {
      case 'write': {
        const drafts: EventDraft[] = [];
        const fingerprint = 'f'.repeat(64);
        if (op.withSchema) drafts.push({ type: 'SchemaRegistered', data: { dataset: op.ds, fingerprint, columns: [{ name: 'x', type: 'INTEGER' }], key: ['x'] } });
        drafts.push({
          type: 'PartitionWritten',
          data: {
            dataset: op.ds,
            partition: op.part,
            object: op.object,
            rows: op.rows,
            bytes: op.rows * 8,
            schemaFingerprint: fingerprint,
            sortKey: ['x'],
            lineage: { kind: 'ingest', source: `/data/${op.ds}.csv`, sourceHash: null, sql: null, vintage: null, whVersion: 'test' },
          },
        });
        this.log.append(drafts, this.leaseFor(op.ds));
        this.objects.push(op.object);
        return;
      }
      case 'remove':
        this.log.append([{ type: 'PartitionRemoved', data: { dataset: op.ds, partition: op.part, reason: 'prop' } }], this.leaseFor(op.ds));
        return;
      case 'schema':
        this.log.append([{ type: 'SchemaRegistered', data: { dataset: op.ds, fingerprint: op.fingerprint, columns: [], key: [] } }], this.leaseFor(op.ds));
        return;
      case 'quarantine': {
        const draft: EventDraft = { type: 'QuarantineAdded', data: { id: op.id, path: `/q/${op.id}`, reason: 'bad rows', dataset: op.ds, partition: null, rule: null } };
        this.log.append([draft], op.ds === null ? null : this.leaseFor(op.ds));
        return;
      }
      case 'clear':
        this.log.append([{ type: 'QuarantineCleared', data: { id: op.id, reason: 'fixed' } }]);
        return;
      case 'tag': {
        const seq = Math.floor(op.at * (this.log.head().seq + 1));
        this.guarded([{ type: 'SnapshotTagged', data: { tag: op.tag, seq: Math.min(seq, this.log.head().seq), note: op.note } }], this.tags.has(op.tag) ? 'TAG_EXISTS' : null);
        this.tags.add(op.tag);
        return;
      }
      case 'untag': {
        const held = [...this.holds.values()].some((h) => h.kind === 'tag' && h.id === op.tag);
        const refusal = !this.tags.has(op.tag) ? 'UNKNOWN_TAG' : held ? 'INVALID_ARGUMENT' : null;
        this.guarded([{ type: 'SnapshotDeleted', data: { tag: op.tag, reason: null } }], refusal);
        if (refusal === null) this.tags.delete(op.tag);
        return;
      }
      case 'hold': {
        const id = op.kind === 'tag' ? op.tag : op.kind === 'object' ? (this.objects[0] ?? 'none') : String(this.log.head().seq);
        this.log.append([{ type: 'RetentionRefAdded', data: { ref: op.ref, target: { kind: op.kind, id }, reason: 'paper' } }]);
        this.holds.set(op.ref, { kind: op.kind, id });
        return;
      }
      case 'unhold':
        this.log.append([{ type: 'RetentionRefRemoved', data: { ref: op.ref } }]);
        this.holds.delete(op.ref);
        return;
      case 'release': {
        const lease = this.leases.get(op.ds);
        if (lease !== undefined) releaseLease(this.log, lease);
        this.leases.delete(op.ds);
        return;
      }
      case 'gc': {
        for (const lease of this.leases.values()) releaseLease(this.log, lease);
        this.leases.clear();
        const w = acquireLease(this.log, 'warehouse', { ttlMs: TTL });
        this.log.append([{ type: 'ObjectsCollected', data: { objects: [], bytes: 0, temporaries: 0 } }], w);
        releaseLease(this.log, w);
        return;
      }
      case 'advance':
        this.clock.advance(op.ms);
        return;
      default: {
        const never: never = op;
        throw new Error(`unknown op ${JSON.stringify(never)}`);
      }
    }
  }
}

/** Build a warehouse from `ops`, run `fn` on its log, clean up. */
function withHistory<T>(ops: readonly Op[], fn: (log: EventLog, events: StoredEvent[], dir: string) => T): T {
  const tmp = makeTempDir('wh-proj-');
  const dir = join(tmp.dir, 'wh');
  const clock = createManualClock(T0);
  const identity = liveLocalIdentity('prop-writer');
  initWarehouse(dir, '0.0.0-test', { clock, identity });
  const log = openWarehouseLog(dir, { clock, identity });
  try {
    const driver = new Driver(log, clock);
    for (const op of ops) driver.run(op);
    return fn(log, log.read(), dir);
  } finally {
    log.close();
    tmp.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

/** A row as of a point: its validity end is not part of the state at that point. */
const asOfRow = (r: RangedRow) => ({ key: r.key, group: r.group, value: r.value, beginSeq: r.beginSeq });
const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

const RUNS = { numRuns: 50 };

describe('projections', () => {
  it('(a) every materialized table equals the pure fold of the log', () => {
    fc.assert(
      fc.property(historyArb, (ops) =>
        withHistory(ops, (log, events) => {
          expect(log.projectionNames().sort()).toEqual(ALL.map((p) => p.name).sort());
          const folds = log.foldAll();
          for (const p of ALL) {
            const folded = foldRanged(p, events);
            expect(log.table(p).history(), p.name).toEqual(folded);
            expect(folds.get(p.name), p.name).toEqual(folded);
          }
        }),
      ),
      RUNS,
    );
  });

  it('(b) a rebuild from scratch reports every table equal and changes nothing', () => {
    fc.assert(
      fc.property(historyArb, (ops) =>
        withHistory(ops, (log) => {
          const before = new Map(ALL.map((p) => [p.name, log.table(p).history()]));
          const report = log.rebuildProjections();
          expect(report.map((r) => r.name).sort()).toEqual(ALL.map((p) => p.name).sort());
          for (const r of report) {
            expect(r, r.name).toMatchObject({ equal: true, rows: before.get(r.name)!.length });
            expect(log.tableByName(r.name).history()).toEqual(before.get(r.name));
          }
        }),
      ),
      RUNS,
    );
  });

  it('a rebuild repairs a damaged table and says so', () => {
    fc.assert(
      fc.property(historyArb, (ops) =>
        withHistory([...ops, { k: 'write', ds: 'prices', part: 'all', object: 'a'.repeat(64), rows: 1, withSchema: false }], (log, events) => {
          log.db.exec(`DELETE FROM proj_manifest WHERE rowid = (SELECT max(rowid) FROM proj_manifest)`);
          const report = log.rebuildProjections();
          expect(report.find((r) => r.name === 'manifest')!.equal).toBe(false);
          expect(report.filter((r) => r.name !== 'manifest').every((r) => r.equal)).toBe(true);
          expect(log.table(manifestProjection).history()).toEqual(foldRanged(projections[0]!, events));
        }),
      ),
      { numRuns: 15 },
    );
  });

  it('(c) the state as of seq N equals the fold of the events up to N', () => {
    fc.assert(
      fc.property(historyArb, (ops) =>
        withHistory(ops, (log, events) => {
          const head = log.head().seq;
          for (const p of ALL) {
            const table = log.table(p);
            const full = foldRanged(p, events);
            for (let n = 0; n <= head; n++) {
              const prefix = foldRanged(p, events.filter((e) => e.seq <= n)).filter((r) => r.endSeq === null);
              const expected = prefix.map(asOfRow).sort(byKey);
              const actual = table.at(n).map(asOfRow).sort(byKey);
              expect(actual, `${p.name} at ${n}`).toEqual(expected);
              expect(rowsAt(full, n).map(asOfRow).sort(byKey), `${p.name} rowsAt ${n}`).toEqual(expected);
            }
            // "Current" is "as of head".
            expect(table.at().map(asOfRow).sort(byKey)).toEqual(table.at(head).map(asOfRow).sort(byKey));
          }
          // The typed reader and per-dataset groups agree with the same fold.
          for (let n = 0; n <= head; n++) {
            const manifest = foldRanged(projections[0]!, events.filter((e) => e.seq <= n)).filter((r) => r.endSeq === null);
            expect(manifestAt(log, n).sort((a, b) => byKey({ key: `${a.dataset}/${a.partition}` }, { key: `${b.dataset}/${b.partition}` }))).toEqual(
              manifest.sort(byKey).map((r) => r.value),
            );
            for (const ds of ['prices', 'trades']) {
              expect(manifestAt(log, n, ds).map((m) => `${m.dataset}/${m.partition}`).sort()).toEqual(
                manifest.filter((r) => r.group === ds).map((r) => r.key).sort(),
              );
            }
          }
        }),
      ),
      { numRuns: 30 },
    );
  });

  it('(d) replay is deterministic: folding twice, or from another connection, gives identical rows', () => {
    fc.assert(
      fc.property(historyArb, (ops) =>
        withHistory(ops, (log, events, dir) => {
          const reader = EventLog.open(join(dir, 'wh.log'), { readonly: true });
          try {
            const again = reader.read();
            expect(again).toEqual(events);
            for (const p of ALL) {
              const first = foldRanged(p, events);
              const second = foldRanged(p, events);
              const third = foldRanged(p, again);
              expect(JSON.stringify(second)).toBe(JSON.stringify(first));
              expect(JSON.stringify(third)).toBe(JSON.stringify(first));
            }
          } finally {
            reader.close();
          }
        }),
      ),
      RUNS,
    );
  });
});
