/**
 * `wh audit --verify`: re-walk the hash chain, compare the log's head with the newest tail anchor,
 * check every materialized projection equals the fold of the log, and re-hash every live object
 * (current, tagged or retained). Each damaged object is recorded as a ChecksumMismatch event; a
 * clean pass as ChecksumVerified. Nothing is recorded while the log itself is in doubt.
 */
import { existsSync } from 'node:fs';
import { canonicalJson, type ChainProblem, type EventLog } from '../log/index.js';
import { anchorProblems, readAnchor } from './anchor.js';
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
  /** Materialized projections that differ from the fold of the log, each difference named. */
  readonly projections: readonly ProjectionProblem[];
}

export interface ProjectionProblem {
  readonly projection: string;
  readonly key: string;
  readonly beginSeq: number;
  readonly problem: string;
}

/** Compare every materialized projection with the pure fold of the log, row by row. */
export function projectionProblems(log: EventLog): ProjectionProblem[] {
  const folded = log.foldAll();
  const out: ProjectionProblem[] = [];
  for (const name of log.projectionNames()) {
    const id = (r: { key: string; beginSeq: number }): string => `${r.key}\u0000${r.beginSeq}`;
    const want = new Map((folded.get(name) ?? []).map((r) => [id(r), r]));
    const have = new Map(log.tableByName(name).history().map((r) => [id(r), r]));
    for (const [k, r] of have) {
      const w = want.get(k);
      if (w === undefined) out.push({ projection: name, key: r.key, beginSeq: r.beginSeq, problem: 'row not derived from the log (added)' });
      else if (canonicalJson(w) !== canonicalJson(r)) out.push({ projection: name, key: r.key, beginSeq: r.beginSeq, problem: `differs from the log: has ${canonicalJson({ value: r.value, endSeq: r.endSeq })}, log says ${canonicalJson({ value: w.value, endSeq: w.endSeq })}` });
    }
    for (const [k, w] of want) if (!have.has(k)) out.push({ projection: name, key: w.key, beginSeq: w.beginSeq, problem: 'row missing (the log derives it)' });
  }
  return out;
}

export async function verifyWarehouse(dir: string, log: EventLog, options: { record?: boolean } = {}): Promise<VerifyReport> {
  const verified = log.verifyChain();
  const lost = anchorProblems(log, readAnchor(dir));
  const chain = { ...verified, ok: verified.ok && lost.length === 0, problems: [...verified.problems, ...lost] };
  const projections = projectionProblems(log);
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
  const ok = chain.ok && damaged.length === 0 && projections.length === 0;
  // Appending to a log that lost its tail would reuse the lost seqs; to a log whose projections
  // differ, would fold onto a wrong state: record only when the log itself is sound.
  if (options.record !== false && chain.ok && projections.length === 0 && (ok || damaged.length > 0)) {
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
  return { ok, events: chain.events, objects: live.length, chain: chain.problems, damaged, projections };
}
