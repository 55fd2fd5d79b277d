import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { WarehouseError, acquireLease, type EventDraft, type EventLog, type Lease } from '../../src/log/index.js';
import { datasetsAt, liveObjects, manifestAt, manifestHistory, resolvePoint, retentionRefs, tagsAt } from '../../src/projections/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { createManualClock, liveLocalIdentity, makeTempDir, nameArb, type ManualClock } from '../support/arbitraries.js';

const at = (iso: string): number => Date.parse(iso);
const MONTH = 30 * 86_400_000;
const OBJ = (c: string): string => c.repeat(64);

let tmp: ReturnType<typeof makeTempDir>;
let dir: string;
let clock: ManualClock;
let log: EventLog;

beforeEach(() => {
  tmp = makeTempDir('wh-asof-');
  dir = join(tmp.dir, 'wh');
  clock = createManualClock(at('2024-01-14T08:00:00Z'));
  const identity = liveLocalIdentity('asof-writer');
  initWarehouse(dir, '0.0.0-test', { clock, identity }); // seq 1
  log = openWarehouseLog(dir, { clock, identity });
});
afterEach(() => {
  log.close();
  tmp.dispose();
});

function errorOf(fn: () => unknown): WarehouseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WarehouseError);
    return e as WarehouseError;
  }
  throw new Error('expected a WarehouseError, nothing was thrown');
}

/** Append at wall-clock time `iso`; returns the seq of the last event. */
function appendAt(iso: string, drafts: EventDraft[], lease?: Lease): number {
  clock.set(at(iso));
  const out = log.append(drafts, lease);
  return out[out.length - 1]!.seq;
}

const tag = (name: string, seq: number): EventDraft => ({ type: 'SnapshotTagged', data: { tag: name, seq, note: null } });
const written = (dataset: string, partition: string, object: string): EventDraft => ({
  type: 'PartitionWritten',
  data: {
    dataset,
    partition,
    object,
    rows: 10,
    bytes: 100,
    schemaFingerprint: OBJ('f'),
    sortKey: [],
    lineage: { kind: 'ingest', source: 'x.csv', sourceHash: null, sql: null, vintage: null, whVersion: 'test' },
  },
});
const removed = (dataset: string, partition: string): EventDraft => ({ type: 'PartitionRemoved', data: { dataset, partition, reason: 'test' } });

