/**
 * Shared checks for the crash, ingest and disk tests: the invariants a warehouse must keep whatever
 * happened to a writer (no partial object visible, every named object intact), plus small fixtures.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog } from '../../src/log/index.js';
import { initWarehouse, objectPath, warehousePaths } from '../../src/store/index.js';
import { manifestAt, manifestHistory, type ManifestEntry } from '../../src/projections/index.js';
import { tempDir } from '../support/wh-cli.js';

export const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A new, initialized warehouse in a fresh temporary directory. */
export function newWarehouse(prefix = 'wh-crash-'): string {
  const dir = join(tempDir(prefix), 'wh');
  initWarehouse(dir, 'test');
  return dir;
}

/**
 * Write a CSV `id,grp,val,txt` with `rows` rows, deterministic in `seed` (a small LCG), so two
 * seeds give two different objects and the same seed the same object.
 */
export function writeCsv(path: string, rows: number, seed: number): string {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const lines = new Array<string>(rows + 1);
  lines[0] = 'id,grp,val,txt';
  for (let i = 0; i < rows; i++) lines[i + 1] = `${i},${i % 97},${(next() / 4294967296).toFixed(9)},${next().toString(16)}${next().toString(16)}`;
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Every file under objects/ that is not a complete object (its SHA-256 must equal its name). */
export function storeProblems(dir: string): string[] {
  const { objects } = warehousePaths(dir);
  const problems: string[] = [];
  if (!existsSync(objects)) return problems;
  for (const shard of readdirSync(objects)) {
    const shardDir = join(objects, shard);
    if (!statSync(shardDir).isDirectory()) {
      problems.push(`${shardDir}: not a shard directory`);
      continue;
    }
    for (const f of readdirSync(shardDir)) {
      const m = /^([0-9a-f]{64})\.parquet$/.exec(f);
      if (m === null || !m[1]!.startsWith(shard)) {
        problems.push(`${join(shardDir, f)}: not an object name`);
        continue;
      }
      const actual = sha256(join(shardDir, f));
      if (actual !== m[1]) problems.push(`${join(shardDir, f)}: content hashes to ${actual}`);
    }
  }
  return problems;
}

/** Every object any manifest row (current or past) names must exist and hash to its name. */
export function namedObjectProblems(dir: string, log: EventLog): string[] {
  const problems: string[] = [];
  for (const r of manifestHistory(log)) {
    const p = objectPath(dir, r.value.object);
    if (!existsSync(p)) problems.push(`${r.key}@${r.beginSeq}: ${r.value.object} missing`);
    else if (sha256(p) !== r.value.object) problems.push(`${r.key}@${r.beginSeq}: ${r.value.object} damaged`);
  }
  return problems;
}

/** The current manifest, reduced to what identifies a state. */
export function manifestState(log: EventLog): { key: string; object: string; rows: number }[] {
  return manifestAt(log).map((m: ManifestEntry) => ({ key: `${m.dataset}/${m.partition}`, object: m.object, rows: m.rows }));
}

/** Event types appended after `seq`. */
export function typesAfter(log: EventLog, seq: number): string[] {
  return log.read({ fromSeq: seq + 1 }).map((e) => e.type);
}
