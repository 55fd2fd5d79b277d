/**
 * Fault injection on the write path: `ingestFile`'s `onStep` hook throws after each durable step
 * (temp written, temp fsynced, renamed, directory fsynced), and the fenced log append is made to
 * fail (lease broken, taken over, or expired before the commit). After each fault: no partial
 * object is visible, verify is clean, the manifest is exactly the previous one, gc finds exactly
 * the leftover it should and removes it, and a rerun completes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireLease,
  breakLease,
  currentLeases,
  isLeaseHeldError,
  isLeaseLostError,
  releaseLease,
  type EventLog,
  type Lease,
} from '../../src/log/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { schemaOf } from '../../src/projections/index.js';
import { runQuery } from '../../src/query/index.js';
import { applyGc, planGc, verifyWarehouse, writeSteps, type StepHook, type WriteStep } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';
import { manifestState, namedObjectProblems, newWarehouse, sha256, storeProblems, typesAfter, writeCsv } from './crash-invariants.js';

let files: string;
const base = (): string => join(files, 'base.csv');
const next = (): string => join(files, 'next.csv');

beforeAll(() => {
  files = tempDir('wh-crash-files-');
  writeCsv(base(), 2_000, 1);
  writeCsv(next(), 3_000, 2);
});
afterAll(cleanupTempDirs);

const open: EventLog[] = [];
afterEach(() => {
  for (const l of open.splice(0)) l.close();
});

/** A warehouse holding prices/2023 (from base.csv), and its log. */
async function seeded(clock?: () => number): Promise<{ dir: string; log: EventLog }> {
  const dir = newWarehouse();
  const log = openWarehouseLog(dir, clock === undefined ? {} : { clock });
  open.push(log);
  const r = await ingestFile({ dir, log, dataset: 'prices', partition: '2023', file: base(), key: ['id'], whVersion: 'test' });
  expect(r.status).toBe('written');
  return { dir, log };
}

function ingestNext(dir: string, log: EventLog, onStep?: StepHook, extra: { leaseTtlMs?: number } = {}) {
  return ingestFile({ dir, log, dataset: 'prices', partition: '2024', file: next(), key: ['id'], whVersion: 'test', onStep, ...extra });
}

async function rowCount(dir: string, log: EventLog): Promise<number> {
  const r = await runQuery(dir, log, 'SELECT count(*) AS n FROM prices');
  return Number(r.rows[0]!['n']);
}

/** The invariants every fault must keep. */
async function expectIntact(dir: string, log: EventLog, before: ReturnType<typeof manifestState>): Promise<void> {
  expect(manifestState(log)).toEqual(before);
  expect(storeProblems(dir)).toEqual([]);
  expect(namedObjectProblems(dir, log)).toEqual([]);
  const report = await verifyWarehouse(dir, log, { record: false });
  expect(report).toMatchObject({ ok: true, chain: [], damaged: [] });
  expect(await rowCount(dir, log)).toBe(2_000);
}

/** Rerun the failed ingest: it must complete and the new partition must be readable. */
async function expectRerunCompletes(dir: string, log: EventLog, expectedStatus: 'written' = 'written'): Promise<string> {
  const r = await ingestNext(dir, log);
  expect(r.status).toBe(expectedStatus);
  expect(manifestState(log).map((m) => m.key)).toEqual(['prices/2023', 'prices/2024']);
  expect(await rowCount(dir, log)).toBe(5_000);
  expect((await verifyWarehouse(dir, log)).ok).toBe(true);
  expect(currentLeases(log)).toEqual([]);
  return r.entry.object;
}

