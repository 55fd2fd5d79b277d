import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { EventLog, GENESIS_HASH, eventHash, type EventDraft } from '../../src/log/index.js';
import { ISO_MAX, appendDraft, createManualClock, draftOf, eventDraftArb, liveLocalIdentity, makeTempDir } from '../support/arbitraries.js';

/** Later than every time an arbitrary lease draft names, so such leases are expired and get broken. */
const T0 = ISO_MAX + 86_400_000;

/** Append `drafts` to a fresh log, run `fn` on it, and clean up. */
function withLog<T>(drafts: readonly EventDraft[], fn: (log: EventLog) => T): T {
  const tmp = makeTempDir('wh-chain-');
  const clock = createManualClock(T0);
  const log = EventLog.open(join(tmp.dir, 'wh.log'), { create: true, clock, identity: liveLocalIdentity('chain-writer') });
  try {
    for (const d of drafts) {
      appendDraft(log, d);
      clock.advance(7);
    }
    return fn(log);
  } finally {
    log.close();
    tmp.dispose();
  }
}

function dropTriggers(log: EventLog): void {
  log.db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; DROP TRIGGER events_dense;');
}

const firstProblemSeq = (log: EventLog): number | undefined => {
  const report = log.verifyChain();
  expect(report.ok).toBe(false);
  return report.problems.length === 0 ? undefined : Math.min(...report.problems.map((p) => p.seq));
};

const draftsArb = fc.array(eventDraftArb, { minLength: 2, maxLength: 12 });

/** A log of drafts and a position `k` in 1..head (head is only known after the lease events are added). */
const logAndPick = draftsArb.chain((drafts) => fc.record({ drafts: fc.constant(drafts), pick: fc.nat() }));

interface Row {
  seq: number;
  time_ms: number;
  type: string;
  version: number;
  data: string;
  actor: string;
  lease_scope: string | null;
  lease_epoch: number | null;
  prev_hash: string;
  hash: string;
}

