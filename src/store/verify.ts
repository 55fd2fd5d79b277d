/**
 * `wh audit --verify`: re-walk the hash chain and re-hash every live object (current, tagged or
 * retained). Each damaged object is recorded as a ChecksumMismatch event; a clean pass as
 * ChecksumVerified.
 */
import { existsSync } from 'node:fs';
import type { ChainProblem, EventLog } from '../log/index.js';
import { liveObjects } from '../projections/index.js';
import { objectPath } from './layout.js';
import { hashFile } from './fsync.js';

export interface ObjectProblem {
  readonly object: string;
  readonly dataset: string;
  readonly partition: string;
  readonly path: string;
  readonly problem: string;
  readonly actual: string | null;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly objects: number;
  readonly chain: readonly ChainProblem[];
  readonly damaged: readonly ObjectProblem[];
}

export async function verifyWarehouse(dir: string, log: EventLog, options: { record?: boolean } = {}): Promise<VerifyReport> {
  const chain = log.verifyChain();
  const live = liveObjects(log);
  const damaged: ObjectProblem[] = [];
  for (const m of live) {
    const path = objectPath(dir, m.object);
    if (!existsSync(path)) {
      damaged.push({ object: m.object, dataset: m.dataset, partition: m.partition, path, problem: 'missing', actual: null });
      continue;
    }
    const { hash, bytes } = await hashFile(path);
    if (hash !== m.object) {
      damaged.push({ object: m.object, dataset: m.dataset, partition: m.partition, path, problem: `content changed (sha256 ${hash}, ${bytes} bytes)`, actual: hash });
    } else if (bytes !== m.bytes) {
      damaged.push({ object: m.object, dataset: m.dataset, partition: m.partition, path, problem: `size ${bytes} != recorded ${m.bytes}`, actual: hash });
    }
  }
  const ok = chain.ok && damaged.length === 0;
  if (options.record !== false && chain.ok) {
    log.append(
      ok
        ? [{ type: 'ChecksumVerified', data: { objects: live.length, events: chain.events, headHash: chain.headHash } }]
        : [
            ...damaged.map((d) => ({ type: 'ChecksumMismatch' as const, data: { object: d.object, actual: d.actual, path: d.path, problem: d.problem } })),
            ...(damaged.some((d) => d.problem === 'missing')
              ? [{ type: 'SyncAlert' as const, data: { alert: 'manifest_mismatch' as const, dataset: null, message: `${damaged.filter((d) => d.problem === 'missing').length} object(s) named by the manifest are missing` } }]
              : []),
          ],
    );
  }
  return { ok, events: chain.events, objects: live.length, chain: chain.problems, damaged };
}
