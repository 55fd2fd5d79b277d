/**
 * Backup test fixtures: a warehouse with a few partitions, a key file, a directory target, and
 * the plaintext fragments that must never appear in a target.
 */
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestHistory } from '../../src/projections/index.js';
import { newKeyText } from '../../src/backup/index.js';
import { objectPath, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { tempDir } from '../support/wh-cli.js';
import { newWarehouse, writeCsv } from '../store/crash-invariants.js';

export async function sampleWarehouse(partitions = 4, rows = 2000): Promise<string> {
  const dir = newWarehouse('wh-bk-');
  const log = openWarehouseLog(dir);
  try {
    for (let i = 0; i < partitions; i++) {
      const f = writeCsv(join(dir, '..', `p${i}.csv`), rows, i + 1);
      await ingestFile({ dir, log, dataset: 'prices', partition: `y${2020 + i}`, file: f, key: ['id'], whVersion: 'test' });
    }
  } finally {
    log.close();
  }
  return dir;
}

export function keyFile(name = 'backup.key', mode = 0o600): string {
  const f = join(tempDir('wh-key-'), name);
  writeFileSync(f, newKeyText(), { mode });
  chmodSync(f, mode);
  return f;
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/**
 * Fragments of plaintext that must not appear in a target: 48-byte slices of every object (from
 * the middle, past Parquet's magic) and of the log (its SQLite header and event JSON).
 */
export function plaintextProbes(dir: string): Buffer[] {
  const log = openWarehouseLog(dir, { readonly: true });
  try {
    const probes: Buffer[] = [Buffer.from('SQLite format 3'), Buffer.from('PartitionWritten'), Buffer.from('WarehouseInitialized')];
    for (const r of manifestHistory(log)) {
      const bytes = readFileSync(objectPath(dir, r.value.object));
      for (const at of [4, Math.floor(bytes.length / 2), bytes.length - 60]) probes.push(bytes.subarray(at, at + 48));
    }
    const logBytes = readFileSync(warehousePaths(dir).log);
    probes.push(logBytes.subarray(0, 16));
    return probes;
  } finally {
    log.close();
  }
}

/** Target files containing any probe, with the probe's index. */
export function plaintextFound(target: string, probes: readonly Buffer[]): string[] {
  const hits: string[] = [];
  for (const f of filesUnder(target)) {
    const bytes = readFileSync(f);
    probes.forEach((p, i) => {
      if (bytes.includes(p)) hits.push(`${f} contains probe ${i}`);
    });
  }
  return hits;
}
