/**
 * Disk safety: watermarks on the warehouse's volume (warning 80 %, critical 90 %, blocked 95 %)
 * and the "2x the estimated size must be free" rule, checked before every write.
 */
import { statfsSync } from 'node:fs';
import { WarehouseError } from '../log/index.js';

export type DiskLevel = 'ok' | 'warning' | 'critical' | 'blocked';

/** What statfs reports; injectable so tests can present a nearly full volume. */
export interface FsStats {
  readonly bsize: number;
  readonly blocks: number;
  readonly bavail: number;
}
export type StatFs = (path: string) => FsStats;

export interface DiskUsage {
  readonly path: string;
  readonly totalBytes: number;
  readonly freeBytes: number;
  readonly usedFraction: number;
  readonly level: DiskLevel;
}

export const WATERMARKS = { warning: 0.8, critical: 0.9, blocked: 0.95 } as const;

export function levelOf(usedFraction: number): DiskLevel {
  if (usedFraction >= WATERMARKS.blocked) return 'blocked';
  if (usedFraction >= WATERMARKS.critical) return 'critical';
  if (usedFraction >= WATERMARKS.warning) return 'warning';
  return 'ok';
}

export function diskUsage(path: string, statfs: StatFs = statfsSync): DiskUsage {
  const s = statfs(path);
  const totalBytes = s.blocks * s.bsize;
  const freeBytes = s.bavail * s.bsize;
  const usedFraction = totalBytes === 0 ? 0 : 1 - freeBytes / totalBytes;
  return { path, totalBytes, freeBytes, usedFraction, level: levelOf(usedFraction) };
}

/**
 * Refuse a write that would not fit: the volume is at the blocked watermark, or less than twice
 * `estimatedBytes` is free.
 * @throws WarehouseError `DISK_WATERMARK_BLOCKED` or `DISK_FULL`.
 */
export function assertRoomFor(usage: DiskUsage, estimatedBytes: number): void {
  const pct = (usage.usedFraction * 100).toFixed(1);
  if (usage.level === 'blocked') {
    throw new WarehouseError('DISK_WATERMARK_BLOCKED', `the warehouse volume is ${pct}% full (writes stop at ${WATERMARKS.blocked * 100}%)`, {
      suggestion: 'free space (see docs/runbooks/disk-space.md: `wh gc --apply`, clear quarantine, move the warehouse) and rerun',
      details: { ...usage },
    });
  }
  if (usage.freeBytes < 2 * estimatedBytes) {
    throw new WarehouseError('DISK_FULL', `only ${usage.freeBytes} bytes free on the warehouse volume; this write needs about ${2 * estimatedBytes} (2x its estimated size)`, {
      suggestion: 'free space or move the warehouse to a larger volume (docs/runbooks/disk-space.md), then rerun',
      details: { ...usage, estimatedBytes },
    });
  }
}

/** True when an error is the OS or DuckDB reporting a full disk. */
export function isNoSpace(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === 'ENOSPC' || err?.code === 'SQLITE_FULL' || /No space left on device|ENOSPC|disk is full/i.test(err?.message ?? '');
}

/**
 * A full volume met anywhere (the log's SQLite "database or disk is full", a file write's ENOSPC,
 * DuckDB's "No space left on device") as the named DISK_FULL error with its fix.
 */
export function diskFullError(e: unknown): WarehouseError {
  const msg = ((e as Error)?.message ?? String(e)).split('\n')[0];
  return new WarehouseError('DISK_FULL', `the warehouse volume is full (${msg}); nothing partial was recorded`, {
    suggestion: 'free space on the volume (docs/runbooks/disk-space.md: `wh gc --apply`, old quarantine directories, other files) and rerun',
    cause: e,
  });
}
