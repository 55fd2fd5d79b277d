/**
 * Issue 10, items 2 and 5: damaged and missing objects are never served, each refusal names the
 * dataset, partition, object and runbook, and a query over healthy datasets is unaffected. Real
 * `wh` processes over a real warehouse whose object files are damaged on disk.
 */
import { chmodSync, copyFileSync, openSync, readFileSync, rmSync, writeSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestAt, type ManifestEntry } from '../../src/projections/index.js';
import { objectPath, openWarehouseLog } from '../../src/store/index.js';
import { isWarehouseError } from '../../src/log/index.js';
import { openSession } from '../../src/query/index.js';
import { twoDatasetWarehouse } from '../support/damage.js';
import { cleanupTempDirs, ensureBuilt, runWh, tempDir } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);

let W: string;
let t2022: ManifestEntry;
let path: string;
let expected: { n: number; s: number };

const q = (sql: string, ...extra: string[]) => runWh(['--json', 'query', sql, ...extra], { warehouse: W });
const sumT = 'SELECT count(*) AS n, round(sum(val), 6) AS s FROM t';

beforeEach(async () => {
  ensureBuilt();
  ({ dir: W } = await twoDatasetWarehouse('wh-damage-'));
  const log = openWarehouseLog(W, { readonly: true });
  t2022 = manifestAt(log).find((e) => e.dataset === 't' && e.partition === '2022')!;
  log.close();
  path = objectPath(W, t2022.object);
  expected = (await q(sumT)).json<{ n: number; s: number }[]>()[0]!;
});

/** Flip one byte in the middle of the file (the data pages), keeping its size. */
function flipByte(file: string): void {
  chmodSync(file, 0o644);
  const at = Math.floor(statSync(file).size / 2);
  const b = readFileSync(file)[at]!;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([b ^ 0xff]), 0, 1, at);
  closeSync(fd);
}

function expectNamedRefusal(r: Awaited<ReturnType<typeof q>>, code: string): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const e = r.errorJson();
  expect(e.code).toBe(code);
  expect(e.message).toContain('dataset t');
  expect(e.message).toContain('partition 2022');
  expect(e.message).toContain(t2022.object);
  expect(e.suggestion).toContain('docs/runbooks/object-recovery.md');
}

describe('a flipped byte', () => {
  it('is caught by query --verify before anything is read, and once audit --verify records it every query of the dataset is refused', async () => {
    const backup = join(tempDir(), 'obj.parquet');
    copyFileSync(path, backup);
    flipByte(path);
    expectNamedRefusal(await q(sumT, '--verify'), 'OBJECT_DAMAGED');
    // Another dataset is unaffected, with or without --verify.
    expect((await q('SELECT count(*) AS n FROM u', '--verify')).json<{ n: number }[]>()[0]!.n).toBe(300);

    const audit = await runWh(['audit', '--verify'], { warehouse: W });
    expect(audit.code).toBe(3);
    expectNamedRefusal(await q(sumT), 'OBJECT_DAMAGED');
    expectNamedRefusal(await q('SELECT max(id) FROM t WHERE grp = 1'), 'OBJECT_DAMAGED');
    expect((await q('SELECT count(*) AS n FROM u')).code).toBe(0);

    const status = await runWh(['--json', 'status'], { warehouse: W });
    expect(status.json<{ damaged: { dataset: string; partition: string; object: string; kind: string }[] }>().damaged).toEqual([
      expect.objectContaining({ dataset: 't', partition: '2022', object: t2022.object, kind: 'recorded-damage' }),
    ]);
    expect((await runWh(['status'], { warehouse: W })).stdout).toContain(`dataset t partition 2022: object ${t2022.object} is damaged`);

    // Restored from a backup and verified clean: served again, with the original result.
    rmSync(path);
    copyFileSync(backup, path);
    expect((await runWh(['audit', '--verify'], { warehouse: W })).code).toBe(0);
    expect((await q(sumT)).json<{ n: number; s: number }[]>()[0]).toEqual(expected);
  });
});

describe('an object whose size changed', () => {
  it('is never read: a same-schema file of another size copied over it is refused without any verify', async () => {
    const other = (await twoDatasetWarehouse('wh-damage-other-')).dir;
    const log = openWarehouseLog(other, { readonly: true });
    const donor = objectPath(other, manifestAt(log).find((e) => e.dataset === 'u')!.object);
    log.close();
    chmodSync(path, 0o644);
    writeFileSync(path, readFileSync(donor));
    expect(statSync(path).size).not.toBe(t2022.bytes);
    expectNamedRefusal(await q(sumT), 'OBJECT_DAMAGED');
    expect((await q('SELECT count(*) AS n FROM u')).code).toBe(0);
  });

  it('a truncated object is refused', async () => {
    chmodSync(path, 0o644);
    writeFileSync(path, readFileSync(path).subarray(0, 100));
    expectNamedRefusal(await q(sumT), 'OBJECT_DAMAGED');
  });
});

describe('a missing object', () => {
  it('fails only queries of its own dataset, naming it; status lists it', async () => {
    rmSync(path);
    const u = await q('SELECT count(*) AS n FROM u');
    expect(u.code, u.stderr).toBe(0);
    expect(u.json<{ n: number }[]>()[0]!.n).toBe(300);
    expectNamedRefusal(await q(sumT), 'OBJECT_MISSING');
    // Library sessions (what the providers use) name it too, whatever SQL reaches the view.
    const log = openWarehouseLog(W, { readonly: true });
    const s = await openSession(W, log);
    try {
      const e = await s.duck.all('SELECT * FROM t WHERE id = 1').then(() => null, (err: unknown) => err);
      expect(isWarehouseError(e) && e.code).toBe('OBJECT_MISSING');
      expect((e as Error).message).toContain(`dataset t partition 2022: object ${t2022.object} is missing`);
      expect((await s.duck.all('SELECT count(*) AS n FROM u')).rows).toEqual([{ n: 300 }]);
    } finally {
      s.close();
      log.close();
    }
    const status = await runWh(['--json', 'status'], { warehouse: W });
    expect(status.code).toBe(0);
    expect(status.json<{ damaged: { kind: string; object: string }[] }>().damaged).toEqual([expect.objectContaining({ kind: 'missing', object: t2022.object })]);
  });
});