describe('a crash injected after each step of the object write', () => {
  it('visits exactly the four documented steps, in order, on a clean write', async () => {
    const { dir, log } = await seeded();
    const seen: WriteStep[] = [];
    await ingestNext(dir, log, (step) => void seen.push(step));
    expect(seen).toEqual(['temp-written', 'temp-fsynced', 'renamed', 'dir-fsynced']);
    expect(seen).toEqual([...writeSteps]);
  });

  it.each(writeSteps)('after %s: previous state intact, gc cleans up, rerun completes', async (step) => {
    const { dir, log } = await seeded();
    const before = manifestState(log);
    const seq = log.head().seq;
    let info: { tmpPath: string; finalPath?: string } | undefined;
    let tmpExistedAtStep = false;
    const hook: StepHook = (s, i) => {
      if (s !== step) return;
      info = i;
      tmpExistedAtStep = existsSync(i.tmpPath);
      throw new Error(`injected crash after ${step}`);
    };
    await expect(ingestNext(dir, log, hook)).rejects.toThrow(`injected crash after ${step}`);
    expect(info).toBeDefined();

    // Only the lease came and went: no schema, no partition, no quarantine entry.
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'LeaseReleased']);
    expect(currentLeases(log)).toEqual([]);
    await expectIntact(dir, log, before);

    const plan = planGc(dir, log);
    if (step === 'temp-written' || step === 'temp-fsynced') {
      // The temporary existed when the fault hit; the write path removed it and nothing reached objects/.
      expect(tmpExistedAtStep).toBe(true);
      expect(existsSync(info!.tmpPath)).toBe(false);
      expect(info!.finalPath).toBeUndefined();
      expect(plan).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
    } else {
      // The object is complete at its final path, but no event names it: an orphan only gc sees.
      const finalPath = info!.finalPath!;
      expect(existsSync(info!.tmpPath)).toBe(false);
      expect(existsSync(finalPath)).toBe(true);
      const hash = sha256(finalPath);
      expect(finalPath.endsWith(`${hash}.parquet`)).toBe(true);
      expect(plan.orphans.map((o) => o.hash)).toEqual([hash]);
      expect(plan.temporaries).toEqual([]);
      expect(plan.bytes).toBeGreaterThan(0);

      const seqBeforeGc = log.head().seq;
      const applied = await applyGc(dir, log);
      expect(applied.orphans.map((o) => o.hash)).toEqual([hash]);
      expect(existsSync(finalPath)).toBe(false);
      const collected = log.read({ fromSeq: seqBeforeGc + 1, types: ['ObjectsCollected'] });
      expect(collected.map((e) => e.data)).toEqual([{ objects: [hash], bytes: plan.bytes, temporaries: 0 }]);
      expect(planGc(dir, log)).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
      await expectIntact(dir, log, before);
    }
    await expectRerunCompletes(dir, log);
  });

  it('a rerun after a crash between rename and commit adopts the orphan instead of duplicating it', async () => {
    const { dir, log } = await seeded();
    let finalPath = '';
    await expect(
      ingestNext(dir, log, (s, i) => {
        if (s === 'renamed') {
          finalPath = i.finalPath!;
          throw new Error('injected crash');
        }
      }),
    ).rejects.toThrow('injected crash');
    expect(planGc(dir, log).orphans).toHaveLength(1);
    const object = await expectRerunCompletes(dir, log);
    expect(finalPath.endsWith(`${object}.parquet`)).toBe(true);
    expect(planGc(dir, log)).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
  });

  it('a first write of a dataset that crashes registers no schema', async () => {
    const dir = newWarehouse();
    const log = openWarehouseLog(dir);
    open.push(log);
    await expect(
      ingestFile({ dir, log, dataset: 'fresh', partition: 'all', file: base(), key: ['id'], whVersion: 'test', onStep: (s) => {
        if (s === 'dir-fsynced') throw new Error('injected crash');
      } }),
    ).rejects.toThrow('injected crash');
    expect(schemaOf(log, 'fresh')).toBeUndefined();
    expect(manifestState(log)).toEqual([]);
    expect(planGc(dir, log).orphans).toHaveLength(1);
  });
});

describe('the fenced log append fails after the object is written', () => {
  it('lease broken by an operator (second handle) before the commit: LeaseLostError, nothing recorded', async () => {
    const { dir, log } = await seeded();
    const before = manifestState(log);
    const seq = log.head().seq;
    let finalPath = '';
    const err = await ingestNext(dir, log, (s, i) => {
      if (s !== 'dir-fsynced') return;
      finalPath = i.finalPath!;
      const other = openWarehouseLog(dir);
      try {
        breakLease(other, 'dataset:prices', 'operator test');
      } finally {
        other.close();
      }
    }).catch((e: unknown) => e);
    expect(isLeaseLostError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'LEASE_LOST', message: expect.stringMatching(/no lease is held on this scope/) });
    // The broken lease is not released again, and no write event got in.
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'LeaseBroken']);
    expect(currentLeases(log)).toEqual([]);
    await expectIntact(dir, log, before);

    const plan = planGc(dir, log);
    expect(plan.orphans.map((o) => o.path)).toEqual([finalPath]);
    await applyGc(dir, log);
    expect(existsSync(finalPath)).toBe(false);
    await expectRerunCompletes(dir, log);
  });

  it('lease taken over by another writer before the commit: LeaseLostError; rerun waits for the new holder', async () => {
    const { dir, log } = await seeded();
    const before = manifestState(log);
    const other = openWarehouseLog(dir);
    open.push(other);
    let takeover: Lease | undefined;
    const err = await ingestNext(dir, log, (s) => {
      if (s !== 'renamed') return;
      breakLease(other, 'dataset:prices', 'takeover test');
      takeover = acquireLease(other, 'dataset:prices', { purpose: 'takeover' });
    }).catch((e: unknown) => e);
    expect(isLeaseLostError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`epoch ${takeover!.epoch} now holds it`));
    await expectIntact(dir, log, before);

    // While the other writer holds the lease, a rerun is refused with LEASE_HELD naming it.
    const held = await ingestNext(dir, log).catch((e: unknown) => e);
    expect(isLeaseHeldError(held)).toBe(true);
    expect((held as Error).message).toContain(other.processIdentity.writerId);
    expect(manifestState(log)).toEqual(before);

    expect(releaseLease(other, takeover!)).toBe(true);
    const orphan = planGc(dir, log).orphans;
    expect(orphan).toHaveLength(1);
    const object = await expectRerunCompletes(dir, log);
    expect(orphan[0]!.hash).toBe(object);
  });

  it('lease expired before the commit (injected clock, no sleeping): LeaseLostError, nothing recorded', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { dir, log } = await seeded(() => now);
    const before = manifestState(log);
    const err = await ingestNext(
      dir,
      log,
      (s) => {
        if (s === 'temp-fsynced') now += 61_000;
      },
      { leaseTtlMs: 60_000 },
    ).catch((e: unknown) => e);
    expect(isLeaseLostError(err)).toBe(true);
    expect((err as Error).message).toMatch(/expired at 2030-01-01T00:01:00/);
    await expectIntact(dir, log, before);
    expect(log.read({ types: ['PartitionWritten'] })).toHaveLength(1);
    await applyGc(dir, log);
    await expectRerunCompletes(dir, log);
  });
});
