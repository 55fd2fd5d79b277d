/**
 * `wh gc` and staging directories that writers fill before taking their lease (French, Yahoo):
 * kept while the owner runs, collected once it is gone, and for an owner on another host, once a
 * day old. A plain leftover temporary is collected as before, and so is one a killed restore or
 * repair left among the objects.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { applyGc, planGc } from '../../src/store/index.js';
import { makeOwnedTempDir } from '../../src/store/owned-temp.js';
import { cleanupTempDirs } from '../support/wh-cli.js';
import { newWarehouse } from './crash-invariants.js';

afterAll(cleanupTempDirs);

function ownedBy(dir: string, name: string, owner: object): string {
  const path = join(warehousePaths(dir).tmp, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, '0.csv'), 'x\n');
  writeFileSync(join(path, '.owner.json'), JSON.stringify(owner));
  return path;
}

describe('gc and owned staging directories', () => {
  it('keeps what a live process stages, collects the rest', async () => {
    const dir = newWarehouse('wh-gc-stage-');
    const log = openWarehouseLog(dir);
    try {
      const mine = makeOwnedTempDir(dir, 'french');
      writeFileSync(join(mine, '0.csv'), '1926-07-01,daily,0.1\n');
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
      const dead = ownedBy(dir, 'yahoo-dead', { host: (await import('node:os')).hostname(), pid: gone, startTime: 'boot:1' });
      const foreignYoung = ownedBy(dir, 'french-elsewhere', { host: 'another-host.example', pid: 1, startTime: null });
      const foreignOld = ownedBy(dir, 'french-elsewhere-old', { host: 'another-host.example', pid: 1, startTime: null });
      const old = (Date.now() - 2 * 24 * 3600_000) / 1000;
      utimesSync(join(foreignOld, '.owner.json'), old, old);
      const leftover = join(warehousePaths(dir).tmp, 'f00.parquet');
      writeFileSync(leftover, 'partial');

      const plan = planGc(dir, log);
      expect(plan.inUse.map((t) => t.path).sort()).toEqual([foreignYoung, mine].sort());
      expect(plan.inUse.find((t) => t.path === mine)).toMatchObject({ pid: process.pid });
      expect(plan.temporaries.map((t) => t.path).sort()).toEqual([dead, foreignOld, leftover].sort());
      expect(plan.temporaries.find((t) => t.path === dead)!.bytes).toBeGreaterThan(2);

      await applyGc(dir, log);
      expect([mine, foreignYoung].every(existsSync)).toBe(true);
      expect([dead, foreignOld, leftover].some(existsSync)).toBe(false);
    } finally {
      log.close();
    }
  });

  it('collects what a killed restore or repair left among the objects as a temporary, not an object', async () => {
    const dir = newWarehouse('wh-gc-restoring-');
    const log = openWarehouseLog(dir);
    try {
      const h = 'ab'.repeat(32);
      const shard = join(warehousePaths(dir).objects, 'ab');
      mkdirSync(shard, { recursive: true });
      const leftover = join(shard, `.${h}.restoring-4242`);
      writeFileSync(leftover, 'half a decrypted object');
      const orphan = join(shard, `${h}.parquet`);
      writeFileSync(orphan, 'an object no event names');

      const plan = planGc(dir, log);
      expect(plan.orphans).toEqual([{ hash: h, path: orphan, bytes: 24 }]);
      expect(plan.temporaries).toEqual([{ path: leftover, bytes: 23 }]);
      await applyGc(dir, log); // before: a crash (it fsynced objects/.a) after unlinking, with no event
      expect([leftover, orphan].some(existsSync)).toBe(false);
      expect(log.read({ types: ['ObjectsCollected'] }).map((e) => e.data)).toEqual([{ objects: [h], bytes: 47, temporaries: 1 }]);
    } finally {
      log.close();
    }
  });
});
