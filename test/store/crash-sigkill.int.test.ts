/**
 * Real crashes: `wh ingest` child processes are SIGKILLed at random moments (a seeded fast-check
 * plan; the seed is in every failure message; rerun one with WH_CRASH_SEED=<seed>). Half the kills
 * are timed from the start of the process, half from the moment its temporary object appears
 * under tmp/, so many land mid-write. After each kill: verify is clean, no partial object is
 * visible, the state is exactly the one before or the one after, gc finds only what a crash can
 * leave, a rerun completes (recovering the dead writer's lease) with the expected outcome; at the
 * end `wh gc --apply` leaves nothing behind and `wh audit --verify` and `wh rebuild` pass.
 */
import { appendFileSync, copyFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLeases } from '../../src/log/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { applyGc, planGc, verifyWarehouse } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { cleanupTempDirs, ensureBuilt, runWh, spawnWh, tempDir } from '../support/wh-cli.js';
import { namedObjectProblems, newWarehouse, sha256, storeProblems, writeCsv } from './crash-invariants.js';

beforeAll(ensureBuilt);
afterAll(cleanupTempDirs);

const ROWS = 30_000;
const RUNS = 16;
const SEED = Number(process.env['WH_CRASH_SEED'] ?? 20_240_607);

interface Kill {
  /** 'start': delay from spawn; 'tmp': delay from the temporary object appearing. */
  readonly trigger: 'start' | 'tmp';
  /** Fraction of the measured phase length to wait before SIGKILL. */
  readonly at: number;
}

/** Spawn an ingest, SIGKILL it per `kill`; resolves once the child is gone. */
async function killedIngest(dir: string, file: string, kill: Kill, fullMs: number): Promise<{ exited: boolean; tmpSeen: boolean; code: number | null; stderr: string }> {
  const p = spawnWh(['ingest', 'big', file, '--partition', 'all', '--key', 'id', '--json'], { warehouse: dir });
  let tmpSeen = false;
  let timer: NodeJS.Timeout | undefined;
  const fire = (ms: number) => {
    timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  };
  const watcher = watch(warehousePaths(dir).tmp, (_e, name) => {
    if (tmpSeen || name === null || !name.endsWith('.parquet')) return;
    tmpSeen = true;
    // The object write and commit take a few percent of the run: aim inside or just past them.
    if (kill.trigger === 'tmp') fire(Math.round(kill.at * 0.12 * fullMs));
  });
  if (kill.trigger === 'start') fire(Math.round(kill.at * 1.1 * fullMs));
  const r = await p.result;
  clearTimeout(timer);
  watcher.close();
  return { exited: r.signal === null, tmpSeen, code: r.code, stderr: r.stderr };
}

