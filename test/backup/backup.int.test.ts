/**
 * Backups to a directory target: incremental encrypted runs, no plaintext on the target, restore
 * passing verify with the same answers, wrong and exposed keys, tampering, a full target, SIGKILL
 * during backup, restore and gc, restore of a warehouse with collected versions, repair of objects
 * and of a lost log, drill, check and key rotation.
 */
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type EventLog } from '../../src/log/index.js';
import { backupHealth, backupsState, manifestAt } from '../../src/projections/index.js';
import { OBJECT_CONCURRENCY, directoryTarget, listBackups, loadKey, repairLog, repairObjects, restoreBackup, rotateKey, runBackup, runDrill, verifyBackup } from '../../src/backup/index.js';
import { objectPath, openWarehouseLog, readAnchor, verifyWarehouse, warehousePaths } from '../../src/store/index.js';
import { cleanupTempDirs, repoRoot, runWh, spawnNode, tempDir } from '../support/wh-cli.js';
import { arrowAt } from '../store/retention-fixture.js';
import { keyFile, plaintextFound, plaintextProbes, sampleWarehouse } from './backup-fixture.js';
import { writeCsv } from '../store/crash-invariants.js';
import { ingestFile } from '../../src/sync/index.js';

afterAll(cleanupTempDirs);

const child = join(repoRoot, 'test', 'support', 'backup-child.mjs');

async function withLog<T>(dir: string, fn: (log: EventLog) => Promise<T>): Promise<T> {
  const log = openWarehouseLog(dir);
  try {
    return await fn(log);
  } finally {
    log.close();
  }
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isWarehouseError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
}

