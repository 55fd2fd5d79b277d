/** Shared set-up for the hardening tests: a small warehouse with two datasets, and a fingerprint of every file in it. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openWarehouseLog } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { newWarehouse, writeCsv } from '../store/crash-invariants.js';
import { tempDir } from './wh-cli.js';

/** A warehouse with `t` (partitions 2022, 2023) and `u` (partition all). */
export async function twoDatasetWarehouse(prefix = 'wh-harden-'): Promise<{ dir: string; files: string }> {
  const dir = newWarehouse(prefix);
  const files = tempDir(`${prefix}files-`);
  const log = openWarehouseLog(dir);
  try {
    for (const [dataset, partition, seed] of [['t', '2022', 1], ['t', '2023', 2], ['u', 'all', 3]] as const) {
      await ingestFile({ dir, log, dataset, partition, file: writeCsv(join(files, `${dataset}-${partition}.csv`), 300, seed), key: ['id'], whVersion: 'test' });
    }
  } finally {
    log.close();
  }
  return { dir, files };
}

/** path → sha256 of every file under `dir` (a non-empty WAL included; the shm index and an empty WAL are not data): equal fingerprints, nothing changed. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      // A reader may create SQLite's shared-memory index and an empty WAL: neither holds data.
      else if (f.endsWith('-shm') || (f.endsWith('-wal') && st.size === 0)) continue;
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
