/**
 * Sync state comes from the sync-runs projection, not from bounded scans of the log's tail: a
 * warehouse whose log holds far more events than the old scan limits (10,000 SyncCompleted for
 * the vintage check, 5,000 sync events for `--status`, 200 lease events) still reports and
 * resumes correctly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { acquireLease, releaseLease, type EventDraft } from '../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { runWh } from '../support/wh-cli.js';
import { wrdsEnv } from '../support/sync-warehouse.js';
import { loadFixture } from './wrds-fixture.js';

let db: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('syncruns');
  await loadFixture(db.config);
  env = wrdsEnv(db.config);
});
afterAll(async () => {
  await db?.drop();
});

/** Append `runs` completed sync runs of `dataset` and `leaseChurn` acquire/release pairs, in big transactions. */
function crowdLog(dir: string, dataset: string, runs: number, leaseChurn: number): number {
  const log = openWarehouseLog(dir);
  try {
    const lease = acquireLease(log, `dataset:${dataset}`, { purpose: 'test filler' });
    for (let done = 0; done < runs; ) {
      const n = Math.min(2_000, runs - done);
      log.transaction((tx) => {
        const drafts: EventDraft[] = [];
        for (let i = 0; i < n; i++) {
          const runId = `filler-${done + i}`;
          drafts.push({ type: 'SyncStarted', data: { runId, dataset, source: 'crsp.dsf', vintage: '2024-02-08', comment: null, partitions: [], full: false } });
          drafts.push({ type: 'SyncCompleted', data: { runId, dataset, vintage: '2024-02-08', written: 0, unchanged: 0, skipped: 0, rows: 0, durationMs: 1 } });
        }
        tx.append(drafts, lease);
      });
      done += n;
    }
    releaseLease(log, lease);
    for (let i = 0; i < leaseChurn; i++) releaseLease(log, acquireLease(log, 'warehouse', { purpose: 'test churn' }));
    return log.head().seq;
  } finally {
    log.close();
  }
}

describe('sync state on a log longer than any scan limit', () => {
  it('wh sync --status, wh status, the vintage check (resume) and wh lease list stay right', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wh-syncruns-')), 'wh');
    initWarehouse(dir, 'test');
    const first = await runWh(['sync', 'crsp_msf', '--json'], { warehouse: dir, env });
    expect(first.code, first.stderr).toBe(0);

    const head = crowdLog(dir, 'crsp_dsf', 10_500, 250);
    expect(head).toBeGreaterThan(21_000);

    const status = await runWh(['sync', '--status', '--json'], { warehouse: dir });
    expect(status.code, status.stderr).toBe(0);
    const rows = status.json<{ dataset: string; lastRun: { outcome: string; vintage: string | null } | null; partitions: number }[]>();
    const msf = rows.find((r) => r.dataset === 'crsp_msf');
    expect(msf?.lastRun).toMatchObject({ outcome: 'completed', vintage: '2024-02-08' });
    expect(msf?.partitions).toBe(3);
    expect(rows.find((r) => r.dataset === 'crsp_dsf')?.lastRun?.outcome).toBe('completed');

    // The vintage is unchanged: the rerun must skip without writing a single event.
    const again = await runWh(['sync', 'crsp_msf', '--json'], { warehouse: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<{ status: string }[]>().map((r) => r.status)).toEqual(['unchanged']);
    const log = openWarehouseLog(dir, { readonly: true });
    expect(log.head().seq).toBe(head);
    log.close();

    const whStatus = await runWh(['status', '--json'], { warehouse: dir });
    expect(whStatus.code, whStatus.stderr).toBe(0);
    expect(JSON.stringify(whStatus.json())).toContain('crsp_msf');

    // A lease held now is listed, whatever the churn before it.
    const holder = openWarehouseLog(dir);
    const lease = acquireLease(holder, 'dataset:crsp_msf', { purpose: 'held by the test' });
    try {
      const leases = await runWh(['lease', 'list', '--json'], { warehouse: dir });
      expect(leases.code, leases.stderr).toBe(0);
      expect(leases.json()).toEqual([expect.objectContaining({ scope: 'dataset:crsp_msf', pid: process.pid, epoch: lease.epoch })]);
      const blocked = await runWh(['sync', 'crsp_msf', '--force'], { warehouse: dir, env });
      expect(blocked.code).toBe(2);
    } finally {
      releaseLease(holder, lease);
      holder.close();
    }
  });

  it('a warehouse created before the sync-runs projection gets it filled from its log on open', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wh-syncruns-old-')), 'wh');
    initWarehouse(dir, 'test');
    expect((await runWh(['sync', 'crsp_msf'], { warehouse: dir, env })).code).toBe(0);
    // Simulate an older wh: drop the projection's table; the next open rebuilds it from the log.
    const log = openWarehouseLog(dir);
    log.db.exec('DROP TABLE proj_sync_runs');
    log.close();
    const status = await runWh(['sync', '--status', '--json'], { warehouse: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json<{ dataset: string; lastRun: { outcome: string } }[]>().find((r) => r.dataset === 'crsp_msf')?.lastRun.outcome).toBe('completed');
  });
});