describe('backup to a directory', () => {
  it('is incremental and encrypted, and restores a warehouse that verifies and answers the same', async () => {
    const dir = await sampleWarehouse();
    const target = join(tempDir('wh-tgt-'), 'nas');
    const key = loadKey(keyFile());
    await withLog(dir, async (log) => {
      const first = await runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key });
      expect(first).toMatchObject({ objects: 4, uploadedObjects: 4 });
      await ingestFile({ dir, log, dataset: 'prices', partition: 'y2030', file: writeCsv(join(dir, '..', 'new.csv'), 500, 99), key: ['id'], whVersion: 'test' });
      const second = await runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key });
      expect(second).toMatchObject({ objects: 5, uploadedObjects: 1 });
      expect(backupsState(log).size).toBe(0); // run alone does not add a target
      expect(log.read({ types: ['BackupCompleted'] })).toHaveLength(2);
    });
    const probes = plaintextProbes(dir);
    expect(plaintextFound(target, probes)).toEqual([]);
    // The probes do find plaintext where it is: in the warehouse itself.
    expect(plaintextFound(warehousePaths(dir).objects, probes).length).toBeGreaterThanOrEqual(5 * 3);

    const out = join(tempDir('wh-restored-'), 'wh');
    const r = await restoreBackup({ target: directoryTarget(target), key, out });
    expect(r.objects).toBe(5);
    expect(readAnchor(out)?.seq).toBe(r.headSeq);
    const rlog = openWarehouseLog(out, { readonly: true });
    const live = openWarehouseLog(dir, { readonly: true });
    try {
      expect((await verifyWarehouse(out, rlog, { record: false })).ok).toBe(true);
      expect(await arrowAt(out, rlog, 'head')).toEqual(await arrowAt(dir, live, String(r.headSeq)));
    } finally {
      rlog.close();
      live.close();
    }
    const cli = await runWh(['audit', '--verify'], { warehouse: out });
    expect(cli.code).toBe(0);
    // Restoring into a warehouse is refused.
    expect((await errorOf(restoreBackup({ target: directoryTarget(target), key, out }))).code).toBe('ALREADY_A_WAREHOUSE');
  }, 120_000);

  it('refuses a wrong key, a key readable by others and a key inside the warehouse; detects tampering by name', async () => {
    const dir = await sampleWarehouse(2, 200);
    const target = join(tempDir('wh-tgt-'), 'nas');
    const key = loadKey(keyFile());
    await withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key }));
    const wrong = loadKey(keyFile());
    const e1 = await errorOf(restoreBackup({ target: directoryTarget(target), key: wrong, out: join(tempDir('wh-r-'), 'wh') }));
    expect(e1.code).toBe('BACKUP_KEY');
    expect(e1.message).toContain(key.id);
    expect(() => loadKey(keyFile('open.key', 0o644))).toThrow(/readable by others \(mode 0644\)/);
    const inside = join(dir, 'backup.key');
    writeFileSync(inside, readFileSync(key.file), { mode: 0o600 });
    expect(() => loadKey(inside, dir)).toThrow(/inside the warehouse/);

    // Flip one byte of one object on the target.
    const [m] = await listBackups(directoryTarget(target));
    const victim = m!.objects[0]!.hash;
    const path = join(target, 'objects', victim.slice(0, 2), `${victim}.whenc`);
    const bytes = readFileSync(path);
    bytes[200] = bytes[200]! ^ 0xff;
    writeFileSync(path, bytes);
    const report = await verifyBackup(directoryTarget(target), key, { scratch: tempDir('wh-vs-') });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ file: `objects/${victim.slice(0, 2)}/${victim}.whenc`, problem: expect.stringContaining('failed authentication') }]);
    // --quick compares listings and sizes only: a flipped byte passes it, a truncation does not.
    expect((await verifyBackup(directoryTarget(target), key, { quick: true, scratch: tempDir('wh-vs-') })).ok).toBe(true);
    const second = m!.objects[1]!.hash;
    const path2 = join(target, 'objects', second.slice(0, 2), `${second}.whenc`);
    const whole = readFileSync(path2);
    writeFileSync(path2, whole.subarray(0, whole.length - 1));
    expect((await verifyBackup(directoryTarget(target), key, { quick: true, scratch: tempDir('wh-vs-') })).problems).toEqual([{ file: expect.stringContaining(second), problem: expect.stringMatching(/^size \d+, expected \d+$/) }]);
    writeFileSync(path2, whole);
    const e2 = await errorOf(restoreBackup({ target: directoryTarget(target), key, out: join(tempDir('wh-r-'), 'wh') }));
    expect(e2.message).toContain(victim);
    // A tampered manifest is refused too.
    const mfile = join(target, 'manifests', `${m!.backupId}.json`);
    writeFileSync(mfile, readFileSync(mfile, 'utf8').replace(/"seq": \d+/, '"seq": 1'));
    expect((await errorOf(restoreBackup({ target: directoryTarget(target), key, out: join(tempDir('wh-r-'), 'wh') }))).message).toMatch(/failed authentication|altered/);
  }, 120_000);

  it('SIGKILL during a backup leaves no manifest; a rerun uploads only the rest and completes', async () => {
    // Killed once 2 objects are reported: by then at most OBJECT_CONCURRENCY more were started (the
    // same number in the child, which runs on the same CPUs), so with more objects than that some
    // were never begun, whatever the machine's CPU count.
    const n = 2 + OBJECT_CONCURRENCY + 2;
    const dir = await sampleWarehouse(n, 100);
    const target = join(tempDir('wh-tgt-'), 'nas');
    const kf = keyFile();
    const killed = await spawnNode(child, ['backup', dir, target, kf, '2']).result;
    expect(killed.signal).toBe('SIGKILL');
    expect(await listBackups(directoryTarget(target))).toEqual([]);
    const left = [...(await directoryTarget(target).list('objects')).keys()];
    const already = left.length;
    expect(already).toBeGreaterThanOrEqual(2);
    expect(already).toBeLessThanOrEqual(2 + OBJECT_CONCURRENCY);
    // A leftover no manifest names is checked before it is trusted: damage one (as a power loss might).
    const victim = join(target, left[0]!);
    const bytes = readFileSync(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(victim, bytes);
    // Another key is refused once the target holds a backup; before, nothing names a key yet.
    const done = await withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key: loadKey(kf) }));
    expect(done.objects).toBe(n);
    expect(done.uploadedObjects).toBe(n - already + 1);
    expect((await verifyBackup(directoryTarget(target), loadKey(kf), { scratch: tempDir('wh-vs-') })).ok).toBe(true);
    const other = await errorOf(withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key: loadKey(keyFile()) })));
    expect(other.code).toBe('BACKUP_KEY');
    expect((await verifyBackup(directoryTarget(target), loadKey(kf), { scratch: tempDir('wh-vs-') })).ok).toBe(true);
  }, 120_000);

  it('SIGKILL during a restore leaves no warehouse; a rerun finishes it', async () => {
    const dir = await sampleWarehouse(4, 300);
    const target = join(tempDir('wh-tgt-'), 'nas');
    const kf = keyFile();
    await withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key: loadKey(kf) }));
    const out = join(tempDir('wh-r-'), 'wh');
    const killed = await spawnNode(child, ['restore', target, kf, out, '2']).result;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(warehousePaths(out).log)).toBe(false);
    // Killed once 2 were in place; objects already in flight may have landed too.
    const placed = readdirSync(warehousePaths(out).objects, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
    expect(placed).toBeGreaterThanOrEqual(2);
    const r = await restoreBackup({ target: directoryTarget(target), key: loadKey(kf), out });
    expect(r.fetched).toBe(4 - placed);
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
  }, 120_000);

  it('a target that cannot be written fails the run, records BackupFailed, and check alerts (exit 1)', async () => {
    const dir = await sampleWarehouse(1, 100);
    // A target path under a regular file cannot be created: the run fails; check then alerts.
    const blocker = join(tempDir('wh-full-'), 'file');
    writeFileSync(blocker, 'x');
    await withLog(dir, async (log) => {
      log.append([{ type: 'BackupTargetAdded', data: { name: 'nas', kind: 'directory', target: join(blocker, 'nas'), keyFile: null } }]);
      await expect(runBackup({ dir, log, name: 'nas', target: directoryTarget(join(blocker, 'nas')), key: loadKey(keyFile()) })).rejects.toThrow();
      expect(log.read({ types: ['BackupFailed'] })).toHaveLength(1);
      const t = backupsState(log).get('nas')!;
      expect(backupHealth(t, log.now(), 24 * 3600_000)).toMatchObject({ ok: false, alert: 'failed' });
    });
    const check = await runWh(['backup', 'check'], { warehouse: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('ALERT');
    await withLog(dir, async (log) => expect(log.read({ types: ['BackupAlertRaised'] })).toHaveLength(1));
    expect((await runWh(['status'], { warehouse: dir })).stdout).toMatch(/backup ALERT: last backup to nas failed/);
  }, 60_000);

  it('reports a truly full target as DISK_FULL (tmpfs of 256 KiB)', async (ctx) => {
    const { spawnSync } = await import('node:child_process');
    if (process.getuid?.() !== 0) {
      ctx.skip(); // mounting a tmpfs needs root
      return;
    }
    const mnt = tempDir('wh-tmpfs-');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    if (m.status !== 0) {
      if (process.env['CI'] === 'true') throw new Error(`cannot mount a tmpfs for the full-disk test: ${m.stderr}`);
      ctx.skip();
      return;
    }
    try {
      const dir = await sampleWarehouse(3, 20000);
      const e = await errorOf(withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(join(mnt, 'nas')), key: loadKey(keyFile()) })));
      expect(e.code).toBe('DISK_FULL');
      expect(e.message).toContain('is full');
      expect(await listBackups(directoryTarget(join(mnt, 'nas')))).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 60_000);

  it('restores a warehouse with collected versions; gc killed between its phases is finished by a rerun', async () => {
    const dir = await sampleWarehouse(1, 200);
    await withLog(dir, async (log) => {
      await ingestFile({ dir, log, dataset: 'prices', partition: 'y2020', file: writeCsv(join(dir, '..', 'v2.csv'), 200, 50), key: ['id'], whVersion: 'test' });
      log.append([{ type: 'RetentionPolicySet', data: { dataset: null, keepDays: 0, keepLast: 0 } }]);
    });
    const old = await withLog(dir, async (log) => manifestAt(log, 4)[0]!.object);
    const killed = await spawnNode(child, ['gc', dir]).result;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(objectPath(dir, old))).toBe(true);
    expect((await runWh(['audit', '--verify'], { warehouse: dir })).code).toBe(0);
    const gc = await runWh(['gc', '--apply', '--json'], { warehouse: dir });
    expect(gc.json().retention.pending).toEqual([old]);
    expect(existsSync(objectPath(dir, old))).toBe(false);

    const target = join(tempDir('wh-tgt-'), 'nas');
    const key = loadKey(keyFile());
    const b = await withLog(dir, (log) => runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key }));
    expect(b.objects).toBe(1);
    const out = join(tempDir('wh-r-'), 'wh');
    await restoreBackup({ target: directoryTarget(target), key, out });
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
    const q = await runWh(['query', 'SELECT count(*) AS n FROM prices', '--as-of', '4', '--json'], { warehouse: out });
    expect(q.code).toBe(1);
    expect(q.stderr).toContain('collected by the retention policy');
  }, 120_000);

  it('repairs damaged and missing objects (also after a SIGKILL mid-repair) and a lost log from a backup', async () => {
    const dir = await sampleWarehouse(3, 300);
    const target = join(tempDir('wh-tgt-'), 'nas');
    const key = loadKey(keyFile());
    const objects = await withLog(dir, async (log) => {
      await runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key });
      return manifestAt(log).map((m) => m.object);
    });
    unlinkSync(objectPath(dir, objects[0]!));
    appendFileSync(objectPath(dir, objects[1]!), 'garbage');
    await withLog(dir, async (log) => {
      expect((await verifyWarehouse(dir, log, { record: false })).damaged).toHaveLength(2);
      const r = await repairObjects(dir, log, directoryTarget(target), key, 'nas');
      expect([...r.repaired].sort()).toEqual([objects[0]!, objects[1]!].sort());
      expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
      expect(log.read({ types: ['ObjectsRepaired'] })).toHaveLength(1);
    });
    // SIGKILL between moving a damaged object to quarantine and fetching its good copy: the object
    // is now missing, verify says so, and a rerun repairs it.
    appendFileSync(objectPath(dir, objects[2]!), 'garbage');
    const killed = await spawnNode(child, ['repair', dir, target, key.file]).result;
    expect(killed.signal).toBe('SIGKILL');
    await withLog(dir, async (log) => {
      expect((await verifyWarehouse(dir, log, { record: false })).damaged).toEqual([expect.objectContaining({ object: objects[2], problem: 'missing' })]);
      expect((await repairObjects(dir, log, directoryTarget(target), key, 'nas')).repaired).toEqual([objects[2]]);
      expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
    });
    // The damaged copy went to quarantine, not to /dev/null.
    expect(readFileSync(objectPath(dir, objects[1]!)).includes(Buffer.from('garbage'))).toBe(false);

    rmSync(warehousePaths(dir).log);
    rmSync(warehousePaths(dir).log + '-wal', { force: true });
    rmSync(warehousePaths(dir).log + '-shm', { force: true });
    const lost = await runWh(['status'], { warehouse: dir });
    expect(lost.code).toBe(1);
    const r = await repairLog(dir, directoryTarget(target), key);
    expect(r.keptAs).toBeNull();
    // The restored head is the anchor now (the newer one is kept aside), so verify is clean and writers go on.
    expect(readAnchor(dir)?.seq).toBe(r.headSeq);
    expect((await runWh(['audit', '--verify'], { warehouse: dir })).code).toBe(0);
    expect((await runWh(['snapshot', 'tag', 'after-repair'], { warehouse: dir })).code).toBe(0);
  }, 120_000);

  it('drills, and rotates the key (old key refused afterwards, new key restores)', async () => {
    const dir = await sampleWarehouse(2, 300);
    const target = join(tempDir('wh-tgt-'), 'nas');
    const oldKey = loadKey(keyFile());
    const newKey = loadKey(keyFile());
    await withLog(dir, async (log) => {
      log.append([{ type: 'BackupTargetAdded', data: { name: 'nas', kind: 'directory', target, keyFile: oldKey.file } }]);
      await runBackup({ dir, log, name: 'nas', target: directoryTarget(target), key: oldKey });
      const drill = await runDrill(dir, log, directoryTarget(target), oldKey, 'nas');
      expect(drill).toMatchObject({ passed: true, objects: 2, datasets: 1, problems: [] });
      expect(backupsState(log).get('nas')!.lastDrill).toMatchObject({ passed: true });
      const rot = await rotateKey(log, 'nas', directoryTarget(target), oldKey, newKey, tempDir('wh-rot-'));
      expect(rot).toMatchObject({ files: 3, manifests: 1, newKeyId: newKey.id });
      // Rerun: nothing left to re-encrypt.
      expect((await rotateKey(log, 'nas', directoryTarget(target), oldKey, newKey, tempDir('wh-rot-'))).files).toBe(0);
      expect(backupsState(log).get('nas')!.keyFile).toBe(newKey.file);
    });
    expect((await errorOf(restoreBackup({ target: directoryTarget(target), key: oldKey, out: join(tempDir('wh-r-'), 'wh') }))).code).toBe('BACKUP_KEY');
    const out = join(tempDir('wh-r-'), 'wh');
    await restoreBackup({ target: directoryTarget(target), key: newKey, out });
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
  }, 120_000);
});
