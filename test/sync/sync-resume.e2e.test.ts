/**
 * A `wh sync` killed with SIGKILL at random moments resumes where it stopped and ends with exactly
 * the objects an uninterrupted sync writes; `audit --verify` is clean after every kill.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { planGc, verifyWarehouse } from '../../src/store/index.js';
import { acquireLease, releaseLease } from '../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { runWh, spawnWh } from '../support/wh-cli.js';
import { manifestObjects, newSyncWarehouse, wrdsEnv } from '../support/sync-warehouse.js';
import { loadFixture } from './wrds-fixture.js';

let db: TestDatabase;
let env: Record<string, string>;
const DATASETS = ['crsp_msf', 'crsp_dsi'];

beforeAll(async () => {
  db = await createTestDatabase('resume');
  await loadFixture(db.config);
  env = wrdsEnv(db.config);
});
afterAll(async () => {
  await db?.drop();
});



describe('wh sync under SIGKILL', () => {
  it('resumes after kills at random moments and ends with the objects of an uninterrupted sync', async () => {
    const reference = newSyncWarehouse('wh-resume-');
    const ref = await runWh(['sync', ...DATASETS, '--json'], { warehouse: reference, env });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = manifestObjects(reference);
    expect(Object.keys(expected).sort()).toEqual(['crsp_dsi/2021', 'crsp_dsi/2022', 'crsp_dsi/2023', 'crsp_msf/2021', 'crsp_msf/2022', 'crsp_msf/2023']);

    // Each round: a fresh warehouse, a sync killed after a random number of committed partitions
    // (plus a random delay, so kills land mid-transfer, mid-write and between commits), a second
    // killed run in some rounds, then a run to completion. A seeded PRNG makes rounds repeatable.
    let seed = 20261122;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    let dir = '';
    for (let round = 0; round < 4; round++) {
      dir = newSyncWarehouse('wh-resume-');
      for (let attempt = 0; attempt < (round % 2 === 0 ? 1 : 2); attempt++) {
        const p = spawnWh(['sync', ...DATASETS], { warehouse: dir, env });
        const after = Math.floor(rand() * 5);
        const delay = Math.floor(rand() * 120);
        let seen = 0;
        p.child.stderr!.on('data', (d: Buffer) => {
          seen += (d.toString().match(/"msg":"partition"/g) ?? []).length;
          if (seen >= after) setTimeout(() => p.child.kill('SIGKILL'), delay);
        });
        if (after === 0) setTimeout(() => p.child.kill('SIGKILL'), 400 + delay);
        const r = await p.result;
        if (r.signal === 'SIGKILL') kills += 1;
        else expect(r.code, r.stderr).toBe(0);
        // After every run, killed or not: nothing partial is visible and the chain is intact.
        const log = openWarehouseLog(dir);
        try {
          const report = await verifyWarehouse(dir, log, { record: false });
          expect(report.ok, JSON.stringify(report)).toBe(true);
          for (const m of manifestAt(log)) expect(m.object).toBe(expected[`${m.dataset}/${m.partition}`]);
        } finally {
          log.close();
        }
      }
      // The run to completion takes over the killed holders' leases (their pids are dead).
      const last = await runWh(['sync', ...DATASETS, '--json'], { warehouse: dir, env });
      expect(last.code, last.stderr).toBe(0);
      expect(manifestObjects(dir)).toEqual(expected);
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    // Stale leases a resumed run took over are reported as stale_lock alerts (a run killed right
    // after the takeover may not get to report it, hence <=).
    const audit = openWarehouseLog(dir, { readonly: true });
    const staleBreaks = audit.read({ types: ['LeaseBroken'] }).filter((e) => e.type === 'LeaseBroken' && e.data.reason.startsWith('stale'));
    const staleAlerts = audit.read({ types: ['SyncAlert'] }).filter((e) => e.type === 'SyncAlert' && e.data.alert === 'stale_lock');
    expect(staleAlerts.length).toBeLessThanOrEqual(staleBreaks.length);
    for (const a of staleAlerts) expect(a.type === 'SyncAlert' && a.data.message).toMatch(/took over a stale lease on dataset:crsp_/);
    audit.close();
    // Orphans from killed writes are only in tmp/ or unnamed objects, which gc finds.
    const log = openWarehouseLog(dir);
    try {
      const named = new Set(Object.values(expected));
      expect(planGc(dir, log).orphans.every((o) => !named.has(o.hash))).toBe(true);
    } finally {
      log.close();
    }
  });

  it('a rerun with nothing changed at the source writes no event', async () => {
    const dir = newSyncWarehouse('wh-resume-');
    expect((await runWh(['sync', ...DATASETS], { warehouse: dir, env })).code).toBe(0);
    const log = openWarehouseLog(dir, { readonly: true });
    const head = log.head().seq;
    log.close();
    const again = await runWh(['sync', ...DATASETS, '--json'], { warehouse: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<{ status: string }[]>().map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    const log2 = openWarehouseLog(dir, { readonly: true });
    expect(log2.head().seq).toBe(head);
    log2.close();
    const status = await runWh(['sync', '--status', '--json'], { warehouse: dir });
    expect(status.json<{ dataset: string; lastRun: { outcome: string } }[]>().map((s) => [s.dataset, s.lastRun.outcome])).toEqual([
      ['crsp_msf', 'completed'],
      ['crsp_dsi', 'completed'],
    ]);
  });

  it('exit codes for cron: 3 on a validation failure, 1 on a wrong password, 2 while another sync holds the lease', async () => {
    const dir = newSyncWarehouse('wh-resume-');
    const wrong = await runWh(['sync', 'crsp_msf', '--json'], { warehouse: dir, env: { ...env, PGPASSWORD: 'not-the-password' } });
    expect(wrong.code).toBe(1);
    expect(wrong.errorJson().code).toBe('AUTH_FAILED');
    expect(wrong.stderr).not.toContain('not-the-password');
    const unknown = await runWh(['sync', 'crsp_dsf;drop'], { warehouse: dir, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown dataset/);

    const log = openWarehouseLog(dir);
    const lease = acquireLease(log, 'dataset:crsp_msf', { purpose: 'test holder' });
    const held = await runWh(['sync', 'crsp_msf', '--json'], { warehouse: dir, env });
    expect(held.code).toBe(2);
    expect(held.json<{ error: { code: string } }[]>()[0]!.error.code).toBe('LEASE_HELD');
    releaseLease(log, lease);
    log.close();

    const bad = await createTestDatabase('resume_bad');
    try {
      await loadFixture(bad.config);
      await bad.session.query(`INSERT INTO crsp.msf (cusip, permno, date, prc) VALUES ('DUP', 10003, '2022-05-31', 1)`);
      const invalid = await runWh(['sync', 'crsp_msf', '--json'], { warehouse: newSyncWarehouse('wh-resume-'), env: { ...env, WRDS_DATABASE: bad.config.database } });
      expect(invalid.code).toBe(3);
      expect(invalid.json<{ error: { code: string; message: string } }[]>()[0]!.error.message).toContain('pk_unique');
    } finally {
      await bad.drop();
    }
  });
});