describe('hash chain', () => {
  it('verifies for any appended sequence, and every hash is sha256(prev || canonical(event))', () => {
    fc.assert(
      fc.property(draftsArb, (drafts) =>
        withLog(drafts, (log) => {
          const report = log.verifyChain();
          expect(report.problems).toEqual([]);
          expect(report.ok).toBe(true);
          const events = log.read();
          expect(report.events).toBe(events.length);
          expect(report.headHash).toBe(log.head().hash);
          let prev = GENESIS_HASH;
          for (const e of events) {
            expect(e.prevHash).toBe(prev);
            expect(e.hash).toBe(eventHash(prev, e));
            prev = e.hash;
          }
        }),
      ),
      { numRuns: 60 },
    );
  });

  const tamperings: [string, (log: EventLog, k: number) => void][] = [
    ['data changed', (log, k) => log.db.exec(`UPDATE events SET data = json_set(data, '$.tampered', 1) WHERE seq = ${k}`)],
    ['time changed', (log, k) => log.db.exec(`UPDATE events SET time_ms = time_ms - 3 WHERE seq = ${k}`)],
    [
      'type changed',
      (log, k) =>
        log.db.exec(
          `UPDATE events SET type = CASE type WHEN 'ChecksumVerified' THEN 'ChecksumMismatch' ELSE 'ChecksumVerified' END WHERE seq = ${k}`,
        ),
    ],
    ['actor changed', (log, k) => log.db.exec(`UPDATE events SET actor = json_set(actor, '$.writerId', 'mallory') WHERE seq = ${k}`)],
    ['version changed', (log, k) => log.db.exec(`UPDATE events SET version = version + 1 WHERE seq = ${k}`)],
  ];

  it.each(tamperings)('detects a single modified event (%s) at its seq', (_, tamper) => {
    fc.assert(
      fc.property(logAndPick, ({ drafts, pick }) =>
        withLog(drafts, (log) => {
          const k = 1 + (pick % log.head().seq);
          dropTriggers(log);
          tamper(log, k);
          expect(firstProblemSeq(log)).toBe(k);
        }),
      ),
      { numRuns: 25 },
    );
  });

  it('detects a removed event at the seq after it', () => {
    fc.assert(
      fc.property(logAndPick, ({ drafts, pick }) =>
        withLog(drafts, (log) => {
          // Removing the newest event leaves a valid (shorter) chain: only an external anchor of
          // the head hash can tell. Every other removal breaks the chain at the next seq.
          const k = 1 + (pick % (log.head().seq - 1));
          dropTriggers(log);
          log.db.exec(`DELETE FROM events WHERE seq = ${k}`);
          const report = log.verifyChain();
          expect(report.ok).toBe(false);
          expect(Math.min(...report.problems.map((p) => p.seq))).toBe(k + 1);
          expect(report.problems.some((p) => p.seq === k + 1 && /missing/.test(p.problem))).toBe(true);
        }),
      ),
      { numRuns: 40 },
    );
  });

  it('detects a swapped pair of events at the first of the two', () => {
    fc.assert(
      fc.property(logAndPick, ({ drafts, pick }) =>
        withLog(drafts, (log) => {
          const k = 1 + (pick % (log.head().seq - 1));
          const a = log.db.prepare('SELECT * FROM events WHERE seq = ?').get<Row>(k)!;
          const b = log.db.prepare('SELECT * FROM events WHERE seq = ?').get<Row>(k + 1)!;
          dropTriggers(log);
          const put = log.db.prepare(
            'UPDATE events SET time_ms = ?, type = ?, version = ?, data = ?, actor = ?, lease_scope = ?, lease_epoch = ?, prev_hash = ?, hash = ? WHERE seq = ?',
          );
          const swapInto = (seq: number, r: Row) =>
            put.run(r.time_ms, r.type, r.version, r.data, r.actor, r.lease_scope, r.lease_epoch, r.prev_hash, r.hash, seq);
          swapInto(k, b);
          swapInto(k + 1, a);
          expect(firstProblemSeq(log)).toBe(k);
        }),
      ),
      { numRuns: 40 },
    );
  });

  it('detects an event re-inserted with a recomputed hash by the break at the next seq', () => {
    fc.assert(
      fc.property(logAndPick, ({ drafts, pick }) =>
        withLog(drafts, (log) => {
          const k = 1 + (pick % (log.head().seq - 1));
          const r = log.db.prepare('SELECT * FROM events WHERE seq = ?').get<Row>(k)!;
          dropTriggers(log);
          // A careful forger rewrites the data and recomputes this event's hash...
          const data = { ...(JSON.parse(r.data) as Record<string, unknown>), forged: true };
          const lease = r.lease_scope === null ? null : { scope: r.lease_scope, epoch: r.lease_epoch ?? 0 };
          const hash = eventHash(r.prev_hash, { seq: k, time: r.time_ms, type: r.type, version: r.version, data, actor: JSON.parse(r.actor), lease });
          log.db.prepare('UPDATE events SET data = ?, hash = ? WHERE seq = ?').run(JSON.stringify(data), hash, k);
          // ...but the next event still links to the old hash.
          expect(firstProblemSeq(log)).toBe(k + 1);
        }),
      ),
      { numRuns: 25 },
    );
  });
});

describe('serialize / parse round trip', () => {
  it('every appended draft reads back equal (get, read and after reopen)', () => {
    fc.assert(
      fc.property(fc.array(eventDraftArb, { minLength: 1, maxLength: 15 }), (drafts) => {
        const tmp = makeTempDir('wh-rt-');
        const path = join(tmp.dir, 'wh.log');
        const clock = createManualClock(T0);
        let log = EventLog.open(path, { create: true, clock, identity: liveLocalIdentity('rt') });
        try {
          const appended = drafts.map((d) => appendDraft(log, d));
          for (const [i, e] of appended.entries()) {
            expect(draftOf(e)).toEqual(drafts[i]);
            expect(draftOf(log.get(e.seq)!)).toEqual(drafts[i]);
          }
          const before = log.read();
          log.close();
          log = EventLog.open(path, { readonly: true });
          expect(log.read()).toEqual(before);
          expect(log.verifyChain().ok).toBe(true);
        } finally {
          log.close();
          tmp.dispose();
        }
      }),
      { numRuns: 80 },
    );
  });
});
