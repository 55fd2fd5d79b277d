/**
 * Temporary directories that a writer fills before it takes its lease (a Kenneth French file or
 * Yahoo responses parsed and staged, so the lease is held only for the commit). `wh gc` runs under
 * the warehouse lease, which such a writer does not hold yet, so each directory records its owner
 * (host, pid and start identity): gc leaves it alone while that process runs and collects it once
 * the process is gone (a crash) — or, for an owner on another host, once it is a day old.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { currentProcessIdentity, processLiveness } from '../log/index.js';
import { warehousePaths } from './layout.js';

const OWNER_FILE = '.owner.json';
const FOREIGN_HOST_GRACE_MS = 24 * 3600_000;

/** Make `tmp/<prefix>-<uuid>/`, owned by this process. */
export function makeOwnedTempDir(warehouseDir: string, prefix: string): string {
  const dir = join(warehousePaths(warehouseDir).tmp, `${prefix}-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  const me = currentProcessIdentity();
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ host: me.host, pid: me.pid, startTime: me.startTime }));
  return dir;
}

/** The owner of a temporary, when it is a directory made by makeOwnedTempDir whose owner still runs. */
export function liveOwner(path: string, now: number = Date.now()): { host: string; pid: number } | null {
  const file = join(path, OWNER_FILE);
  if (!existsSync(file)) return null;
  let owner: { host?: unknown; pid?: unknown; startTime?: unknown };
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as typeof owner;
  } catch {
    return null; // unreadable: a leftover like any other
  }
  if (typeof owner.host !== 'string' || typeof owner.pid !== 'number') return null;
  if (owner.host !== hostname()) return now - statSync(file).mtimeMs < FOREIGN_HOST_GRACE_MS ? { host: owner.host, pid: owner.pid } : null;
  const liveness = processLiveness(owner.pid, typeof owner.startTime === 'string' ? owner.startTime : null);
  return liveness === 'alive' || liveness === 'unknown' ? { host: owner.host, pid: owner.pid } : null;
}
