/**
 * Reading backups back: listing complete backups (those with a manifest), restoring one into a new
 * warehouse directory, and verifying a backup by fetching and re-hashing. A restore writes every
 * object (decrypted, hash-checked, renamed into place) before the log, so an interrupted restore
 * is never a warehouse; a rerun skips the objects already in place.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EventLog, WarehouseError } from '../log/index.js';
import { objectPath, recordAnchor, warehousePaths } from '../store/index.js';
import { fsyncPath, hashFile } from '../store/index.js';
import { projections } from '../store/index.js';
import { ENCRYPTION_OVERHEAD, decryptFile, type BackupKey } from './crypto.js';
import { authenticateManifest, logAad, manifestName, objectAad, objectName, parseManifest, type BackupManifest } from './manifest.js';
import { batchesByBytes, readRemoteText, type BackupTarget } from './target.js';
import { flushQueue, settleAll } from './settle.js';
import { cryptPool } from './crypt-pool.js';

/** Complete backups on a target, oldest first (unauthenticated: listing needs no key). */
export async function listBackups(target: BackupTarget): Promise<BackupManifest[]> {
  const files = [...(await target.list('manifests')).keys()].filter((f) => f.endsWith('.json')).sort();
  const scratch = mkdtempSync(join(tmpdir(), 'wh-manifest-'));
  try {
    const out: BackupManifest[] = [];
    for (const [i, f] of files.entries()) out.push(parseManifest(await readRemoteText(target, f, join(scratch, `${i}.json`)), f));
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The backup `at` names (a backup id, or its unique prefix), else the newest; authenticated.
 * @throws WarehouseError `BACKUP_FAILED` when the target holds no complete backup.
 */
export async function chooseBackup(target: BackupTarget, key: BackupKey, at?: string): Promise<BackupManifest> {
  const all = await listBackups(target);
  if (all.length === 0) {
    throw new WarehouseError('BACKUP_FAILED', `${target.location} holds no complete backup (no manifest)`, { suggestion: 'run `wh backup run` first; a run killed before its manifest is not a backup' });
  }
  const hits = at === undefined ? [all[all.length - 1]!] : all.filter((m) => m.backupId === at || m.backupId.startsWith(at));
  if (hits.length !== 1) {
    throw new WarehouseError('INVALID_ARGUMENT', `${at} names ${hits.length === 0 ? 'no' : 'more than one'} backup on ${target.location}`, { suggestion: `backups: ${all.map((m) => m.backupId).join(', ')}` });
  }
  authenticateManifest(hits[0]!, key);
  return hits[0]!;
}

/** Fetch, decrypt and hash-check one object into place at `dest` (via a temporary). */
export async function fetchObject(
  target: BackupTarget,
  key: BackupKey,
  hash: string,
  dest: string,
  scratch: string,
  options: { deferSync?: boolean; prefetched?: string; dirMade?: boolean } = {},
): Promise<void> {
  const enc = join(scratch, `${hash}.whenc`);
  const plain = join(dirname(dest), `.${hash}.restoring-${process.pid}`);
  if (options.dirMade !== true) mkdirSync(dirname(dest), { recursive: true });
  try {
    // A directory target is read in place; a remote is fetched to scratch first.
    const src = options.prefetched ?? target.localPath?.(objectName(hash)) ?? enc;
    if (src === enc) await target.get(objectName(hash), enc);
    else if (!existsSync(src)) throw new WarehouseError('BACKUP_FAILED', `backup object ${objectName(hash)} is missing from ${target.location}`, { suggestion: 'restore from another backup with --at; run `wh backup verify`' });
    // Decrypted, hash-checked, made read-only (objects are immutable, as the write path makes
    // them) and renamed into place by a crypt worker; the rename happens only when the hash matches.
    const got = await decryptFile(src, plain, key, objectAad(hash), objectName(hash), { expect: hash, renameTo: dest, mode: 0o444, fsync: options.deferSync !== true });
    if (got.sha256 !== hash) {
      throw new WarehouseError('BACKUP_FAILED', `backup object ${objectName(hash)} decrypts to content hashing ${got.sha256}, not ${hash}`, { suggestion: 'restore from another backup with --at; run `wh backup verify`' });
    }
  } finally {
    rmSync(enc, { force: true });
    rmSync(plain, { force: true });
    if (options.prefetched !== undefined) rmSync(options.prefetched, { force: true });
  }
}

export interface RestoreOptions {
  readonly target: BackupTarget;
  readonly key: BackupKey;
  readonly out: string;
  readonly at?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Objects in flight at once (default: two more than the crypt workers take at once). */
  readonly concurrency?: number;
  /** Remotes: bytes downloaded per rclone call (default 256 MB). */
  readonly batchBytes?: number;
}

export interface RestoreResult {
  readonly backupId: string;
  readonly dir: string;
  readonly headSeq: number;
  readonly objects: number;
  readonly fetched: number;
}

/**
 * Build a complete warehouse in `out` from a backup (the newest, or `at`).
 * @throws WarehouseError `ALREADY_A_WAREHOUSE` when `out` holds a warehouse; `BACKUP_KEY` / `BACKUP_FAILED`.
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const paths = warehousePaths(o.out);
  if (existsSync(paths.log)) {
    throw new WarehouseError('ALREADY_A_WAREHOUSE', `${paths.root} already holds a warehouse`, { suggestion: 'restore into a new, empty directory; use `wh repair` to fix a damaged warehouse in place' });
  }
  const foreign = existsSync(paths.root) ? readdirSync(paths.root).filter((f) => !['objects', 'tmp', 'quarantine'].includes(f)) : [];
  if (foreign.length > 0) {
    throw new WarehouseError('INVALID_ARGUMENT', `${paths.root} is not empty (${foreign.slice(0, 3).join(', ')})`, { suggestion: 'restore into a new, empty directory' });
  }
  cryptPool().warm(); // the workers start while the manifest is read
  const m = await chooseBackup(o.target, o.key, o.at);
  for (const d of [paths.root, paths.objects, paths.tmp, paths.quarantine]) mkdirSync(d, { recursive: true });
  const scratch = mkdtempSync(join(paths.tmp, 'restore-'));
  // The log is fetched, decrypted and checked while the objects decrypt; it is renamed into place
  // only after every object and directory is on disk, so an interrupted restore is never a warehouse.
  const log = prepareLogFile(o.target, o.key, m, scratch);
  log.catch(() => undefined); // awaited below; a failure among the objects comes first
  try {
    let fetched = 0;
    let done = 0;
    // Every object is flushed before the log that names them; each flush starts as soon as the
    // object has its name, overlapping the decryption of the next ones (a resumed restore flushes
    // the objects a killed run left too: they may never have reached the disk). Each directory is
    // flushed once its last object has its name.
    const flushes = flushQueue(fsyncPath);
    const dirs = flushQueue(fsyncPath, 8);
    const pending = new Map<string, number>();
    for (const obj of m.objects) {
      const d = dirname(objectPath(o.out, obj.hash));
      if (!pending.has(d)) mkdirSync(d, { recursive: true });
      pending.set(d, (pending.get(d) ?? 0) + 1);
    }
    const named = (dest: string): void => {
      flushes.add(dest);
      const d = dirname(dest);
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) dirs.add(d);
    };
    // Resuming: an object already in place with the right content is kept.
    const todo: BackupManifest['objects'] = [];
    for (const obj of m.objects) {
      const dest = objectPath(o.out, obj.hash);
      if (existsSync(dest) && (await hashFile(dest)).hash === obj.hash) {
        named(dest);
        o.onProgress?.(++done, m.objects.length);
      } else todo.push(obj);
    }
    // Largest first (within each download batch), so no worker is left with a big object at the end.
    todo.sort((a, b) => b.bytes - a.bytes || (a.hash < b.hash ? -1 : 1));
    // A remote is downloaded in batches (one rclone call each); a directory is read in place.
    for (const [i, batch] of batchesByBytes(todo, o.batchBytes).entries()) {
      const local = o.target.getTree === undefined ? null : join(scratch, `batch-${i}`);
      if (local !== null) await o.target.getTree!(batch.map((b) => objectName(b.hash)), local);
      let next = 0;
      let failed = false;
      // A few objects at a time: decryption, hashing and writing of one overlap the I/O of another.
      const worker = async (): Promise<void> => {
        while (next < batch.length && !failed) {
          const obj = batch[next++]!;
          const prefetched = local === null ? undefined : join(local, objectName(obj.hash));
          await fetchObject(o.target, o.key, obj.hash, objectPath(o.out, obj.hash), scratch, { deferSync: true, prefetched, dirMade: true });
          named(objectPath(o.out, obj.hash));
          fetched += 1;
          o.onProgress?.(++done, m.objects.length);
        }
      };
      await settleAll(Array.from({ length: Math.min(o.concurrency ?? cryptPool().capacity + 2, batch.length) }, () => worker().catch((e: unknown) => ((failed = true), Promise.reject(e)))));
      if (local !== null) rmSync(local, { recursive: true, force: true });
    }
    await settleAll([flushes.done(), dirs.done()]);
    await fsyncPath(paths.objects);
    // Then the log.
    renameSync(await log, paths.log);
    await fsyncPath(paths.root);
    recordAnchor(o.out, m.head);
    return { backupId: m.backupId, dir: paths.root, headSeq: m.head.seq, objects: m.objects.length, fetched };
  } finally {
    await log.catch(() => undefined); // nothing may still write into scratch when it is removed
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Fetch and decrypt a backup's log copy, check it, and rename it to `dest` (`scratch` on its volume). */
export async function restoreLogFile(target: BackupTarget, key: BackupKey, m: BackupManifest, dest: string, scratch: string): Promise<void> {
  renameSync(await prepareLogFile(target, key, m, scratch), dest);
  await fsyncPath(dirname(resolve(dest)));
}

/**
 * Fetch and decrypt a backup's log copy into `scratch`, check it against the manifest (hash and
 * head) and flush it; returns its name, for the caller to rename into place (same volume).
 */
async function prepareLogFile(target: BackupTarget, key: BackupKey, m: BackupManifest, scratch: string): Promise<string> {
  const enc = join(scratch, 'log.whenc');
  const plain = join(scratch, 'wh.log');
  try {
    // A directory target is read in place; a remote is fetched to scratch first.
    const src = target.localPath?.(m.log.name) ?? enc;
    if (src === enc) await target.get(m.log.name, enc);
    else if (!existsSync(src)) throw new WarehouseError('BACKUP_FAILED', `backup log ${m.log.name} is missing from ${target.location}`, { suggestion: 'restore from another backup with --at; run `wh backup verify`' });
    const got = await decryptFile(src, plain, key, logAad(m.backupId), m.log.name);
    if (got.sha256 !== m.log.sha256) {
      throw new WarehouseError('BACKUP_FAILED', `backup log ${m.log.name} does not match its manifest`, { suggestion: 'restore from another backup with --at' });
    }
    const copy = EventLog.open(plain, { readonly: true, projections });
    try {
      const head = copy.head();
      if (head.seq !== m.head.seq || head.hash !== m.head.hash) {
        throw new WarehouseError('BACKUP_FAILED', `backup log ${m.log.name} ends at seq ${head.seq}, not at the manifest's seq ${m.head.seq}`, { suggestion: 'restore from another backup with --at' });
      }
    } finally {
      copy.close();
    }
    for (const suffix of ['-wal', '-shm']) rmSync(`${plain}${suffix}`, { force: true });
    await fsyncPath(plain);
    return plain;
  } catch (e) {
    rmSync(plain, { force: true });
    throw e;
  } finally {
    rmSync(enc, { force: true });
  }
}

export interface BackupVerifyReport {
  readonly backupId: string;
  readonly ok: boolean;
  readonly objects: number;
  readonly problems: readonly { readonly file: string; readonly problem: string }[];
}

/**
 * Verify a backup: every file its manifest names is present with the right size and, unless
 * `quick`, fetched, authenticated and re-hashed.
 */
export async function verifyBackup(target: BackupTarget, key: BackupKey, options: { at?: string; quick?: boolean; scratch: string; batchBytes?: number }): Promise<BackupVerifyReport> {
  const m = await chooseBackup(target, key, options.at);
  const listing = new Map([...(await target.list('objects')), ...(await target.list('logs'))]);
  const problems: { file: string; problem: string }[] = [];
  const files = [
    ...m.objects.map((o) => ({ name: objectName(o.hash), aad: objectAad(o.hash), hash: o.hash, bytes: o.bytes })),
    { name: m.log.name, aad: logAad(m.backupId), hash: m.log.sha256, bytes: m.log.bytes },
  ];
  const present = files.filter((f) => {
    const remote = listing.get(f.name);
    if (remote === undefined) problems.push({ file: f.name, problem: 'missing' });
    else if (remote.size !== f.bytes + ENCRYPTION_OVERHEAD) problems.push({ file: f.name, problem: `size ${remote.size}, expected ${f.bytes + ENCRYPTION_OVERHEAD}` });
    else return true;
    return false;
  });
  if (!options.quick) {
    // Remotes are downloaded in batches (one rclone call each); directories are read in place.
    for (const [i, batch] of batchesByBytes(present, options.batchBytes).entries()) {
      const local = target.getTree === undefined ? null : join(options.scratch, `verify-${i}`);
      if (local !== null) await target.getTree!(batch.map((b) => b.name), local);
      for (const f of batch) {
        const src = local !== null ? join(local, f.name) : (target.localPath?.(f.name) ?? join(options.scratch, 'verify.whenc'));
        const plain = join(options.scratch, 'verify.plain');
        try {
          if (local === null && target.localPath === undefined) await target.get(f.name, src);
          const got = await decryptFile(src, plain, key, f.aad, f.name);
          if (got.sha256 !== f.hash) problems.push({ file: f.name, problem: `decrypts to sha256 ${got.sha256}, expected ${f.hash}` });
        } catch (e) {
          if (!(e instanceof WarehouseError) || e.code === 'BACKUP_KEY') throw e;
          problems.push({ file: f.name, problem: e.message });
        } finally {
          rmSync(plain, { force: true });
          if (local === null && target.localPath === undefined) rmSync(src, { force: true });
        }
      }
      if (local !== null) rmSync(local, { recursive: true, force: true });
    }
  }
  return { backupId: m.backupId, ok: problems.length === 0, objects: m.objects.length, problems };
}
