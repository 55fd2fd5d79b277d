/**
 * Disk safety on the write path: watermarks from an injected statfs (no need to fill a real disk),
 * the 2x-free-space rule, and a real ENOSPC on a small tmpfs (when this machine lets us mount one):
 * a clear DISK_FULL, a QuarantineAdded record, the previous state readable and the lease released.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLeases, isWarehouseError, type EventLog, type WarehouseError } from '../../src/log/index.js';
import { initWarehouse, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { quarantineAt } from '../../src/projections/index.js';
import { runQuery } from '../../src/query/index.js';
import { connectWrds, findDatasets, ingestFile, Secret, syncDatasets } from '../../src/sync/index.js';
import { planGc, verifyWarehouse, type StatFs } from '../../src/store/index.js';
import { createTestDatabase } from '../support/pg-test-database.js';
import { manifestAt } from '../../src/projections/index.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';
import { manifestState, newWarehouse, typesAfter, writeCsv } from './crash-invariants.js';

afterAll(cleanupTempDirs);

/** A 1 TB volume with `usedFraction` of it used. */
const volume = (usedFraction: number): StatFs => () => ({ bsize: 4096, blocks: 250_000_000, bavail: Math.round(250_000_000 * (1 - usedFraction)) });

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected the write to be refused, but it succeeded'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

/** A pino logger whose JSON lines are collected in `lines`. */
function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink) as Logger, lines };
}

describe('disk watermarks (injected statfs)', () => {
  let dir: string;
  let log: EventLog;
  let files: string;
  beforeAll(async () => {
    files = tempDir('wh-disk-files-');
    dir = newWarehouse('wh-disk-');
    log = openWarehouseLog(dir);
    await ingestFile({ dir, log, dataset: 'prices', partition: '2023', file: writeCsv(join(files, 'a.csv'), 500, 1), key: ['id'], whVersion: 'test' });
  });
  afterAll(() => log.close());

  it('at 96% used the write is refused with DISK_WATERMARK_BLOCKED; only the alert is recorded', async () => {
    const before = manifestState(log);
    const seq = log.head().seq;
    const e = await refusal(ingestFile({ dir, log, dataset: 'prices', partition: '2024', file: writeCsv(join(files, 'b.csv'), 500, 2), key: ['id'], whVersion: 'test', statfs: volume(0.96) }));
    expect(e.code).toBe('DISK_WATERMARK_BLOCKED');
    expect(e.message).toBe('the warehouse volume is 96.0% full (writes stop at 95%)');
    expect(e.suggestion).toContain('docs/runbooks/disk-space.md');
    // No data, schema or quarantine event: only the lease bookkeeping and the watermark alert.
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'DiskWatermarkCrossed', 'LeaseReleased']);
    expect(log.read({ fromSeq: seq + 1, types: ['DiskWatermarkCrossed'] })[0]!.data).toMatchObject({ level: 'blocked', usedFraction: expect.closeTo(0.96, 6) });
    expect(manifestState(log)).toEqual(before);
    expect(planGc(dir, log)).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
    expect(readdirSync(warehousePaths(dir).tmp)).toEqual([]);
    expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
  });

  it('at 85% used the write succeeds, with a DiskWatermarkCrossed warning event and an alert log line', async () => {
    const { logger, lines } = captureLogger();
    const seq = log.head().seq;
    const r = await ingestFile({ dir, log, dataset: 'prices', partition: '2024', file: writeCsv(join(files, 'c.csv'), 500, 3), key: ['id'], whVersion: 'test', statfs: volume(0.85), logger });
    expect(r.status).toBe('written');
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'DiskWatermarkCrossed', 'PartitionWritten', 'HealthReported', 'LeaseReleased']);
    expect(log.read({ fromSeq: seq + 1, types: ['DiskWatermarkCrossed'] })[0]!.data).toMatchObject({ level: 'warning', path: warehousePaths(dir).root });
    expect(lines.find((l) => l['alert'] === 'disk_warning')).toMatchObject({ level: 40, usedFraction: expect.closeTo(0.85, 6) });
  });

  it('at 91% used the write succeeds with a critical alert', async () => {
    const seq = log.head().seq;
    const r = await ingestFile({ dir, log, dataset: 'prices', partition: '2025', file: writeCsv(join(files, 'd.csv'), 500, 4), key: ['id'], whVersion: 'test', statfs: volume(0.91) });
    expect(r.status).toBe('written');
    expect(log.read({ fromSeq: seq + 1, types: ['DiskWatermarkCrossed'] })[0]!.data).toMatchObject({ level: 'critical' });
  });

  it('under 80% nothing is recorded about the disk', async () => {
    const seq = log.head().seq;
    await ingestFile({ dir, log, dataset: 'prices', partition: '2026', file: writeCsv(join(files, 'e.csv'), 500, 5), key: ['id'], whVersion: 'test', statfs: volume(0.5) });
    expect(typesAfter(log, seq)).not.toContain('DiskWatermarkCrossed');
  });

  it('less than twice the file size free is refused with DISK_FULL before anything is written', async () => {
    const before = manifestState(log);
    const seq = log.head().seq;
    const tiny: StatFs = () => ({ bsize: 4096, blocks: 4, bavail: 2 }); // a 16 KiB volume, half free
    const f = writeCsv(join(files, 'f.csv'), 500, 6);
    const e = await refusal(ingestFile({ dir, log, dataset: 'prices', partition: '2027', file: f, key: ['id'], whVersion: 'test', statfs: tiny }));
    expect(e.code).toBe('DISK_FULL');
    expect(e.message).toMatch(/^only 8192 bytes free on the warehouse volume; this write needs about \d+ \(2x its estimated size\)$/);
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'LeaseReleased']);
    expect(manifestState(log)).toEqual(before);
    expect(quarantineAt(log)).toEqual([]);
  });
});