describe('resolvePoint', () => {
  let s: { day14: number; morning: number; endOfDay: number; nextDay: number; tagged: number };
  beforeEach(() => {
    const day14 = appendAt('2024-01-14T20:00:00Z', [{ type: 'ChecksumVerified', data: { objects: 0, events: 1, headHash: OBJ('0') } }]);
    const morning = appendAt('2024-01-15T10:00:00Z', [{ type: 'ChecksumVerified', data: { objects: 0, events: 2, headHash: OBJ('0') } }]);
    const endOfDay = appendAt('2024-01-15T23:59:59.999Z', [{ type: 'ChecksumVerified', data: { objects: 0, events: 3, headHash: OBJ('0') } }]);
    const nextDay = appendAt('2024-01-16T00:00:00Z', [{ type: 'ChecksumVerified', data: { objects: 0, events: 4, headHash: OBJ('0') } }]);
    const tagged = appendAt('2024-01-16T09:00:00Z', [tag('paper-v1', morning)]);
    s = { day14, morning, endOfDay, nextDay, tagged };
  });

  it('head: undefined, "head" and "now" name the newest event', () => {
    for (const spec of [undefined, 'head', 'now']) expect(resolvePoint(log, spec)).toEqual({ seq: s.tagged, label: 'head', kind: 'head' });
  });

  it('an empty point ("" or blanks) is refused rather than silently meaning the head (issue 10)', () => {
    for (const spec of ['', '  ']) expect(() => resolvePoint(log, spec)).toThrow(/empty/);
  });

  it('a seq names itself, 0 (before everything) and head included', () => {
    expect(resolvePoint(log, '3')).toEqual({ seq: 3, label: 'seq 3', kind: 'seq' });
    expect(resolvePoint(log, '0').seq).toBe(0);
    expect(resolvePoint(log, String(s.tagged)).seq).toBe(s.tagged);
  });

  it('a seq beyond head is refused', () => {
    const err = errorOf(() => resolvePoint(log, String(s.tagged + 1)));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(`beyond the end of the log (head is ${s.tagged})`);
  });

  it('a date is the end of that UTC day', () => {
    expect(resolvePoint(log, '2024-01-15')).toMatchObject({ seq: s.endOfDay, kind: 'time' });
    expect(resolvePoint(log, '2024-01-14').seq).toBe(s.day14);
    expect(resolvePoint(log, '2024-01-16').seq).toBe(s.tagged);
    expect(resolvePoint(log, '2023-12-31').seq).toBe(0);
    expect(resolvePoint(log, '2030-01-01').seq).toBe(s.tagged);
  });

  it.each([
    ['2024-01-15T10:00:00Z', 'morning'],
    ['2024-01-15T09:59:59.999Z', 'day14'],
    ['2024-01-15T12:00:00+02:00', 'morning'],
    ['2024-01-15T05:00-05:00', 'morning'],
    ['2024-01-15T10:00', 'morning'], // no zone: UTC
    ['2024-01-15 10:00:00Z', 'morning'],
    ['2024-01-15T23:59:59.999Z', 'endOfDay'],
    ['2024-01-16T00:00:00Z', 'nextDay'],
  ] as const)('datetime %s is that instant', (spec, which) => {
    expect(resolvePoint(log, spec)).toMatchObject({ seq: s[which], kind: 'time' });
  });

  it.each(['2024-13-01', '2024-01-32', '2024-02-30', '2023-02-29', '2024-02-30T10:00:00Z', '2024-01-15T25:00Z'])(
    'an impossible date or time (%s) is refused, not rolled over',
    (spec) => {
      const err = errorOf(() => resolvePoint(log, spec));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain(spec);
    },
  );

  it('a leap day is a real day', () => {
    expect(resolvePoint(log, '2024-02-29').seq).toBe(s.tagged);
  });

  it('a tag names the seq it was tagged at', () => {
    expect(resolvePoint(log, 'paper-v1')).toEqual({ seq: s.morning, label: `tag paper-v1 (seq ${s.morning})`, kind: 'tag' });
  });

  it('an unknown or deleted tag is refused with UNKNOWN_TAG', () => {
    expect(errorOf(() => resolvePoint(log, 'paper-v2')).code).toBe('UNKNOWN_TAG');
    log.append([{ type: 'SnapshotDeleted', data: { tag: 'paper-v1', reason: null } }]);
    const err = errorOf(() => resolvePoint(log, 'paper-v1'));
    expect(err.code).toBe('UNKNOWN_TAG');
    expect(err.suggestion).toMatch(/wh snapshot list/);
    // Still visible as of before its deletion.
    expect(tagsAt(log, s.tagged).map((t) => t.tag)).toEqual(['paper-v1']);
    expect(tagsAt(log)).toEqual([]);
  });

  it('every tag the warehouse accepts resolves by name to its seq (property)', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        const head = log.head().seq;
        let accepted = true;
        try {
          log.append([tag(name, 1)]);
        } catch (e) {
          accepted = false;
          expect((e as WarehouseError).code).toMatch(/^(TAG_EXISTS|INVALID_ARGUMENT)$/);
          expect(log.head().seq).toBe(head);
        }
        if (accepted) {
          expect(resolvePoint(log, name)).toMatchObject({ seq: 1, kind: 'tag' });
          log.append([{ type: 'SnapshotDeleted', data: { tag: name, reason: null } }]);
        }
      }),
      { numRuns: 200, examples: [['2024'], ['0'], ['2024-01-15'], ['head'], ['now']] },
    );
  });

  it.each(['2024', '0', '2024-01-15', 'head', 'now'])('refuses a tag named like a point (%s)', (name) => {
    const err = errorOf(() => log.append([tag(name, 1)]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('cannot be a tag name');
    expect(tagsAt(log).map((t) => t.tag)).toEqual(['paper-v1']);
  });
});

