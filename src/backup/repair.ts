/**
 * `wh repair`: put back, from a backup, the objects `wh audit --verify` calls damaged or missing
 * (each hash-checked; a damaged file is moved to quarantine first, never deleted), and restore the
 * log from a backup when the log itself was lost or damaged.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLease, WarehouseError, type EventLog } from '../log/index.js';
import { objectPath, recordAnchor, warehousePaths } from '../store/index.js';
import { verifyWarehouse } from '../store/index.js';
import type { BackupKey } from './crypto.js';
import { authenticateManifest, objectName, type BackupManifest } from './manifest.js';
import { chooseBackup, fetchObject, listBackups, restoreLogFile } from './restore.js';
import { batchesByBytes, type BackupTarget } from './target.js';

export interface RepairResult {
  readonly damaged: number;
  readonly repaired: readonly string[];
  readonly unrepaired: readonly { readonly object: string; readonly reason: string }[];
  readonly backupId: string | null;
}

/**
 * Repair damaged or missing objects from the newest backup holding each (a remote's in batches,
 * one download call per batch). Records ObjectsRepaired.
 */
export async function repairObjects(
  dir: string,
  log: EventLog,
  target: BackupTarget,
  key: BackupKey,
  targetName: string,
  options: {
    onQuarantined?: (hash: string) => void | Promise<void>;
    /** Remotes: bytes downloaded per rclone call (default 256 MB). */
    batchBytes?: number;
  } = {},
): Promise<RepairResult> {
  const report = await verifyWarehouse(dir, log, { record: false });
  const damaged = [...new Set(report.damaged.map((d) => d.object))];
  if (damaged.length === 0) return { damaged: 0, repaired: [], unrepaired: [], backupId: null };
  return withLease(log, 'warehouse', { purpose: 'repair' }, async (lease) => {
    const manifests = (await listBackups(target)).reverse();
    const paths = warehousePaths(dir);
    const scratch = mkdtempSync(join(paths.tmp, 'repair-'));
    const repaired: string[] = [];
    const unrepaired: { object: string; reason: string }[] = [];
    let used = null as BackupManifest | null;
    try {
      // The newest backup holding each damaged object (its manifest authenticated once).
      const found: { hash: string; bytes: number; m: BackupManifest }[] = [];
      const checked = new Set<BackupManifest>();
      for (const h of damaged) {
        const m = manifests.find((x) => x.objects.some((o) => o.hash === h));
        if (m === undefined) {
          unrepaired.push({ object: h, reason: `no backup on ${target.location} holds it` });
          continue;
        }
        if (!checked.has(m)) authenticateManifest(m, key);
        checked.add(m);
        found.push({ hash: h, bytes: m.objects.find((o) => o.hash === h)!.bytes, m });
      }
      // A remote is downloaded in batches, one rclone call each (as restore and verify do); a
      // directory is read in place. A batch whose download fails is fetched object by object, so
      // each failure is named by its object.
      for (const [i, batch] of batchesByBytes(found, options.batchBytes).entries()) {
        let local: string | null = target.getTree === undefined ? null : join(scratch, `batch-${i}`);
        if (local !== null) {
          try {
            await target.getTree!(batch.map((b) => objectName(b.hash)), local);
          } catch {
            rmSync(local, { recursive: true, force: true });
            local = null;
          }
        }
        for (const { hash: h, m } of batch) {
          const dest = objectPath(dir, h);
          try {
            if (existsSync(dest)) {
              const q = join(paths.quarantine, `repair-${Date.now()}`);
              mkdirSync(q, { recursive: true });
              renameSync(dest, join(q, `${h}.parquet`));
            }
            await options.onQuarantined?.(h);
            await fetchObject(target, key, h, dest, scratch, local === null ? {} : { prefetched: join(local, objectName(h)) });
            repaired.push(h);
            used = used === null || m.backupId > used.backupId ? m : used;
          } catch (e) {
            if (e instanceof WarehouseError && e.code === 'BACKUP_KEY') throw e;
            unrepaired.push({ object: h, reason: (e as Error).message });
          }
        }
        if (local !== null) rmSync(local, { recursive: true, force: true });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    log.append(
      [{ type: 'ObjectsRepaired', data: { objects: repaired, from: targetName, backupId: used?.backupId ?? '', unrepaired: unrepaired.map((u) => u.object) } }],
      lease,
    );
    return { damaged: damaged.length, repaired, unrepaired, backupId: used?.backupId ?? null };
  });
}

/**
 * Replace a lost or damaged log with a backup's copy. The damaged file (if any) is kept beside it
 * as `wh.log.damaged-<time>`; events after the backup's head are lost, and objects they wrote are
 * orphans (`wh gc` would remove them: copy them aside first; see the runbook).
 */
export async function repairLog(dir: string, target: BackupTarget, key: BackupKey, at?: string): Promise<{ backupId: string; headSeq: number; keptAs: string | null }> {
  const paths = warehousePaths(dir);
  const m = await chooseBackup(target, key, at);
  mkdirSync(paths.tmp, { recursive: true });
  const scratch = mkdtempSync(join(paths.tmp, 'repair-log-'));
  let keptAs: string | null = null;
  try {
    if (existsSync(paths.log)) {
      keptAs = `${paths.log}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(paths.log, keptAs);
      for (const s of ['-wal', '-shm']) if (existsSync(paths.log + s)) renameSync(paths.log + s, keptAs + s);
    }
    await restoreLogFile(target, key, m, paths.log, scratch);
    // The operator chose to go back to this backup: its head is the new anchor (the old one is kept aside).
    recordAnchor(dir, m.head, undefined, { replace: true });
    return { backupId: m.backupId, headSeq: m.head.seq, keptAs };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