/** Try to mount a 2 MiB tmpfs (needs root or CAP_SYS_ADMIN); report why not if it fails. */
function probeTmpfs(): { ok: true; dir: string } | { ok: false; reason: string } {
  const dir = tempDir('wh-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return { ok: false, reason: `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()})` };
  }
  const s = statfsSync(dir);
  if (s.blocks * s.bsize > 4 * 1024 * 1024) {
    execFileSync('umount', [dir]);
    return { ok: false, reason: 'mount succeeded but the volume is not the requested 2 MiB' };
  }
  return { ok: true, dir };
}
const tmpfs = probeTmpfs();
const skipReason = tmpfs.ok ? '' : ` [skipped: ${tmpfs.reason}]`;

describe('a real full disk (2 MiB tmpfs)', () => {
  let dir = '';
  let log: EventLog | undefined;
  let files: string;
  beforeAll(async () => {
    if (!tmpfs.ok) return;
    files = tempDir('wh-tmpfs-files-');
    dir = join(tmpfs.dir, 'wh');
    initWarehouse(dir, 'test');
    log = openWarehouseLog(dir);
    await ingestFile({ dir, log, dataset: 'small', partition: 'all', file: writeCsv(join(files, 'small.csv'), 20, 1), key: ['id'], whVersion: 'test' });
  });
  afterAll(() => {
    log?.close();
    if (tmpfs.ok) {
      try {
        execFileSync('umount', [tmpfs.dir]);
      } catch {
        execFileSync('umount', ['-l', tmpfs.dir]);
      }
      rmSync(tmpfs.dir, { recursive: true, force: true });
    }
  });

  const expectPreviousStateReadable = async (): Promise<void> => {
    const q = await runQuery(dir, log!, 'SELECT count(*) AS n FROM small');
    expect(q.rows).toEqual([{ n: 20 }]);
    expect((await verifyWarehouse(dir, log!, { record: false })).ok).toBe(true);
    expect(currentLeases(log!)).toEqual([]);
  };

  it.skipIf(!tmpfs.ok)(`a file too big for the volume is refused up front with DISK_FULL (real statfs)${skipReason}`, async () => {
    const before = manifestState(log!);
    const big = writeCsv(join(files, 'big.csv'), 60_000, 2); // ~2.4 MB of CSV: 2x does not fit in 2 MiB
    const e = await refusal(ingestFile({ dir, log: log!, dataset: 'big', partition: 'all', file: big, key: ['id'], whVersion: 'test' }));
    expect(e.code).toBe('DISK_FULL');
    expect(e.message).toMatch(/^only \d+ bytes free on the warehouse volume/);
    expect(manifestState(log!)).toEqual(before);
    await expectPreviousStateReadable();
  });

  it.skipIf(!tmpfs.ok)(`ENOSPC during the object write: DISK_FULL, QuarantineAdded, previous state readable${skipReason}`, async () => {
    const before = manifestState(log!);
    const seq = log!.head().seq;
    const big = writeCsv(join(files, 'big2.csv'), 250_000, 3); // ~3 MB as Parquet
    // The space check is told there is room (as if another process filled the disk after it ran).
    const e = await refusal(
      ingestFile({ dir, log: log!, dataset: 'big', partition: 'all', file: big, key: ['id'], whVersion: 'test', statfs: volume(0.1) }),
    );
    expect(e.code).toBe('DISK_FULL');
    expect(e.message).toBe('the disk filled up while writing big/all; the partition was not recorded and the previous state is intact');
    expect(e.suggestion).toMatch(/partial file is in quarantine\/\S+/);

    // Recorded: the quarantine entry (and lease bookkeeping), nothing else.
    expect(typesAfter(log!, seq).filter((t) => !t.startsWith('Lease'))).toEqual(['QuarantineAdded']);
    const [q] = quarantineAt(log!);
    expect(q).toMatchObject({ dataset: 'big', partition: 'all', rule: 'ENOSPC', reason: expect.stringContaining('disk full') });
    expect(q!.path.startsWith(join(warehousePaths(dir).quarantine, q!.id))).toBe(true);
    expect(existsSync(join(warehousePaths(dir).quarantine, q!.id))).toBe(true);
    expect(manifestState(log!)).toEqual(before);
    expect(planGc(dir, log!).orphans).toEqual([]);
    expect(readdirSync(warehousePaths(dir).tmp)).toEqual([]);
    await expectPreviousStateReadable();

    // And the warehouse keeps working: a small write after the failure succeeds.
    const ok = await ingestFile({ dir, log: log!, dataset: 'small', partition: 'more', file: writeCsv(join(files, 'small2.csv'), 10, 4), key: ['id'], whVersion: 'test' });
    expect(ok.status).toBe('written');
  });

  it.skipIf(!tmpfs.ok)(`wh sync: ENOSPC mid-transfer stops the COPY, discards its connection, quarantines, and the next run resumes${skipReason}`, async () => {
    const db = await createTestDatabase('sync_enospc');
    // 2021 is tiny; 2022 is ~4 MB of Parquet (hex text compresses poorly): more than the volume holds.
    await db.session.query(`CREATE SCHEMA crsp;
      CREATE TABLE crsp.msf (cusip varchar(64), permno integer, date date, prc numeric(11,5), ret numeric(10,6));
      INSERT INTO crsp.msf SELECT md5(g::text), g, '2021-01-29', 10, 0.01 FROM generate_series(1, 50) g;
      INSERT INTO crsp.msf SELECT md5(g::text) || md5((g * 7)::text), g, '2022-01-31', g % 1000, (g % 200 - 100) / 1000.0 FROM generate_series(1, 120000) g;
      COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-02-08)'`);
    const source = await connectWrds({ settings: { host: db.config.host, port: db.config.port, database: db.config.database, user: db.config.user, sslmode: 'disable' }, password: new Secret(db.config.password) });
    const sync = () => syncDatasets({ dir, log: log!, source, datasets: findDatasets(['crsp_msf']), whVersion: 'test', statfs: volume(0.1), concurrency: 1 });
    try {
      const seq = log!.head().seq;
      const [r] = await sync();
      expect(r!.status).toBe('failed');
      expect(r!.error?.code).toBe('DISK_FULL');
      expect(manifestAt(log!, undefined, 'crsp_msf').map((m) => m.partition)).toEqual(['2021']);
      expect(quarantineAt(log!).filter((q) => q.dataset === 'crsp_msf')).toEqual([expect.objectContaining({ partition: '2022', rule: 'ENOSPC' })]);
      expect(typesAfter(log!, seq).filter((t) => !t.startsWith('Lease'))).toEqual(['SyncStarted', 'SchemaRegistered', 'PartitionWritten', 'QuarantineAdded', 'SyncFailed']);
      expect(currentLeases(log!)).toEqual([]);
      expect(readdirSync(warehousePaths(dir).tmp, { recursive: true }).filter((f) => /\.(parquet|fifo)$/.test(String(f)))).toEqual([]);
      // The abandoned COPY's connection was discarded, not pooled mid-transfer: the pool still answers,
      // and the server has no COPY left running.
      expect(await source.query('SELECT 41 + 1 AS n')).toEqual([{ n: 42 }]);
      let copying = -1;
      for (let i = 0; i < 50 && copying !== 0; i++) {
        const [a] = await db.session.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY%' AND state <> 'idle'`).then((x) => x.rows);
        copying = a!.n;
        if (copying !== 0) await new Promise((ok) => setTimeout(ok, 100));
      }
      expect(copying).toBe(0);

      // Room again: the next run skips 2021 and pulls 2022.
      execFileSync('mount', ['-o', 'remount,size=64m', tmpfs.ok ? tmpfs.dir : '']);
      const [again] = await sync();
      expect(again!.status).toBe('synced');
      expect(Object.fromEntries(again!.partitions.map((p) => [p.partition, p.status]))).toEqual({ '2021': 'skipped', '2022': 'written' });
      const q = await runQuery(dir, log!, 'SELECT count(*) AS n FROM crsp_msf');
      expect(q.rows).toEqual([{ n: 120_050 }]);
    } finally {
      await source.close();
      await db.drop();
    }
  });
});

