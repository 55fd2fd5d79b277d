/**
 * `wh backup run`: an incremental, encrypted backup. The log is copied through SQLite's online
 * backup (a consistent point while writers continue); the objects that copy names are uploaded,
 * each once (content addressing: what the target already holds is skipped), encrypted; the
 * encrypted log copy follows and the manifest goes last. Killed part-way, a rerun uploads only
 * what is missing; without its manifest a partial backup is never offered for restore.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EventLog, WarehouseError, isWarehouseError } from '../log/index.js';
import { collectedObjects, manifestHistory } from '../projections/index.js';
import { objectPath } from '../store/index.js';
import { makeOwnedTempDir } from '../store/index.js';
import { projections } from '../store/index.js';
import { ENCRYPTION_OVERHEAD, decryptFile, encryptFile, type BackupKey } from './crypto.js';
import { listBackups } from './restore.js';
import { flushQueue, settleAll } from './settle.js';
import { cryptPool } from './crypt-pool.js';
import { backupIdFor, logAad, logName, manifestName, objectAad, objectName, sealManifest, type BackupManifest } from './manifest.js';
import { batchesByBytes, type BackupTarget } from './target.js';
import { hashFile } from '../store/index.js';

export interface BackupProgress {
  readonly phase: 'log' | 'objects' | 'manifest';
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

export interface RunBackupOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly name: string;
  readonly target: BackupTarget;
  readonly key: BackupKey;
  readonly onProgress?: (p: BackupProgress) => void;
  /** rclone targets: stage this many bytes of encrypted objects per upload call. */
  readonly batchBytes?: number;
}

export interface BackupResult {
  readonly name: string;
  readonly backupId: string;
  readonly headSeq: number;
  readonly objects: number;
  readonly uploadedObjects: number;
  readonly uploadedBytes: number;
  readonly durationMs: number;
  readonly keyId: string;
}

/** Objects in flight at once on a directory target: two more than the crypt workers take at once, so none waits. */
export const OBJECT_CONCURRENCY = cryptPool().capacity + 2;

/** The objects a log copy needs: every version it names that retention has not collected. */
function neededObjects(logCopy: string): { warehouseId: string; objects: Map<string, number> } {
  const snap = EventLog.open(logCopy, { readonly: true, projections });
  try {
    const first = snap.read({ fromSeq: 1, toSeq: 1 })[0];
    const warehouseId = first?.type === 'WarehouseInitialized' ? first.data.warehouseId : 'unknown';
    const gone = collectedObjects(snap);
    const objects = new Map<string, number>();
    for (const r of manifestHistory(snap)) if (!gone.has(r.value.object)) objects.set(r.value.object, r.value.bytes);
    return { warehouseId, objects };
  } finally {
    snap.close();
  }
}

/**
 * The objects the target lacks. A file a complete backup's manifest names was flushed before that
 * manifest was written, so its name and size are trusted. A file no manifest names is left by a run
 * that was killed (or lost power) before its manifest: a directory target's copy is decrypted and
 * hash-checked in place, a remote one is uploaded again.
 */
async function objectsToUpload(target: BackupTarget, key: BackupKey, objects: ReadonlyMap<string, number>, scratch: string): Promise<[string, number][]> {
  const remote = await target.list('objects');
  const manifests = await listBackups(target);
  const newest = manifests[manifests.length - 1];
  if (newest !== undefined && newest.keyId !== key.id) {
    throw new WarehouseError('BACKUP_KEY', `${target.location} holds backups under key ${newest.keyId}, not under the key given (${key.id}, from ${key.file})`, {
      suggestion: 'use the key the target was written with, or move the target to the new key with `wh backup rotate-key`',
    });
  }
  const inManifest = new Set(manifests.flatMap((m) => m.objects.map((x) => x.hash)));
  const todo: [string, number][] = [];
  for (const [h, bytes] of objects) {
    const name = objectName(h);
    if (remote.get(name)?.size !== bytes + ENCRYPTION_OVERHEAD) todo.push([h, bytes]);
    else if (!inManifest.has(h) && !(await intactInPlace(target, key, h, scratch))) todo.push([h, bytes]);
  }
  return todo;
}

async function intactInPlace(target: BackupTarget, key: BackupKey, h: string, scratch: string): Promise<boolean> {
  const path = target.localPath?.(objectName(h));
  if (path === undefined) return false;
  const out = join(scratch, 'check.plain');
  try {
    return (await decryptFile(path, out, key, objectAad(h), objectName(h))).sha256 === h;
  } catch {
    return false;
  } finally {
    rmSync(out, { force: true });
  }
}

/**
 * Run one backup and record BackupCompleted (or BackupFailed, then rethrow).
 * @throws WarehouseError `BACKUP_FAILED`, `DISK_FULL` (target full), `OBJECT_MISSING`.
 */
