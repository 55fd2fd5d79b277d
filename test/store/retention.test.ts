/**
 * Retention and gc of superseded versions: policy as events, what is collectable, the two-phase
 * apply (ObjectsCollected before unlink; a rerun finishes), and as-of reads of collected data.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type WarehouseError } from '../../src/log/index.js';
import { manifestAt, retentionState } from '../../src/projections/index.js';
import { applyRetention, objectPath, planRetention, verifyWarehouse } from '../../src/store/index.js';
import { openSession } from '../../src/query/index.js';
import { cleanupTempDirs } from '../support/wh-cli.js';
import { arrowAt, clockedWarehouse } from './retention-fixture.js';

afterAll(cleanupTempDirs);

const objectOf = (w: ReturnType<typeof clockedWarehouse>, seq?: number) => manifestAt(w.log, seq, 'prices')[0]!.object;

async function readError(w: ReturnType<typeof clockedWarehouse>, asOf: string): Promise<WarehouseError> {
  try {
    const s = await openSession(w.dir, w.log, { asOf });
    s.close();
  } catch (e) {
    if (isWarehouseError(e)) return e;
    throw e;
  }
  throw new Error(`reading as of ${asOf} did not fail`);
}

describe('retention', () => {
  it('collects superseded versions outside the window, keeps tags, holds and keep-last, and names the horizon', async () => {
    const w = clockedWarehouse();
    try {
      await w.ingest('prices', '2024', 1);
      const v1 = objectOf(w);
      const seqV1 = w.log.head().seq;
      w.advanceDays(1);
      await w.ingest('prices', '2024', 2);
      const v2 = objectOf(w);
      w.log.append([{ type: 'SnapshotTagged', data: { tag: 'paper-v1', seq: w.log.head().seq, note: null } }]);
      w.advanceDays(1);
      await w.ingest('prices', '2024', 3);
      const seqV3 = w.log.head().seq;
      w.advanceDays(1);
      await w.ingest('prices', '2024', 4);
      const v3 = manifestAt(w.log, seqV3, 'prices')[0]!.object;
      w.advanceDays(200);

      // No policy: nothing is collectable.
      expect(planRetention(w.log, w.dir).objects).toEqual([]);

      w.log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 90, keepLast: 1 } }]);
      expect(retentionState(w.log).policies.get('')?.keepDays).toBe(90);
      const plan = planRetention(w.log, w.dir);
      // v2 is tagged, v3 is the newest superseded version (keep-last 1), v4 is current.
      expect(plan.objects.map((o) => o.hash)).toEqual([v1]);
      expect(plan.unreadable).toEqual([expect.objectContaining({ dataset: 'prices', fromSeq: expect.any(Number) })]);
      expect(plan.unreadable[0]!.toSeq).toBeGreaterThan(seqV1);

      const tagged = await arrowAt(w.dir, w.log, 'paper-v1');
      const applied = await applyRetention(w.log, w.dir);
      expect(applied.unlinked).toBe(1);
      expect(existsSync(objectPath(w.dir, v1))).toBe(false);
      expect([v2, v3].every((h) => existsSync(objectPath(w.dir, h)))).toBe(true);
      const collected = w.log.read({ types: ['ObjectsCollected'] });
      expect(collected.at(-1)!.data).toMatchObject({ objects: [v1] });
      expect((await verifyWarehouse(w.dir, w.log, { record: false })).ok).toBe(true);
      expect(await arrowAt(w.dir, w.log, 'paper-v1')).toEqual(tagged);

      const err = await readError(w, String(seqV1));
      expect(err.code).toBe('DATA_COLLECTED');
      expect(err.message).toMatch(/prices as of seq \d+ was collected by the retention policy \(1 partition version\(s\) removed\); as-of reads are complete from seq \d+/);
      expect(err.suggestion).toContain('paper-v1');
      // A second plan finds nothing more.
      expect(planRetention(w.log, w.dir).objects).toEqual([]);
    } finally {
      w.close();
    }
  });

  it('a dataset policy overrides the default; young versions are kept', async () => {
    const w = clockedWarehouse();
    try {
      await w.ingest('prices', 'all', 1);
      await w.ingest('prices', 'all', 2);
      await w.ingest('factors', 'all', 11);
      await w.ingest('factors', 'all', 12);
      w.advanceDays(30);
      w.log.append([
        { type: 'RetentionPolicySet', data: { dataset: null, keepDays: 10, keepLast: 0 } },
        { type: 'RetentionPolicySet', data: { dataset: 'factors', keepDays: 3650, keepLast: 0 } },
      ]);
      const plan = planRetention(w.log, w.dir);
      expect(plan.objects.flatMap((o) => o.versions.map((v) => v.dataset))).toEqual(['prices']);
      w.log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 60, keepLast: null } }]);
      expect(planRetention(w.log, w.dir).objects).toEqual([]);
    } finally {
      w.close();
    }
  });

  it('keeps an object that a kept version elsewhere shares (identical bytes are one object)', async () => {
    const w = clockedWarehouse();
    try {
      await w.ingest('prices', 'all', 1);
      const shared = objectOf(w);
      await w.ingest('prices', 'all', 2);
      await w.ingest('factors', 'all', 1); // the same bytes: the same object, current in factors
      expect(manifestAt(w.log, undefined, 'factors')[0]!.object).toBe(shared);
      w.advanceDays(100);
      w.log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 90, keepLast: 0 } }]);
      expect(planRetention(w.log, w.dir).objects).toEqual([]);
      await applyRetention(w.log, w.dir);
      expect(existsSync(objectPath(w.dir, shared))).toBe(true);
    } finally {
      w.close();
    }
  });

  it('two phases: a crash after ObjectsCollected leaves nothing verify calls damage, and a rerun finishes', async () => {
    const w = clockedWarehouse();
    try {
      await w.ingest('prices', '2024', 1);
      const v1 = objectOf(w);
      await w.ingest('prices', '2024', 2);
      w.advanceDays(100);
      w.log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 90, keepLast: 0 } }]);
      await expect(
        applyRetention(w.log, w.dir, {
          onRecorded: () => {
            throw new Error('killed between the phases');
          },
        }),
      ).rejects.toThrow('killed');
      expect(w.log.read({ types: ['ObjectsCollected'] }).at(-1)!.data).toMatchObject({ objects: [v1] });
      expect(existsSync(objectPath(w.dir, v1))).toBe(true);
      expect((await verifyWarehouse(w.dir, w.log, { record: false })).ok).toBe(true);
      const plan = planRetention(w.log, w.dir);
      expect(plan.objects).toEqual([]);
      expect(plan.pending).toEqual([v1]);
      const before = w.log.read({ types: ['ObjectsCollected'] }).length;
      const rerun = await applyRetention(w.log, w.dir);
      expect(rerun.unlinked).toBe(1);
      expect(existsSync(objectPath(w.dir, v1))).toBe(false);
      expect(w.log.read({ types: ['ObjectsCollected'] }).length).toBe(before);
    } finally {
      w.close();
    }
  });

  it('an object collected and later written again (same bytes) is readable again', async () => {
    const w = clockedWarehouse();
    try {
      await w.ingest('prices', '2024', 1);
      const v1 = objectOf(w);
      await w.ingest('prices', '2024', 2);
      w.advanceDays(100);
      w.log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 90, keepLast: 0 } }]);
      await applyRetention(w.log, w.dir);
      expect(existsSync(objectPath(w.dir, v1))).toBe(false);
      await w.ingest('prices', '2024', 1);
      expect(objectOf(w)).toBe(v1);
      expect(existsSync(objectPath(w.dir, v1))).toBe(true);
      expect((await arrowAt(w.dir, w.log, 'head')).get('prices')!.length).toBeGreaterThan(0);
      expect(planRetention(w.log, w.dir).pending).toEqual([]);
    } finally {
      w.close();
    }
  });
});