describe('manifestAt across rewrites and removals', () => {
  it('names the object each partition had at every point', () => {
    const lease = acquireLease(log, 'dataset:prices', { ttlMs: MONTH });
    const w1 = appendAt('2024-02-01T10:00:00Z', [written('prices', '2023', OBJ('a')), written('prices', '2024', OBJ('b'))], lease);
    const w2 = appendAt('2024-02-02T10:00:00Z', [written('prices', '2023', OBJ('c'))], lease); // rewrite
    const r3 = appendAt('2024-02-03T10:00:00Z', [removed('prices', '2024')], lease);
    const trades = acquireLease(log, 'dataset:trades', { ttlMs: MONTH });
    const w4 = appendAt('2024-02-04T10:00:00Z', [written('trades', 'all', OBJ('d'))], trades);
    const r5 = appendAt('2024-02-05T10:00:00Z', [removed('prices', '2023')], lease);

    const view = (seq?: number, ds?: string) => manifestAt(log, seq, ds).map((m) => `${m.dataset}/${m.partition}=${m.object[0]}`).sort();
    expect(view(w1 - 2)).toEqual([]);
    expect(view(w1 - 1)).toEqual(['prices/2023=a']); // the batch's first event only
    expect(view(w1)).toEqual(['prices/2023=a', 'prices/2024=b']);
    expect(view(w2)).toEqual(['prices/2023=c', 'prices/2024=b']);
    expect(view(r3)).toEqual(['prices/2023=c']);
    expect(view(w4)).toEqual(['prices/2023=c', 'trades/all=d']);
    expect(view(w4, 'prices')).toEqual(['prices/2023=c']);
    expect(view(r5)).toEqual(['trades/all=d']);
    expect(view()).toEqual(['trades/all=d']);
    // Via resolvePoint: the end of 2024-02-02 is after the rewrite, before the removal.
    expect(view(resolvePoint(log, '2024-02-02').seq)).toEqual(['prices/2023=c', 'prices/2024=b']);
    // The entry records where it was written; the history keeps every version with its range.
    expect(manifestAt(log, w2, 'prices').find((m) => m.partition === '2023')).toMatchObject({ writtenSeq: w2, writtenAt: '2024-02-02T10:00:00.000Z', rows: 10 });
    const history = manifestHistory(log).map((r) => [r.key, r.value.object[0], r.beginSeq, r.endSeq]);
    expect(history).toEqual([
      ['prices/2023', 'a', w1 - 1, w2],
      ['prices/2024', 'b', w1, r3],
      ['prices/2023', 'c', w2, r5],
      ['trades/all', 'd', w4, null],
    ]);
    expect(datasetsAt(log, w2)).toEqual([{ dataset: 'prices', partitions: 2, rows: 20, bytes: 200, lastWrittenAt: '2024-02-02T10:00:00.000Z' }]);
  });

  it('tagged and held points keep their objects live after rewrites', () => {
    const lease = acquireLease(log, 'dataset:prices', { ttlMs: MONTH });
    const w1 = appendAt('2024-02-01T10:00:00Z', [written('prices', 'all', OBJ('a'))], lease);
    log.append([tag('v1', w1)]);
    appendAt('2024-02-02T10:00:00Z', [written('prices', 'all', OBJ('b'))], lease);
    expect(liveObjects(log).map((m) => m.object[0]).sort()).toEqual(['a', 'b']);
    log.append([{ type: 'SnapshotDeleted', data: { tag: 'v1', reason: null } }]);
    expect(liveObjects(log).map((m) => m.object[0])).toEqual(['b']);
    log.append([{ type: 'RetentionRefAdded', data: { ref: 'keep-w1', target: { kind: 'seq', id: String(w1) }, reason: 'audit' } }]);
    expect(liveObjects(log).map((m) => m.object[0]).sort()).toEqual(['a', 'b']);
  });
});

