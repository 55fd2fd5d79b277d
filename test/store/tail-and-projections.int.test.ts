/**
 * Issue 10, items 3, 4 and 7 (chain runbook): `wh audit --verify` proves the projections equal the
 * fold of the log, detects a lost tail of the log against the tail anchor (deleted events, a
 * truncated WAL) and names the lost seqs; writers refuse to reuse them and `gc --apply` refuses to
 * delete anything. Real `wh` processes, real SQLite files.
 */
import Database from 'better-sqlite3';
import { existsSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestAt } from '../../src/projections/index.js';
import { anchorPath, objectPath, openWarehouseLog, readAnchor, recordAnchor, warehousePaths } from '../../src/store/index.js';
import { twoDatasetWarehouse } from '../support/damage.js';
import { writeCsv } from './crash-invariants.js';
import { cleanupTempDirs, ensureBuilt, lineReader, runWh, spawnNode, supportDir } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);
beforeAll(() => ensureBuilt());

let W: string;
let files: string;
beforeEach(async () => {
  ({ dir: W, files } = await twoDatasetWarehouse('wh-tail-'));
});

interface Report {
  ok: boolean;
  chain: { seq: number; problem: string }[];
  projections: { projection: string; key: string; problem: string }[];
  damaged: unknown[];
}
const verify = async () => {
  const r = await runWh(['--json', 'audit', '--verify'], { warehouse: W });
  return { code: r.code, report: r.json<Report>(), r };
};
const countType = (type: string): number => {
  const log = openWarehouseLog(W, { readonly: true });
  try {
    return log.read({ types: [type] }).length;
  } finally {
    log.close();
  }
};
const ingest = (partition: string, seed: number) => runWh(['--json', 'ingest', 't', writeCsv(join(files, `t-${partition}-${seed}.csv`), 50, seed), '--partition', partition, '--key', 'id'], { warehouse: W });

describe('verify proves the projections', () => {
  it('a proj_manifest row pointed at another intact object is reported, and nothing is recorded as verified', async () => {
    const log = openWarehouseLog(W, { readonly: true });
    const uObject = manifestAt(log).find((e) => e.dataset === 'u')!.object;
    log.close();
    const db = new Database(warehousePaths(W).log);
    db.prepare("UPDATE proj_manifest SET value = json_set(value, '$.object', ?) WHERE key = 't/2022' AND end_seq IS NULL").run(uObject);
    db.close();
    const verifiedBefore = countType('ChecksumVerified');
    const { code, report, r } = await verify();
    expect(code).toBe(3);
    expect(report.ok).toBe(false);
    expect(report.projections).toEqual([expect.objectContaining({ projection: 'manifest', key: 't/2022' })]);
    expect(report.projections[0]!.problem).toContain(uObject);
    expect(countType('ChecksumVerified')).toBe(verifiedBefore);
    const human = await runWh(['audit', '--verify'], { warehouse: W });
    expect(human.stdout).toContain('proj_manifest t/2022');
    expect(human.stdout).toContain('docs/runbooks/log-recovery.md');
    expect(r.stderr).toBe('');
  });

  it('a clean warehouse verifies, with projections equal to the fold', async () => {
    const { code, report } = await verify();
    expect(code).toBe(0);
    expect(report.projections).toEqual([]);
  });
});

describe('tail anchors', () => {
  it('each write command records the head outside the log', async () => {
    expect(existsSync(anchorPath(W))).toBe(false); // library writes do not anchor; commands do
    const r = await ingest('2024', 11);
    expect(r.code, r.stderr).toBe(0);
    const log = openWarehouseLog(W, { readonly: true });
    const head = log.head();
    log.close();
    expect(readAnchor(W)).toMatchObject({ seq: head.seq, hash: head.hash });
    // Never backwards.
    recordAnchor(W, { seq: 1, hash: 'x' });
    expect(readAnchor(W)!.seq).toBe(head.seq);
  });

  it('deleted last events (triggers dropped) are named by seq; writes and gc --apply are refused', async () => {
    expect((await ingest('2024', 12)).code).toBe(0);
    const anchor = readAnchor(W)!;
    const log = openWarehouseLog(W, { readonly: true });
    const written = log.read({ types: ['PartitionWritten'], reverse: true, limit: 1 })[0]!;
    log.close();
    const orphan = objectPath(W, (written.data as { object: string }).object);
    const db = new Database(warehousePaths(W).log);
    db.exec('DROP TRIGGER events_no_delete');
    db.prepare('DELETE FROM events WHERE seq >= ?').run(written.seq);
    db.close();

    const { code, report } = await verify();
    expect(code).toBe(3);
    const lost = report.chain.filter((p) => p.problem.startsWith('event lost'));
    expect(lost.map((p) => p.seq)).toEqual(Array.from({ length: anchor.seq - written.seq + 1 }, (_, i) => written.seq + i));
    expect((await runWh(['audit', '--verify'], { warehouse: W })).stdout).toContain('docs/runbooks/log-recovery.md');
    const status = await runWh(['--json', 'status'], { warehouse: W });
    expect(status.json<{ lostEvents: { seq: number }[] }>().lostEvents.map((p) => p.seq)).toEqual(lost.map((p) => p.seq));
    expect((await runWh(['status'], { warehouse: W })).stdout).toContain('LOG LOST EVENTS');

    // The lost seqs are not reused.
    const again = await ingest('2025', 13);
    expect(again.code).toBe(3);
    expect(again.errorJson().code).toBe('LOG_CORRUPT');
    const after = openWarehouseLog(W, { readonly: true });
    expect(after.head().seq).toBe(written.seq - 1);
    after.close();

    // The orphan is the only evidence of the lost PartitionWritten: gc must not delete it.
    const gc = await runWh(['--json', 'gc', '--apply'], { warehouse: W });
    expect(gc.code).toBe(3);
    expect(gc.errorJson().code).toBe('VERIFICATION_FAILED');
    expect(existsSync(orphan)).toBe(true);
  });

  it('a WAL truncated after commits is detected as lost events', async () => {
    const holder = spawnNode(join(supportDir, 'hold-log.mjs'), [warehousePaths(W).log]);
    const next = lineReader(holder.child);
    await next();
    const r = await ingest('2024', 14);
    expect(r.code, r.stderr).toBe(0);
    const anchor = readAnchor(W)!;
    holder.child.kill('SIGKILL');
    await holder.result;
    const wal = `${warehousePaths(W).log}-wal`;
    expect(existsSync(wal)).toBe(true);
    truncateSync(wal, 0);
    const { code, report } = await verify();
    expect(code).toBe(3);
    expect(report.chain.some((p) => p.seq === anchor.seq && p.problem.startsWith('event lost'))).toBe(true);
  });
});

describe('a broken hash chain', () => {
  it('points to the log-recovery runbook', async () => {
    const db = new Database(warehousePaths(W).log);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare("UPDATE events SET data = json_set(data, '$.rows', 1) WHERE seq = (SELECT max(seq) FROM events WHERE type = 'PartitionWritten')").run();
    db.close();
    const r = await runWh(['audit', '--verify'], { warehouse: W });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('hash chain: BROKEN');
    expect(r.stdout).toContain('docs/runbooks/log-recovery.md');
    expect(r.stdout).not.toMatch(/see docs\/runbooks\/object-recovery.md$/m);
  });
});
