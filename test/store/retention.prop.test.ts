/**
 * Property (issue 12): for any sequence of ingests, tags, holds, policy changes and gcs, every
 * tagged or held point reads back byte-identical Arrow, nothing reachable is deleted, and the
 * plan equals what apply removes.
 */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { liveObjects, manifestHistory } from '../../src/projections/index.js';
import { applyRetention, objectPath, planRetention, verifyWarehouse } from '../../src/store/index.js';
import { cleanupTempDirs } from '../support/wh-cli.js';
import { arrowAt, clockedWarehouse } from './retention-fixture.js';

afterAll(cleanupTempDirs);

type Cmd =
  | { k: 'ingest'; dataset: 'a' | 'b'; partition: 'p1' | 'p2'; seed: number }
  | { k: 'tag' }
  | { k: 'hold' }
  | { k: 'days'; n: number }
  | { k: 'policy'; dataset: 'a' | null; keepDays: number; keepLast: number }
  | { k: 'gc' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('ingest' as const), dataset: fc.constantFrom('a' as const, 'b' as const), partition: fc.constantFrom('p1' as const, 'p1' as const, 'p2' as const), seed: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'tag' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'hold' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('days' as const), n: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('policy' as const), dataset: fc.constantFrom('a' as const, null), keepDays: fc.integer({ min: 0, max: 40 }), keepLast: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.constant({ k: 'gc' as const }) },
);

describe('retention gc (property)', () => {
  it('keeps every tagged and held point byte-identical and removes exactly the plan', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 6, maxLength: 16 }), async (cmds) => {
        const w = clockedWarehouse('wh-retprop-');
        const kept = new Map<string, Map<string, Buffer>>();
        let n = 0;
        try {
          for (const c of cmds) {
            switch (c.k) {
              case 'ingest':
                await w.ingest(c.dataset, c.partition, c.seed + (c.dataset === 'a' ? 0 : 100), 20);
                break;
              case 'tag': {
                const tag = `t${n++}`;
                w.log.append([{ type: 'SnapshotTagged', data: { tag, seq: w.log.head().seq, note: null } }]);
                kept.set(tag, await arrowAt(w.dir, w.log, tag));
                break;
              }
              case 'hold': {
                const seq = w.log.head().seq;
                w.log.append([{ type: 'RetentionRefAdded', data: { ref: `h${n++}`, target: { kind: 'seq', id: String(seq) }, reason: 'test' } }]);
                kept.set(String(seq), await arrowAt(w.dir, w.log, String(seq)));
                break;
              }
              case 'days':
                w.advanceDays(c.n);
                break;
              case 'policy':
                w.log.append([{ type: 'RetentionPolicySet', data: { dataset: c.dataset, keepDays: c.keepDays, keepLast: c.keepLast } }]);
                break;
              case 'gc': {
                const plan = planRetention(w.log, w.dir);
                const named = [...new Set(manifestHistory(w.log).map((r) => r.value.object))];
                const before = new Set(named.filter((h) => existsSync(objectPath(w.dir, h))));
                await applyRetention(w.log, w.dir);
                const removed = [...before].filter((h) => !existsSync(objectPath(w.dir, h))).sort();
                expect(removed).toEqual([...plan.objects.map((o) => o.hash), ...plan.pending].sort());
                for (const m of liveObjects(w.log)) expect(existsSync(objectPath(w.dir, m.object)), `live ${m.dataset}/${m.partition}`).toBe(true);
                expect((await verifyWarehouse(w.dir, w.log, { record: false })).ok).toBe(true);
                for (const [point, bytes] of kept) expect(await arrowAt(w.dir, w.log, point)).toEqual(bytes);
                break;
              }
            }
          }
          // Head is always readable.
          await arrowAt(w.dir, w.log, 'head');
        } finally {
          w.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 240_000);
});