describe('guards', () => {
  it('a duplicate tag is refused with TAG_EXISTS and nothing is written', () => {
    log.append([tag('v1', 1)]);
    const head = log.head().seq;
    const err = errorOf(() => log.append([tag('v1', 1)]));
    expect(err.code).toBe('TAG_EXISTS');
    expect(err.message).toContain('"v1"');
    // Also within one batch: the whole batch is refused.
    expect(errorOf(() => log.append([tag('v2', 1), tag('v2', 1)])).code).toBe('TAG_EXISTS');
    expect(log.head().seq).toBe(head);
    expect(tagsAt(log).map((t) => t.tag)).toEqual(['v1']);
  });

  it('a deleted tag can be created again', () => {
    log.append([tag('v1', 1)]);
    log.append([{ type: 'SnapshotDeleted', data: { tag: 'v1', reason: 'redo' } }]);
    log.append([tag('v1', 1)]);
    expect(tagsAt(log).map((t) => t.tag)).toEqual(['v1']);
  });

  it('deleting an unknown tag is refused with UNKNOWN_TAG', () => {
    expect(errorOf(() => log.append([{ type: 'SnapshotDeleted', data: { tag: 'nope', reason: null } }])).code).toBe('UNKNOWN_TAG');
  });

  it('deleting a tag held by a retention reference is refused until the reference is removed', () => {
    log.append([tag('paper-v1', 1)]);
    log.append([{ type: 'RetentionRefAdded', data: { ref: 'backtest-2024', target: { kind: 'tag', id: 'paper-v1' }, reason: 'published' } }]);
    const head = log.head().seq;
    const err = errorOf(() => log.append([{ type: 'SnapshotDeleted', data: { tag: 'paper-v1', reason: null } }]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('backtest-2024');
    expect(log.head().seq).toBe(head);
    expect(tagsAt(log).map((t) => t.tag)).toEqual(['paper-v1']);
    // A reference on another kind of target with the same id does not hold the tag...
    log.append([{ type: 'RetentionRefRemoved', data: { ref: 'backtest-2024' } }]);
    log.append([{ type: 'RetentionRefAdded', data: { ref: 'obj-ref', target: { kind: 'object', id: 'paper-v1' }, reason: 'x' } }]);
    expect(retentionRefs(log).map((r) => r.ref)).toEqual(['obj-ref']);
    // ...so now the tag can go.
    log.append([{ type: 'SnapshotDeleted', data: { tag: 'paper-v1', reason: null } }]);
    expect(tagsAt(log)).toEqual([]);
  });

  it.each(['../x', '..', 'a/b', '/etc/passwd', '.hidden', 'a\\b', '', 'x'.repeat(129), 'tag name'])(
    'refuses the tag name %j by schema (EVENT_INVALID)',
    (name) => {
      const head = log.head().seq;
      expect(errorOf(() => log.append([tag(name, 1)])).code).toBe('EVENT_INVALID');
      expect(errorOf(() => log.append([{ type: 'SnapshotDeleted', data: { tag: name, reason: null } }])).code).toBe('EVENT_INVALID');
      expect(errorOf(() => log.append([{ type: 'RetentionRefAdded', data: { ref: name, target: { kind: 'seq', id: '1' }, reason: 'x' } }])).code).toBe('EVENT_INVALID');
      expect(log.head().seq).toBe(head);
    },
  );

  it('refuses path traversal in partition keys and dataset names by schema', () => {
    const lease = acquireLease(log, 'dataset:prices', { ttlMs: MONTH });
    const head = log.head().seq;
    expect(errorOf(() => log.append([written('prices', '../../etc', OBJ('a'))], lease)).code).toBe('EVENT_INVALID');
    expect(errorOf(() => log.append([written('../prices', 'all', OBJ('a'))], lease)).code).toBe('EVENT_INVALID');
    expect(log.head().seq).toBe(head);
  });
});

describe('opening a warehouse', () => {
  it('refuses a directory without a log, and a second init', () => {
    expect(errorOf(() => openWarehouseLog(join(tmp.dir, 'elsewhere'))).code).toBe('NOT_A_WAREHOUSE');
    expect(errorOf(() => initWarehouse(dir, '0.0.0-test')).code).toBe('ALREADY_A_WAREHOUSE');
  });
});
