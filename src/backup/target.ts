/**
 * Where backups go: a directory (external disk, NAS mount) or an rclone remote (`remote:path`,
 * any rclone backend). Both offer the same few operations; every put lands under its final name
 * atomically (a temporary name then a rename, which rclone also does for its local and network
 * backends), so a listing never shows a half-written file under a final name.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { WarehouseError } from '../log/index.js';
import { fsyncPath } from '../store/index.js';

export interface RemoteFile {
  readonly name: string;
  readonly size: number;
}

export interface BackupTarget {
  readonly kind: 'directory' | 'rclone';
  /** Where it is, for messages (no credentials: rclone keeps those in its own config). */
  readonly location: string;
  /** Files under a top folder (`objects`, `logs`, `manifests`), names relative to the target root. */
  list(folder: string): Promise<Map<string, RemoteFile>>;
  put(localFile: string, name: string): Promise<void>;
  /** Upload a staged directory tree in one call (rclone); `files` are names relative to `stagingDir`. */
  putTree(stagingDir: string, files: readonly string[]): Promise<void>;
  /** Remotes: download many files in one call into `localDir` (same relative names). */
  getTree?(names: readonly string[], localDir: string): Promise<void>;
  get(name: string, localFile: string): Promise<void>;
  remove(name: string): Promise<void>;
  /** Directory targets: write `name` in place (`produce` fills a temporary, then it is fsynced and renamed). */
  putWith?(name: string, produce: (tmpPath: string) => Promise<unknown>, options?: { deferSync?: boolean }): Promise<void>;
  /**
   * Directory targets: fsync files put with `deferSync` (`files`), or the directories holding them
   * (`directories`, each once: a directory fsync commits the file system's journal, so a backup
   * flushes its files as they complete and their directories once at the end).
   */
  syncNames?(names: readonly string[], what: 'files' | 'directories'): Promise<void>;
  /** Directory targets: the file's own path, to read without copying it first. */
  localPath?(name: string): string;
}

/** Is `spec` an rclone remote (`name:path`) rather than a directory? */
export function isRcloneSpec(spec: string): boolean {
  return /^:?[A-Za-z0-9_][A-Za-z0-9_. -]*(,[^:]*)?:/.test(spec) && !isAbsolute(spec) && !spec.startsWith('.');
}

function enospc(e: unknown, location: string): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw new WarehouseError('DISK_FULL', `the backup target ${location} is full`, {
      cause: e,
      suggestion: 'free space on the target (or `wh backup add` a larger one) and rerun `wh backup run`: it resumes, uploading only what is missing',
    });
  }
  throw e;
}

/**
 * fsync many files (a few at a time, so the device can merge the flushes), then their directories.
 * Files written and renamed first and flushed together cost far less than one flush each.
 */
export async function fsyncMany(paths: readonly string[], parallel = 8, parents = true): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) await fsyncPath(paths[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, worker));
  if (parents) for (const d of new Set(paths.map((p) => dirname(p)))) await fsyncPath(d);
}

/** Is process `pid` running? (A temporary named after a dead process is a killed run's leftover.) */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A directory target. */
export function directoryTarget(dir: string): BackupTarget {
  const root = resolve(dir);
  const put = async (localFile: string, name: string): Promise<void> => {
    const dest = join(root, name);
    const tmp = `${dest}.partial-${process.pid}`;
    try {
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(localFile, tmp);
      await fsyncPath(tmp);
      await rename(tmp, dest);
      await fsyncPath(dirname(dest));
    } catch (e) {
      await rm(tmp, { force: true });
      enospc(e, root);
    }
  };
  const made = new Set<string>();
  const putWith = async (name: string, produce: (tmpPath: string) => Promise<unknown>, options: { deferSync?: boolean } = {}): Promise<void> => {
    const dest = join(root, name);
    const tmp = `${dest}.partial-${process.pid}`;
    try {
      if (!made.has(dirname(dest))) {
        await mkdir(dirname(dest), { recursive: true });
        made.add(dirname(dest));
      }
      await produce(tmp); // the producer creates or truncates tmp
      if (options.deferSync !== true) await fsyncPath(tmp);
      await rename(tmp, dest);
      if (options.deferSync !== true) await fsyncPath(dirname(dest));
    } catch (e) {
      await rm(tmp, { force: true });
      enospc(e, root);
    }
  };
  return {
    kind: 'directory',
    location: root,
    putWith,
    syncNames: async (names, what) => {
      try {
        const paths = names.map((n) => join(root, n));
        if (what === 'files') await Promise.all(paths.map((p) => fsyncPath(p)));
        else await fsyncMany([...new Set(paths.map((p) => dirname(p)))], 8, false);
      } catch (e) {
        enospc(e, root);
      }
    },
    localPath: (name) => join(root, name),
    async list(folder) {
      const out = new Map<string, RemoteFile>();
      const walk = async (rel: string): Promise<void> => {
        const abs = join(root, rel);
        if (!existsSync(abs)) return;
        for (const e of await readdir(abs, { withFileTypes: true })) {
          const r = `${rel}/${e.name}`;
          if (e.isDirectory()) await walk(r);
          else if (!e.name.includes('.partial-')) out.set(r, { name: r, size: (await stat(join(root, r))).size });
          else if (!alive(Number(/\.partial-(\d+)$/.exec(e.name)?.[1]))) await rm(join(root, r), { force: true }); // left by a killed run
        }
      };
      await walk(folder);
      return out;
    },
    put,
    async putTree(stagingDir, files) {
      for (const f of files) await put(join(stagingDir, f), f);
    },
    async get(name, localFile) {
      await copyFile(join(root, name), localFile);
    },
    async remove(name) {
      await rm(join(root, name), { force: true });
    },
  };
}

