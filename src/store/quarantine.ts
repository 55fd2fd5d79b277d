/**
 * Quarantine directories (`quarantine/<id>/`) as they are on disk, recorded or not: a write that
 * ran out of space may have had no room left to record its QuarantineAdded. `wh status` lists
 * every one; `wh gc --apply` removes those older than the retention (recording QuarantineCleared
 * for the recorded ones). See docs/runbooks/disk-space.md.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog } from '../log/index.js';
import { quarantineAt, type QuarantineEntry } from '../projections/index.js';
import { warehousePaths } from './layout.js';

/** Days a quarantine directory is kept before `wh gc --apply` removes it. */
export const QUARANTINE_RETENTION_DAYS = 30;

export interface QuarantineDir {
  readonly id: string;
  readonly path: string;
  readonly bytes: number;
  readonly modifiedAt: string;
  /** Whether a QuarantineAdded names it (and no QuarantineCleared closed it). */
  readonly recorded: boolean;
  readonly entry: QuarantineEntry | null;
  /** Older than the retention: `wh gc --apply` removes it. */
  readonly expired: boolean;
}

function bytesUnder(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((s, f) => s + bytesUnder(join(path, f)), 0) : st.size;
}

/** Every directory under `quarantine/`, newest last. */
export function quarantineDirs(dir: string, log: EventLog, now = Date.now(), retentionDays = QUARANTINE_RETENTION_DAYS): QuarantineDir[] {
  const root = warehousePaths(dir).quarantine;
  if (!existsSync(root)) return [];
  const entries = new Map(quarantineAt(log).map((q) => [q.id, q]));
  const out: QuarantineDir[] = [];
  for (const id of readdirSync(root).sort()) {
    const path = join(root, id);
    const st = statSync(path);
    if (!st.isDirectory()) continue;
    const entry = entries.get(id) ?? null;
    out.push({ id, path, bytes: bytesUnder(path), modifiedAt: st.mtime.toISOString(), recorded: entry !== null, entry, expired: now - st.mtimeMs > retentionDays * 86_400_000 });
  }
  return out;
}