describe('SIGKILL of a real `wh ingest` at random moments', () => {
  it(`state is before or after, verify clean, rerun completes (${RUNS} runs, seed ${SEED})`, async () => {
    const files = tempDir('wh-sigkill-files-');
    const dir = newWarehouse('wh-sigkill-');

    // Every run ingests different content (one distinct extra row), so each has its own object.
    const body = writeCsv(join(files, 'body.csv'), ROWS - 1, 7);
    const variant = (n: number): string => {
      const f = join(files, `run-${n}.csv`);
      copyFileSync(body, f);
      appendFileSync(f, `${ROWS - 1 + n * 1000},${n},0.5,run${n}\n`);
      return f;
    };
    const first = variant(999);
    // Baseline: one uninterrupted run, to measure how long an ingest takes here.
    const t0 = Date.now();
    const base = await runWh(['ingest', 'big', first, '--partition', 'all', '--key', 'id', '--json'], { warehouse: dir });
    const fullMs = Date.now() - t0;
    expect(base.code, base.stderr).toBe(0);

    const plan = fc.sample(
      fc.noBias(fc.record({ trigger: fc.constantFrom<'start' | 'tmp'>('start', 'tmp'), at: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000) })),
      { seed: SEED, numRuns: RUNS },
    );
    // Pin the two extremes so both outcomes are always exercised: killed before it could do
    // anything, and killed the instant its temporary appeared (mid-write by construction).
    plan[0] = { trigger: 'start', at: 0 };
    plan[1] = { trigger: 'tmp', at: 0 };

    const outcomes: string[] = [];
    for (const [i, kill] of plan.entries()) {
      const ctx = `run ${i} (seed ${SEED}, kill ${JSON.stringify(kill)}, full run ${fullMs} ms)`;
      const file = variant(i);
      const fileHash = sha256(file);

      let log = openWarehouseLog(dir);
      const before = manifestAt(log, undefined, 'big')[0]!;
      log.close();

      const { exited, tmpSeen, code, stderr } = await killedIngest(dir, file, kill, fullMs);
      // A run the kill came too late for must have completed cleanly.
      if (exited) expect(code, `${ctx}: ${stderr}`).toBe(0);

      log = openWarehouseLog(dir);
      try {
        // No partial object visible; every named object intact; hash chain intact.
        expect(storeProblems(dir), ctx).toEqual([]);
        expect(namedObjectProblems(dir, log), ctx).toEqual([]);
        const report = await verifyWarehouse(dir, log);
        expect(report.ok, `${ctx}: ${JSON.stringify(report)}`).toBe(true);

        // State is exactly before or exactly after.
        const now = manifestAt(log, undefined, 'big')[0]!;
        const written = log.get(now.writtenSeq);
        const isBefore = now.writtenSeq === before.writtenSeq && now.object === before.object;
        const isAfter = !isBefore && written?.type === 'PartitionWritten' && written.data.lineage.sourceHash === fileHash && now.rows === ROWS;
        expect(isBefore || isAfter, `${ctx}: state ${JSON.stringify(now)}`).toBe(true);
        if (exited) expect(isAfter, `${ctx}: exited cleanly without committing`).toBe(true);

        // Only the leftovers a crash can make: temporaries, or the would-be object when not committed.
        const gc = planGc(dir, log);
        if (isAfter) expect(gc.orphans, ctx).toEqual([]);
        expect(gc.orphans.length, ctx).toBeLessThanOrEqual(1);
        const leases = currentLeases(log);
        expect(leases.every((l) => l.scope === 'dataset:big'), ctx).toBe(true);
        outcomes.push(`${isBefore ? 'before' : 'after'}${tmpSeen ? '+tmp' : ''}${gc.temporaries.length + gc.orphans.length > 0 ? '+leftover' : ''}${leases.length > 0 ? '+stale-lease' : ''}${exited ? '+exited' : ''}`);

        // Rerun (this process; the killed pid is dead, so its lease is stale and is broken).
        const seq = log.head().seq;
        const rerun = await ingestFile({ dir, log, dataset: 'big', partition: 'all', file, key: ['id'], whVersion: 'test' });
        expect(rerun.status, ctx).toBe(isBefore ? 'written' : 'unchanged');
        if (isAfter) expect(rerun.entry.object, ctx).toBe(now.object);
        // An orphan the killed writer left is its complete object: exactly what the rerun commits.
        if (gc.orphans.length === 1) expect(rerun.entry.object, ctx).toBe(gc.orphans[0]!.hash);
        const broken = log.read({ fromSeq: seq + 1, types: ['LeaseBroken'] });
        expect(broken.length, ctx).toBe(leases.length);
        for (const b of broken) expect(b.type === 'LeaseBroken' && b.data.reason, ctx).toMatch(/stale: holder pid \d+ .* is dead/);
        const after = manifestAt(log, undefined, 'big')[0]!;
        expect(log.get(after.writtenSeq)?.type === 'PartitionWritten' && (log.get(after.writtenSeq) as { data: { lineage: { sourceHash: string } } }).data.lineage.sourceHash, ctx).toBe(fileHash);
        expect(currentLeases(log), ctx).toEqual([]);

        // After the rerun nothing it wrote is an orphan; gc removes only crash leftovers.
        await applyGc(dir, log);
        expect(planGc(dir, log), ctx).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
      } finally {
        log.close();
      }
    }

    expect(outcomes.some((o) => o.startsWith('before')), outcomes.join(', ')).toBe(true);
    expect(outcomes.some((o) => o.includes('leftover')), outcomes.join(', ')).toBe(true);

    // The CLI agrees: nothing left to collect, everything verifies, projections equal the fold.
    const gc = await runWh(['gc', '--apply', '--json'], { warehouse: dir });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.json()).toMatchObject({ applied: true, orphans: [], temporaries: [] });
    const audit = await runWh(['audit', '--verify', '--json'], { warehouse: dir });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.json()).toMatchObject({ ok: true, chain: [], damaged: [] });
    const rebuild = await runWh(['rebuild', '--json'], { warehouse: dir });
    expect(rebuild.code, rebuild.stdout).toBe(0);
    const q = await runWh(['query', 'SELECT count(*) AS n FROM big', '--json'], { warehouse: dir });
    expect(q.json()).toEqual([{ n: ROWS }]);
    console.info(`sigkill outcomes (seed ${SEED}): ${outcomes.join(', ')}`);
  });
});