let rcloneChecked = false;

/** @throws WarehouseError naming rclone and how to install it when it is missing. */
export function requireRclone(): void {
  if (rcloneChecked) return;
  const r = spawnSync('rclone', ['version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new WarehouseError('BACKUP_FAILED', 'rclone is not installed, and the backup target is an rclone remote', {
      suggestion: 'install it (Debian/Ubuntu: `sudo apt-get install rclone`), configure the remote with `rclone config`, then rerun; see docs/runbooks/data-backup-restore.md',
    });
  }
  rcloneChecked = true;
}

function rclone(args: readonly string[], location: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn('rclone', ['--retries', '3', '--low-level-retries', '5', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', rej);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return res(Buffer.concat(out).toString('utf8'));
      const full = /no space left|quota|insufficient storage|507/i.test(stderr);
      rej(
        new WarehouseError(full ? 'DISK_FULL' : 'BACKUP_FAILED', `rclone ${args[0]} on ${location} failed (exit ${code}): ${redactSpec(stderr.trim().split('\n').slice(-2).join(' '))}`, {
          suggestion: full ? 'free space on the remote and rerun `wh backup run` (it resumes)' : 'check the remote with `rclone lsd <remote>:` and its configuration (`rclone config`); rerun `wh backup run` to resume',
        }),
      );
    });
  });
}

/**
 * Text without credentials: a remote spec's inline options (`:webdav,url=...,pass=...:x` becomes
 * `:webdav,…:x`), `name=value` options that look like secrets, and `user:password@` in URLs.
 */
export function redactSpec(text: string): string {
  let out = text
    .replace(/\b(pass|password|user|key|secret|token|account|client_secret|bearer_token|sas_url)=('[^']*'|"[^"]*"|[^,:\s'"]+)/gi, '$1=…')
    .replace(/\/\/[^/@\s]+@/g, '//…@');
  if (!/\s/.test(text)) out = out.replace(/^(:?[A-Za-z0-9_][A-Za-z0-9_.-]*),.*:([^:]*)$/, '$1,…:$2');
  return out;
}

/** An rclone remote target, `remote:path` (or an on-the-fly `:backend,opt=...:path`). */
export function rcloneTarget(spec: string): BackupTarget {
  requireRclone();
  const base = spec.endsWith(':') || spec.endsWith('/') ? spec : `${spec}/`;
  const at = (name: string): string => `${base}${name}`;
  const location = redactSpec(spec);
  return {
    kind: 'rclone',
    location,
    async list(folder) {
      const out = new Map<string, RemoteFile>();
      let text: string;
      try {
        text = await rclone(['lsjson', '-R', '--files-only', at(folder)], location);
      } catch (e) {
        // A folder that does not exist yet lists as empty.
        if (/directory not found|not found|404/i.test((e as Error).message)) return out;
        throw e;
      }
      for (const f of JSON.parse(text) as { Path: string; Size: number }[]) out.set(`${folder}/${f.Path}`, { name: `${folder}/${f.Path}`, size: f.Size });
      return out;
    },
    async put(localFile, name) {
      await rclone(['copyto', localFile, at(name)], location);
    },
    async putTree(stagingDir, files) {
      if (files.length === 0) return;
      await rclone(['copy', '--transfers', '4', '--no-traverse', stagingDir, base.endsWith('/') ? base.slice(0, -1) : base], location);
    },
    async getTree(names, localDir) {
      if (names.length === 0) return;
      const list = join(localDir, '.files-from');
      await mkdir(localDir, { recursive: true });
      await writeFile(list, names.join('\n') + '\n');
      try {
        await rclone(['copy', '--transfers', '4', '--files-from', list, '--no-traverse', base.endsWith('/') ? base.slice(0, -1) : base, localDir], location);
      } finally {
        await rm(list, { force: true });
      }
    },
    async get(name, localFile) {
      await rclone(['copyto', at(name), localFile], location);
    },
    async remove(name) {
      await rclone(['deletefile', at(name)], location);
    },
  };
}

/** The target a spec names. */
export function openTarget(kind: 'directory' | 'rclone', spec: string): BackupTarget {
  return kind === 'rclone' ? rcloneTarget(spec) : directoryTarget(spec);
}


/** Bytes a remote download batch (one `getTree` call) holds by default. */
export const DOWNLOAD_BATCH_BYTES = 256 * 1024 * 1024;

/**
 * `items` cut, in order, into batches of at least one item and about `limit` bytes each (a batch
 * closes once it reaches `limit`): a remote is downloaded one batch per rclone call.
 */
export function batchesByBytes<T extends { readonly bytes: number }>(items: readonly T[], limit = DOWNLOAD_BATCH_BYTES): T[][] {
  const out: T[][] = [];
  let size = limit;
  for (const item of items) {
    if (size >= limit) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1]!.push(item);
    size += item.bytes;
  }
  return out;
}
/** Read a small remote file as text. */
export async function readRemoteText(target: BackupTarget, name: string, tmpFile: string): Promise<string> {
  await target.get(name, tmpFile);
  try {
    return await readFile(tmpFile, 'utf8');
  } finally {
    await rm(tmpFile, { force: true });
  }
}
