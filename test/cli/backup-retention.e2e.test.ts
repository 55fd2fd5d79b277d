/**
 * The built `wh` for retention, gc, diff and backups: help, policy events, the gc plan, key-file
 * checks, a full backup / verify / drill / check / restore / repair cycle, and exit codes.
 */
import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runWh, tempDir } from '../support/wh-cli.js';
import { writeCsv } from '../store/crash-invariants.js';

afterAll(cleanupTempDirs);

describe('wh retention, gc, diff and backup', () => {
  it('--help works on every new command', async () => {
    for (const c of [['retention', 'set'], ['retention', 'show'], ['diff'], ['backup', 'add'], ['backup', 'run'], ['backup', 'verify'], ['backup', 'drill'], ['backup', 'check'], ['backup', 'rotate-key'], ['backup', 'keygen'], ['restore'], ['repair']]) {
      const r = await runWh([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: wh ${c.join(' ')}`);
    }
  }, 60_000);

  it('sets a policy, plans and applies gc, diffs, and runs the backup cycle', async () => {
    const base = tempDir('wh-e2e-bk-');
    const wh = join(base, 'wh');
    expect((await runWh(['init', wh])).code).toBe(0);
    const w = (args: string[]) => runWh(args, { warehouse: wh });
    expect((await w(['ingest', 'prices', '--partition', '2024', '--key', 'id', writeCsv(join(base, 'a.csv'), 100, 1)])).code).toBe(0);
    expect((await w(['ingest', 'prices', '--partition', '2024', writeCsv(join(base, 'b.csv'), 100, 2)])).code).toBe(0);

    expect((await w(['retention', 'show'])).stdout).toContain('no retention policy');
    const bad = await w(['retention', 'set']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--keep-days');
    expect((await w(['retention', 'set', '--keep-days', '0'])).code).toBe(0);
    const show = await w(['retention', 'show', '--json']);
    expect(show.json().policies).toEqual([expect.objectContaining({ dataset: '(default)', keepDays: 0, keepLast: 0 })]);

    const diff = await w(['diff', '4', 'head', '--json']);
    expect(diff.json().datasets[0]).toMatchObject({ dataset: 'prices', partitions: { replaced: 1 } });
    expect((await w(['diff', '4', 'head', '--rows', '--columns', 'val'])).stdout).toMatch(/changed\s+\{"id":0\}\s+val/);

    // A key readable by others is refused; keygen makes a 0600 one.
    const open = join(base, 'open.key');
    writeFileSync(open, 'ab'.repeat(32));
    chmodSync(open, 0o644);
    const refused = await w(['backup', 'add', 'nas', join(base, 'target'), '--key-file', open]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('chmod 600');
    const check0 = await w(['backup', 'check']);
    expect(check0.code).toBe(1);
    expect(check0.stdout).toContain('no backup target is configured');
    const key = join(base, 'backup.key');
    expect((await w(['backup', 'keygen', key])).code).toBe(0);
    expect((await w(['backup', 'add', 'nas', join(base, 'target'), '--key-file', key])).code).toBe(0);
    const dry = await w(['gc']);
    expect(dry.stdout).toMatch(/superseded [0-9a-f]{12} prices\/2024/);
    expect(dry.stdout).toMatch(/as-of reads of prices at seq 4\.\.\d+ .* stop being readable/);
    expect((await w(['gc', '--apply'])).code).toBe(0);
    const gone = await w(['query', 'SELECT count(*) FROM prices', '--as-of', '4']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/collected by the retention policy.*complete from seq/);

    const run = await w(['backup', 'run', '--json']);
    expect(run.code).toBe(0);
    expect(run.json()[0]).toMatchObject({ name: 'nas', objects: 1, uploadedObjects: 1 });
    expect((await w(['backup', 'list'])).stdout).toMatch(/nas \(directory .*\)\n.*backupId/);
    expect((await w(['backup', 'verify'])).code).toBe(0);
    expect((await w(['backup', 'drill'])).stdout).toContain('PASSED');
    expect((await w(['backup', 'check'])).code).toBe(0);
    // Older than the RPO (a tiny one, so no clock is needed): exit 1 and an alert.
    const stale = await w(['backup', 'check', '--rpo-hours', '0.0000001']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/ALERT newest backup to nas \(.*\) is .* h old, beyond the 0 h RPO/);
    const status = await w(['status']);
    expect(status.stdout).toMatch(/backup ok: nas: newest backup .*; last drill passed/);

    const restored = join(base, 'restored');
    expect((await w(['restore', 'nas', restored])).code).toBe(0);
    expect((await runWh(['audit', '--verify'], { warehouse: restored })).code).toBe(0);

    // Damage, then repair from the backup.
    const obj = (await w(['audit', '--json'])).json()[0].object as string;
    unlinkSync(join(wh, 'objects', obj.slice(0, 2), `${obj}.parquet`));
    expect((await w(['audit', '--verify'])).code).toBe(3);
    const repair = await w(['repair', '--from', 'nas']);
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('repaired 1 of 1');
    expect((await w(['audit', '--verify'])).code).toBe(0);
    // --log refuses to replace an intact log.
    const logRepair = await w(['repair', '--log', '--from', 'nas']);
    expect(logRepair.code).toBe(1);
    expect(logRepair.stderr).toContain('the log is intact');
    expect(existsSync(join(wh, 'wh.log'))).toBe(true);
  }, 180_000);
});