export async function runBackup(o: RunBackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const staging = makeOwnedTempDir(o.dir, 'backup');
  cryptPool().warm(); // the workers start while the log is copied
  let pendingLog: Promise<unknown> | undefined;
  try {
    const copy = join(staging, 'wh.log');
    const head = await o.log.backupTo(copy);
    const backupId = backupIdFor(o.log.now(), head.seq);
    const { warehouseId, objects } = neededObjects(copy);
    for (const h of objects.keys()) {
      if (!existsSync(objectPath(o.dir, h))) {
        throw new WarehouseError('OBJECT_MISSING', `object ${h} named by the log is missing from the store, so the backup would be incomplete`, {
          suggestion: 'run `wh audit --verify` to list damaged objects and `wh repair` to restore them from an earlier backup',
        });
      }
    }
    // The log copy is hashed, encrypted and uploaded while the objects are; the manifest waits for both.
    const logDone = (async () => {
      const logHash = await hashFile(copy);
      const encLog = join(staging, 'log.whenc');
      const bytes = await encryptFile(copy, encLog, o.key, logAad(backupId));
      await o.target.put(encLog, logName(backupId));
      return { ...logHash, encrypted: bytes };
    })();
    logDone.catch(() => undefined); // awaited below, after the objects (whose failure comes first)
    pendingLog = logDone;
    const todo = await objectsToUpload(o.target, o.key, objects, staging);
    let uploadedBytes = 0;
    let done = 0;
    const progress = (phase: BackupProgress['phase']) => o.onProgress?.({ phase, done, total: todo.length, bytes: uploadedBytes });
    progress('objects');
    const putWith = o.target.putWith;
    if (putWith !== undefined) {
      // A directory: encrypt straight into the target's temporary, one write per object. Largest
      // first, so no worker is left with a big object while the others idle at the end.
      todo.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      let next = 0;
      let failed = false;
      // Each object is encrypted by a crypt worker (one per CPU); its flush starts as soon as it
      // has its name and runs on the I/O threads while the workers encrypt the next ones. All
      // flushes, then the directories holding the new names (each once), are awaited before the
      // manifest (which alone makes the objects part of a backup) is written.
      const syncNames = o.target.syncNames;
      const flushes = flushQueue((name) => syncNames?.([name], 'files') ?? Promise.resolve());
      const worker = async (): Promise<void> => {
        while (next < todo.length && !failed) {
          const [h] = todo[next++]!;
          await putWith(
            objectName(h),
            async (tmp) => {
              const n = await encryptFile(objectPath(o.dir, h), tmp, o.key, objectAad(h), { fsync: false });
              uploadedBytes += n;
            },
            { deferSync: true },
          );
          flushes.add(objectName(h));
          done += 1;
          progress('objects');
        }
      };
      // As many objects in flight as there are crypt workers, plus one so none waits for work.
      await settleAll(Array.from({ length: Math.min(OBJECT_CONCURRENCY, Math.max(1, todo.length)) }, () => worker().catch((e: unknown) => ((failed = true), Promise.reject(e)))));
      // The directories last, each once, then their parent: only now are the new names durable.
      const names = todo.map(([h]) => objectName(h));
      await syncNames?.(names, 'directories'); // objects/ab/, each new file's folder
      await syncNames?.([...new Set(names.map((n) => dirname(n)))], 'directories'); // objects/
      await syncNames?.(['objects'], 'directories'); // the target's root
    } else {
      for (const [i, objs] of batchesByBytes(todo.map(([hash, bytes]) => ({ hash, bytes })), o.batchBytes).entries()) {
        const batch: string[] = [];
        let size = 0;
        const tree = join(staging, `batch-${i}`);
        for (const { hash: h } of objs) {
          const name = objectName(h);
          mkdirSync(join(tree, 'objects', h.slice(0, 2)), { recursive: true });
          size += await encryptFile(objectPath(o.dir, h), join(tree, name), o.key, objectAad(h));
          batch.push(name);
        }
        await o.target.putTree(tree, batch);
        rmSync(tree, { recursive: true, force: true });
        uploadedBytes += size;
        done += batch.length;
        progress('objects');
      }
    }
    progress('log');
    const logHash = await logDone;
    uploadedBytes += logHash.encrypted;
    progress('manifest');
    const manifest: Omit<BackupManifest, 'mac'> = {
      format: 'wh-backup-manifest/1',
      backupId,
      warehouseId,
      createdAt: new Date(o.log.now()).toISOString(),
      head: { seq: head.seq, hash: head.hash, time: head.time },
      keyId: o.key.id,
      log: { name: logName(backupId), bytes: logHash.bytes, sha256: logHash.hash },
      objects: [...objects].map(([hash, bytes]) => ({ hash, bytes })).sort((a, b) => (a.hash < b.hash ? -1 : 1)),
    };
    const mfile = join(staging, 'manifest.json');
    writeFileSync(mfile, sealManifest(manifest, o.key));
    await o.target.put(mfile, manifestName(backupId));
    const result: BackupResult = {
      name: o.name,
      backupId,
      headSeq: head.seq,
      objects: objects.size,
      uploadedObjects: todo.length,
      uploadedBytes,
      durationMs: Date.now() - started,
      keyId: o.key.id,
    };
    o.log.append([{ type: 'BackupCompleted', data: { ...result, headHash: head.hash } }]);
    return result;
  } catch (e) {
    try {
      o.log.append([{ type: 'BackupFailed', data: { name: o.name, code: isWarehouseError(e) ? e.code : 'INTERNAL', message: (e as Error).message ?? String(e) } }]);
    } catch {
      // The log itself may be what failed; the error below still reaches the operator.
    }
    throw e;
  } finally {
    await pendingLog?.catch(() => undefined); // nothing may still write into staging when it is removed
    rmSync(staging, { recursive: true, force: true });
  }
}
