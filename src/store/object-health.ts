/**
 * Which objects a read may open. An object is refused when it is missing, when its size differs
 * from the one its PartitionWritten event recorded (a replaced or truncated file), or when the log
 * records it as damaged: a ChecksumMismatch since the last clean `wh audit --verify`
 * (ChecksumVerified). A refusal names the dataset, partition, object and the recovery runbook.
 */
import { statSync } from 'node:fs';
import type { EventLog } from '../log/index.js';
import type { ManifestEntry } from '../projections/index.js';
import { objectPath } from './layout.js';
import { hashFile } from './fsync.js';

export const OBJECT_RUNBOOK = 'docs/runbooks/object-recovery.md';

export type ObjectFaultKind = 'missing' | 'size' | 'recorded-damage' | 'content';

export interface ObjectFault {
  readonly dataset: string;
  readonly partition: string;
  readonly object: string;
  readonly path: string;
  readonly kind: ObjectFaultKind;
  readonly detail: string;
}

/** Objects recorded as damaged (ChecksumMismatch) after the last clean verification, with the problem recorded. */
export function recordedDamage(log: EventLog): Map<string, string> {
  const lastClean = log.lastSeqOf(['ChecksumVerified']) ?? 0;
  const out = new Map<string, string>();
  for (const e of log.read({ types: ['ChecksumMismatch'], fromSeq: lastClean + 1 })) {
    const d = e.data as { object: string; problem: string };
    out.set(d.object, `recorded damaged at seq ${e.seq}: ${d.problem}`);
  }
  return out;
}

/** Cheap checks of every entry (one stat each): missing, size changed, recorded damaged. */
export function objectFaults(dir: string, entries: readonly ManifestEntry[], damaged: ReadonlyMap<string, string>): ObjectFault[] {
  const faults: ObjectFault[] = [];
  for (const e of entries) {
    const path = objectPath(dir, e.object);
    const base = { dataset: e.dataset, partition: e.partition, object: e.object, path };
    const recorded = damaged.get(e.object);
    if (recorded !== undefined) {
      faults.push({ ...base, kind: 'recorded-damage', detail: recorded });
      continue;
    }
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      faults.push({ ...base, kind: 'missing', detail: 'missing from the store' });
      continue;
    }
    if (size !== e.bytes) faults.push({ ...base, kind: 'size', detail: `size ${size} bytes, recorded ${e.bytes}` });
  }
  return faults;
}

/** Re-hash entries (what `wh query --verify` reads): faults for any whose content is not its name. */
export async function hashFaults(dir: string, entries: readonly ManifestEntry[]): Promise<ObjectFault[]> {
  const faults: ObjectFault[] = [];
  for (const e of entries) {
    const path = objectPath(dir, e.object);
    const { hash } = await hashFile(path);
    if (hash !== e.object) faults.push({ dataset: e.dataset, partition: e.partition, object: e.object, path, kind: 'content', detail: `content changed (sha256 ${hash})` });
  }
  return faults;
}

/** One line naming a fault: dataset, partition, object, what is wrong. */
export function describeFault(f: ObjectFault): string {
  return `dataset ${f.dataset} partition ${f.partition}: object ${f.object} ${f.kind === 'missing' ? 'is missing' : `is damaged (${f.detail})`}`;
}

export const faultSuggestion = `restore the object from a backup and rerun \`wh audit --verify\` (${OBJECT_RUNBOOK}); queries over other datasets still work`;
