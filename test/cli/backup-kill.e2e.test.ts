/**
 * SIGKILL of the real `wh backup run` and `wh restore` processes part-way, then a rerun.
 *
 * (test/backup/backup.int.test.ts kills a child script that calls the same library functions at a
 * chosen progress point; these kill the built binary as an operator's kill -9 or a power loss would.)
 *
 * Landing the kill mid-run without timing: the process's pid is known as soon as it is spawned,
 * and the temporary name it will write one object under includes that pid (`<name>.partial-<pid>`
 * on a directory target, `.<hash>.restoring-<pid>` in a restore). A FIFO placed there first makes
 * the crypt worker's open() of that temporary block (no reader), so the run stops with every other
 * object written and before its manifest (or log) — however fast or loaded the machine is. The test
 * waits for the other objects, kills, and replaces the FIFO with a truncated file, as a killed write
 * leaves one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectedObjects, manifestHistory } from '../../src/projections/index.js';
import { objectPath, openWarehouseLog } from '../../src/store/index.js';
import { cleanupTempDirs, pollUntil, runWh, spawnWh, tempDir } from '../support/wh-cli.js';
import { keyFile, sampleWarehouse } from '../backup/backup-fixture.js';

afterAll(cleanupTempDirs);

const OBJECTS = 6;

/** A FIFO at `path`: whoever opens it for writing waits for a reader that never comes. */
function blockAt(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const r = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed: ${r.stderr}`);
}

/** Files under `dir` (recursively) whose names end with `suffix`. */
function filesEnding(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(suffix));
}

/** The warehouse's live objects in the order the log names them (the order a backup uploads them). */
function liveObjects(dir: string): string[] {
  const log = openWarehouseLog(dir, { readonly: true });
  try {
    const gone = collectedObjects(log);
    return [...new Set(manifestHistory(log).map((r) => r.value.object))].filter((h) => !gone.has(h));
  } finally {
    log.close();
  }
}

describe('wh backup run and wh restore killed with SIGKILL', () => {
  it('a killed backup run leaves no manifest and is not listed; a rerun completes it, verifies and restores', async () => {
    const dir = await sampleWarehouse(OBJECTS, 300);
    const target = join(tempDir('wh-kill-tgt-'), 'nas');
    const kf = keyFile();
    expect((await runWh(['backup', 'add', 'nas', target, '--key-file', kf], { warehouse: dir })).code).toBe(0);
    const objects = liveObjects(dir);
    expect(objects).toHaveLength(OBJECTS);
    // A backup uploads largest first (ties by hash): block the last, so no job waits behind it in
    // a crypt worker's queue (blocking another one left a job stuck behind it: CI saw 4 of 5 land).
    const size = (h: string) => statSync(objectPath(dir, h)).size;
    const last = [...objects].sort((a, b) => size(b) - size(a) || (a < b ? -1 : 1)).at(-1)!;

    const run = spawnWh(['backup', 'run', 'nas', '--json'], { warehouse: dir, timeoutMs: 60_000 });
    const fifo = join(target, 'objects', last.slice(0, 2), `${last}.whenc.partial-${run.child.pid}`);
    blockAt(fifo);
    await pollUntil(() => filesEnding(join(target, 'objects'), '.whenc').length === OBJECTS - 1, 'the backup to upload every object but the blocked one', 30_000);
    await new Promise((r) => setTimeout(r, 300)); // stalled at the FIFO, not just passing through
    expect(filesEnding(join(target, 'objects'), '.whenc')).toHaveLength(OBJECTS - 1);
    expect(filesEnding(target, '.json')).toEqual([]); // no manifest yet: the kill lands mid-run
    run.child.kill('SIGKILL');
    const killed = await run.result;
    expect(killed.signal).toBe('SIGKILL');
    rmSync(fifo);
    writeFileSync(fifo, Buffer.alloc(100, 7)); // what an interrupted write leaves

    // No manifest on the target, so no backup is offered.
    expect(filesEnding(target, '.json')).toEqual([]);
    expect(filesEnding(join(target, 'objects'), '.whenc')).toHaveLength(OBJECTS - 1);
    const list = await runWh(['backup', 'list', 'nas', '--json'], { warehouse: dir });
    expect(list.code).toBe(0);
    expect(list.json()).toEqual([expect.objectContaining({ name: 'nas', backups: [] })]);
    expect((await runWh(['backup', 'list', 'nas'], { warehouse: dir })).stdout).toContain('no complete backup');
    const early = await runWh(['restore', 'nas', join(tempDir('wh-kill-r-'), 'wh')], { warehouse: dir });
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('holds no complete backup');

    // The rerun uploads only the object the killed run did not finish.
    const rerun = await runWh(['backup', 'run', 'nas', '--json'], { warehouse: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()[0]).toMatchObject({ objects: OBJECTS, uploadedObjects: 1 });
    expect(existsSync(fifo)).toBe(false); // the killed run's temporary is swept (its process is gone)
    const listed = (await runWh(['backup', 'list', 'nas', '--json'], { warehouse: dir })).json();
    expect(listed[0].backups).toEqual([expect.objectContaining({ backupId: rerun.json()[0].backupId, objects: OBJECTS })]);
    const verify = await runWh(['backup', 'verify', 'nas'], { warehouse: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`OK (${OBJECTS} objects)`);
    const out = join(tempDir('wh-kill-r-'), 'wh');
    expect((await runWh(['restore', 'nas', out], { warehouse: dir })).code).toBe(0);
    const audit = await runWh(['audit', '--verify'], { warehouse: out });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  }, 120_000);

  it('a killed restore leaves no warehouse; a rerun into the same directory resumes, completes and verifies', async () => {
    const dir = await sampleWarehouse(OBJECTS, 300);
    const target = join(tempDir('wh-kill-tgt-'), 'nas');
    expect((await runWh(['backup', 'add', 'nas', target, '--key-file', keyFile()], { warehouse: dir })).code).toBe(0);
    expect((await runWh(['backup', 'run', 'nas'], { warehouse: dir })).code).toBe(0);
    // A restore fetches largest first (ties by hash): block the last, so no job waits behind it.
    const size = (h: string) => statSync(objectPath(dir, h)).size;
    const last = [...liveObjects(dir)].sort((a, b) => size(b) - size(a) || (a < b ? -1 : 1)).at(-1)!;
    const out = join(tempDir('wh-kill-r-'), 'wh');

    const restore = spawnWh(['restore', 'nas', out, '--json'], { warehouse: dir, timeoutMs: 60_000 });
    const fifo = join(out, 'objects', last.slice(0, 2), `.${last}.restoring-${restore.child.pid}`);
    blockAt(fifo);
    await pollUntil(() => filesEnding(join(out, 'objects'), '.parquet').length === OBJECTS - 1, 'the restore to write every object but the blocked one', 30_000);
    await new Promise((r) => setTimeout(r, 300)); // stalled at the FIFO, not just passing through
    expect(filesEnding(join(out, 'objects'), '.parquet')).toHaveLength(OBJECTS - 1);
    expect(existsSync(join(out, 'wh.log'))).toBe(false); // the log comes last: the kill lands mid-run
    restore.child.kill('SIGKILL');
    expect((await restore.result).signal).toBe('SIGKILL');
    rmSync(fifo);
    writeFileSync(fifo, Buffer.alloc(100, 7)); // what an interrupted write leaves

    // Not a warehouse: no log, so nothing opens it as one.
    expect(existsSync(join(out, 'wh.log'))).toBe(false);
    const status = await runWh(['status'], { warehouse: out });
    expect(status.code).not.toBe(0);

    // The rerun into the same directory keeps the objects already in place and fetches the rest.
    const rerun = await runWh(['restore', 'nas', out, '--json'], { warehouse: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ objects: OBJECTS, fetched: 1 });
    const audit = await runWh(['audit', '--verify'], { warehouse: out });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    // The killed run's temporary is an orphan to `wh gc`, which removes it.
    expect(existsSync(fifo)).toBe(true);
    const gc = await runWh(['gc', '--apply'], { warehouse: out });
    expect(gc.code, gc.stderr).toBe(0);
    expect(existsSync(fifo)).toBe(false);
    expect((await runWh(['audit', '--verify'], { warehouse: out })).code).toBe(0);
    const q = await runWh(['query', 'SELECT count(*) AS n FROM prices', '--json'], { warehouse: out });
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.stringify(q.json())).toContain(String(OBJECTS * 300));
  }, 120_000);
});
