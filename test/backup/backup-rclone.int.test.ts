/**
 * Backups through rclone: a local remote from rclone's config, and a WebDAV remote served by
 * `rclone serve webdav` on loopback (a real network transfer, with a password that must reach no
 * event, error or log line). Skipped with the reason when rclone is missing; fails under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups, loadKey, rcloneTarget, restoreBackup, rotateKey, runBackup, verifyBackup } from '../../src/backup/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { cleanupTempDirs, runWh, tempDir } from '../support/wh-cli.js';
import { keyFile, plaintextFound, plaintextProbes, sampleWarehouse } from './backup-fixture.js';

const haveRclone = spawnSync('rclone', ['version']).status === 0;
if (!haveRclone && process.env['CI'] === 'true') throw new Error('rclone is required under CI=true (apt-get install -y rclone)');

const PASSWORD = 'pw-never-logged-7f3a';
let config: string;
let served: string;
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => {
        c.end();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rclone serve webdav did not listen on ${port}`);
}

beforeAll(async () => {
  if (!haveRclone) return;
  const base = tempDir('wh-rclone-');
  served = join(base, 'served');
  const port = await freePort();
  server = spawn('rclone', ['serve', 'webdav', served, '--addr', `127.0.0.1:${port}`, '--user', 'wh', '--pass', PASSWORD], { stdio: 'ignore' });
  await waitForPort(port);
  const obscured = spawnSync('rclone', ['obscure', PASSWORD], { encoding: 'utf8' }).stdout.trim();
  config = join(base, 'rclone.conf');
  writeFileSync(config, `[loc]\ntype = local\n\n[dav]\ntype = webdav\nurl = http://127.0.0.1:${port}\nvendor = other\nuser = wh\npass = ${obscured}\n`, { mode: 0o600 });
  process.env['RCLONE_CONFIG'] = config;
});

afterAll(() => {
  server?.kill('SIGTERM');
  delete process.env['RCLONE_CONFIG'];
  cleanupTempDirs();
});

describe.skipIf(!haveRclone)('backup through rclone (skipped: rclone not installed; apt-get install -y rclone)', () => {
  it('backs up to an rclone local remote, incrementally, and restores', async () => {
    const dir = await sampleWarehouse(3, 300);
    const remote = `loc:${join(tempDir('wh-loc-'), 'bk')}`;
    const key = loadKey(keyFile());
    const log = openWarehouseLog(dir);
    try {
      const first = await runBackup({ dir, log, name: 'loc', target: rcloneTarget(remote), key, batchBytes: 1 });
      expect(first).toMatchObject({ objects: 3, uploadedObjects: 3 });
      const second = await runBackup({ dir, log, name: 'loc', target: rcloneTarget(remote), key });
      expect(second.uploadedObjects).toBe(0);
    } finally {
      log.close();
    }
    expect(await listBackups(rcloneTarget(remote))).toHaveLength(2);
    expect(plaintextFound(remote.slice(4), plaintextProbes(dir))).toEqual([]);
    const out = join(tempDir('wh-r-'), 'wh');
    await restoreBackup({ target: rcloneTarget(remote), key, out, batchBytes: 1 }); // one rclone call per object batch
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
    // A flipped byte on the remote is found by a full verify (downloaded in batches) and named.
    const [m] = await listBackups(rcloneTarget(remote));
    const h = m!.objects[0]!.hash;
    const file = join(remote.slice(4), 'objects', h.slice(0, 2), `${h}.whenc`);
    const bytes = readFileSync(file);
    bytes[64] = bytes[64]! ^ 1;
    writeFileSync(file, bytes);
    const report = await verifyBackup(rcloneTarget(remote), key, { at: m!.backupId, scratch: tempDir('wh-vs-'), batchBytes: 1 });
    expect(report.problems).toEqual([{ file: `objects/${h.slice(0, 2)}/${h}.whenc`, problem: expect.stringContaining('failed authentication') }]);
    writeFileSync(file, (bytes[64] = bytes[64]! ^ 1, bytes));

    // Key rotation on a remote: batched download and upload; the new key restores, the old is refused.
    const newKey = loadKey(keyFile());
    const log2 = openWarehouseLog(dir);
    try {
      const rot = await rotateKey(log2, 'loc', rcloneTarget(remote), key, newKey, tempDir('wh-rot-'));
      expect(rot).toMatchObject({ files: 5, manifests: 2, newKeyId: newKey.id });
    } finally {
      log2.close();
    }
    const out2 = join(tempDir('wh-r-'), 'wh');
    await restoreBackup({ target: rcloneTarget(remote), key: newKey, out: out2 });
    expect((await runWh(['audit', '--verify'], { warehouse: out2 })).code).toBe(0);
    await expect(restoreBackup({ target: rcloneTarget(remote), key, out: join(tempDir('wh-r-'), 'wh') })).rejects.toThrow(/not under the key given/);
  }, 120_000);

  it('backs up over the network to rclone serve webdav on loopback, through the CLI; the password reaches no event or output', async () => {
    const dir = await sampleWarehouse(3, 300);
    const kf = keyFile();
    const env = { RCLONE_CONFIG: config };
    expect((await runWh(['backup', 'add', 'offsite', 'dav:wh', '--key-file', kf], { warehouse: dir, env })).code).toBe(0);
    const run = await runWh(['backup', 'run', 'offsite', '--json'], { warehouse: dir, env });
    expect(run.code).toBe(0);
    expect(run.json()[0]).toMatchObject({ objects: 3, uploadedObjects: 3 });
    expect(plaintextFound(join(served, 'wh'), plaintextProbes(dir))).toEqual([]);
    const verify = await runWh(['backup', 'verify', 'offsite'], { warehouse: dir, env });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('OK (3 objects)');
    const out = join(tempDir('wh-r-'), 'wh');
    const restore = await runWh(['restore', 'offsite', out], { warehouse: dir, env });
    expect(restore.code).toBe(0);
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
    const drill = await runWh(['backup', 'drill', 'offsite'], { warehouse: dir, env });
    expect(drill.stdout).toContain('PASSED');
    const events = await runWh(['log', '--json', '--from', '1'], { warehouse: dir });
    expect(events.json<unknown[]>().length).toBeGreaterThan(10);
    expect(events.stdout).toContain('BackupCompleted');
    for (const text of [events.stdout, run.stdout, run.stderr, verify.stdout, restore.stdout]) expect(text).not.toContain(PASSWORD);
    expect((await verifyBackup(rcloneTarget('dav:wh'), loadKey(kf), { quick: true, scratch: tempDir('wh-vs-') })).ok).toBe(true);
  }, 120_000);

  it('wh repair fetches the damaged objects from an rclone remote in one download call, and names one the remote lost', async () => {
    const dir = await sampleWarehouse(5, 300);
    const kf = keyFile();
    const remoteDir = join(tempDir('wh-loc-'), 'bk');
    expect((await runWh(['backup', 'add', 'loc', `loc:${remoteDir}`, '--key-file', kf], { warehouse: dir })).code).toBe(0);
    expect((await runWh(['backup', 'run', 'loc'], { warehouse: dir })).code).toBe(0);
    // An rclone on PATH that logs each call, then runs the real one.
    const shim = tempDir('wh-shim-');
    const calls = join(shim, 'calls.log');
    const real = spawnSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(shim, 'rclone'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${shim}:${process.env['PATH']}` };
    const objects = (await runWh(['audit', '--json'], { warehouse: dir })).json<{ object: string }[]>().map((o) => o.object);
    expect(objects).toHaveLength(5);
    const path = (h: string): string => join(dir, 'objects', h.slice(0, 2), `${h}.parquet`);
    unlinkSync(path(objects[0]!));
    unlinkSync(path(objects[1]!));
    appendFileSync(path(objects[2]!), 'garbage');
    writeFileSync(path(objects[3]!), 'not parquet');
    expect((await runWh(['audit', '--verify'], { warehouse: dir })).code).toBe(3);
    const repair = await runWh(['repair', '--from', 'loc', '--json'], { warehouse: dir, env });
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.json()).toMatchObject({ damaged: 4, unrepaired: [] });
    expect([...repair.json<{ repaired: string[] }>().repaired].sort()).toEqual(objects.slice(0, 4).sort());
    expect((await runWh(['audit', '--verify'], { warehouse: dir })).code).toBe(0);
    // One download for the four objects (before: one `rclone copyto` per object).
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines.filter((l) => / copyto \S*objects\//.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('--files-from'))).toHaveLength(1);

    // An object the remote lost too is named, and the rest of the batch is still repaired.
    unlinkSync(path(objects[0]!));
    unlinkSync(path(objects[4]!));
    unlinkSync(join(remoteDir, 'objects', objects[4]!.slice(0, 2), `${objects[4]}.whenc`));
    const partly = await runWh(['repair', '--from', 'loc', '--json'], { warehouse: dir, env });
    expect(partly.code).toBe(3);
    expect(partly.json()).toMatchObject({ damaged: 2, repaired: [objects[0]], unrepaired: [{ object: objects[4], reason: expect.stringContaining('missing') }] });
    const audit = await runWh(['audit', '--verify', '--json'], { warehouse: dir });
    expect(audit.code).toBe(3);
    expect(audit.stdout).toContain(objects[4]);
    expect(audit.stdout).not.toContain(objects[0]);
  }, 120_000);

  it('names rclone when a remote is used and it is missing, and refuses inline credentials', async () => {
    const dir = await sampleWarehouse(1, 10);
    const noRclone = await runWh(['backup', 'add', 'x', 'b2:bucket', '--key-file', keyFile()], { warehouse: dir, env: { PATH: '/nonexistent' } });
    expect(noRclone.code).toBe(1);
    expect(noRclone.stderr).toContain('rclone is not installed');
    expect(noRclone.stderr).toContain('apt-get install rclone');
    const inline = await runWh(['backup', 'add', 'x', ':webdav,url=http://h,pass=secret:wh'], { warehouse: dir });
    expect(inline.code).toBe(1);
    expect(inline.stderr).toContain('rclone config');
  }, 60_000);
});
