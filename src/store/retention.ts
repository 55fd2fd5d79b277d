/**
 * Retention: which superseded versions a policy lets `wh gc` collect, and collecting them in two
 * phases. Phase one records `ObjectsCollected` (in the same transaction as the plan, so no tag can
 * slip in between); phase two unlinks the files. A kill between the two leaves files no live
 * point names (verify is clean) and the next run finishes the unlinking.
 *
 * Never collected: current versions, anything valid at a tagged or held point, objects a
 * retention reference holds, the newest `keepLast` superseded versions of each partition, and
 * versions superseded less than `keepDays` ago. With no policy nothing is collected; the log is
 * kept forever.
 */
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WarehouseError, withLease, type EventLog, type RangedRow } from '../log/index.js';
import {
  collectedObjects,
  manifestHistory,
  manifestAt,
  policyFor,
  retentionRefs,
  retentionState,
  tagsAt,
  type ManifestEntry,
  type Point,
  type TagEntry,
} from '../projections/index.js';
import { objectPath } from './layout.js';
import { fsyncPath } from './fsync.js';

const DAY_MS = 86_400_000;

export interface CollectableObject {
  readonly hash: string;
  readonly bytes: number;
  /** The versions (dataset/partition over [beginSeq, endSeq)) this object held. */
  readonly versions: readonly { readonly dataset: string; readonly partition: string; readonly beginSeq: number; readonly endSeq: number }[];
}

/** As-of points of a dataset that stop being readable: seqs in [fromSeq, toSeq). */
export interface UnreadableRange {
  readonly dataset: string;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly fromTime: string;
  readonly toTime: string;
}

export interface RetentionPlan {
  readonly objects: readonly CollectableObject[];
  readonly bytes: number;
  readonly unreadable: readonly UnreadableRange[];
  /** Recorded as collected by an earlier run but still on disk (a run killed between phases). */
  readonly pending: readonly string[];
}

interface Protection {
  readonly seqs: number[];
  readonly objects: Set<string>;
}

function protection(log: EventLog): Protection {
  const seqs = tagsAt(log).map((t) => t.seq);
  const objects = new Set<string>();
  for (const r of retentionRefs(log)) {
    if (r.target.kind === 'seq') seqs.push(Number(r.target.id));
    if (r.target.kind === 'object') objects.add(r.target.id);
  }
  return { seqs, objects };
}

const timeOf = (log: EventLog, seq: number, cache: Map<number, number>): number => {
  let t = cache.get(seq);
  if (t === undefined) {
    t = log.get(seq)?.time ?? 0;
    cache.set(seq, t);
  }
  return t;
};

/**
 * What a `wh gc --apply` would collect under the policies in force at `now` (the log's clock).
 * Pure reads of the log; synchronous, so it can run inside the collecting transaction.
 */
export function planRetention(log: EventLog, dir: string, now: number = log.now()): RetentionPlan {
  const state = retentionState(log);
  const prot = protection(log);
  const history = manifestHistory(log);
  const times = new Map<number, number>();
  // The newest keepLast superseded versions of each partition are kept.
  const byKey = new Map<string, RangedRow<ManifestEntry>[]>();
  for (const r of history) if (r.endSeq !== null) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  const keptByCount = new Set<RangedRow<ManifestEntry>>();
  for (const rows of byKey.values()) {
    const keepLast = policyFor(state, rows[0]!.value.dataset)?.keepLast ?? 0;
    rows.sort((a, b) => b.endSeq! - a.endSeq!);
    rows.slice(0, keepLast).forEach((r) => keptByCount.add(r));
  }
  const collectable = (r: RangedRow<ManifestEntry>): boolean => {
    if (r.endSeq === null || keptByCount.has(r)) return false;
    const policy = policyFor(state, r.value.dataset);
    if (policy === undefined) return false;
    if (prot.objects.has(r.value.object)) return false;
    const end = r.endSeq;
    if (prot.seqs.some((s) => s >= r.beginSeq && s < end)) return false;
    return timeOf(log, end, times) < now - policy.keepDays * DAY_MS;
  };
  const verdict = new Map<string, boolean>();
  const versions = new Map<string, CollectableObject['versions'][number][]>();
  const bytesOf = new Map<string, number>();
  for (const r of history) {
    const o = r.value.object;
    verdict.set(o, (verdict.get(o) ?? true) && collectable(r));
    bytesOf.set(o, r.value.bytes);
    if (r.endSeq !== null) versions.set(o, [...(versions.get(o) ?? []), { dataset: r.value.dataset, partition: r.value.partition, beginSeq: r.beginSeq, endSeq: r.endSeq }]);
  }
  const objects: CollectableObject[] = [];
  const pending: string[] = [];
  const gone = collectedObjects(log, state);
  for (const [hash, ok] of verdict) {
    if (gone.has(hash)) {
      if (existsSync(objectPath(dir, hash))) pending.push(hash);
      continue;
    }
    if (ok) objects.push({ hash, bytes: bytesOf.get(hash) ?? 0, versions: versions.get(hash) ?? [] });
  }
  objects.sort((a, b) => (a.hash < b.hash ? -1 : 1));
  return { objects, bytes: objects.reduce((s, o) => s + o.bytes, 0), unreadable: unreadableRanges(log, objects, times), pending };
}

function unreadableRanges(log: EventLog, objects: readonly CollectableObject[], times: Map<number, number>): UnreadableRange[] {
  const by = new Map<string, [number, number][]>();
  for (const o of objects) for (const v of o.versions) by.set(v.dataset, [...(by.get(v.dataset) ?? []), [v.beginSeq, v.endSeq]]);
  const out: UnreadableRange[] = [];
  for (const [dataset, ranges] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) {
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    for (const [from, to] of merged) {
      out.push({ dataset, fromSeq: from, toSeq: to, fromTime: new Date(timeOf(log, from, times)).toISOString(), toTime: new Date(timeOf(log, to, times)).toISOString() });
    }
  }
  return out;
}

export interface RetentionApplyResult extends RetentionPlan {
  /** Files unlinked by this run (newly collected and pending from an interrupted run). */
  readonly unlinked: number;
}

/**
 * Collect what `planRetention` finds, under the warehouse lease: record ObjectsCollected first
 * (plan and record in one transaction), then unlink and fsync. `onRecorded` runs between the
 * phases (tests kill the process there).
 */
export async function applyRetention(log: EventLog, dir: string, options: { onRecorded?: () => void | Promise<void> } = {}): Promise<RetentionApplyResult> {
  return withLease(log, 'warehouse', { purpose: 'gc retention' }, async (lease) => {
    const plan = log.transaction((tx) => {
      const p = planRetention(log, dir, tx.now);
      if (p.objects.length > 0) {
        tx.append([{ type: 'ObjectsCollected', data: { objects: p.objects.map((o) => o.hash), bytes: p.bytes, temporaries: 0 } }], lease);
      }
      return p;
    });
    await options.onRecorded?.();
    // A writer may have stored identical bytes again since phase one (content addressing): keep those.
    const current = new Set(manifestAt(log).map((m) => m.object));
    const doomed = [...plan.objects.map((o) => o.hash), ...plan.pending].filter((h) => !current.has(h));
    const shards = new Set<string>();
    for (const hash of doomed) {
      const path = objectPath(dir, hash);
      try {
        await unlink(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      shards.add(dirname(path));
    }
    for (const s of shards) if (existsSync(s)) await fsyncPath(s);
    return { ...plan, unlinked: doomed.length };
  });
}

/** The point from which every as-of read of `dataset` (or of anything, when omitted) is complete. */
export function collectedHorizon(log: EventLog, dataset?: string): { seq: number; time: string } | null {
  const collected = collectedObjects(log);
  if (collected.size === 0) return null;
  let seq = -1;
  for (const r of manifestHistory(log)) {
    if (r.endSeq === null || !collected.has(r.value.object)) continue;
    if (dataset !== undefined && r.value.dataset !== dataset) continue;
    seq = Math.max(seq, r.endSeq);
  }
  if (seq < 0) return null;
  return { seq, time: new Date(log.get(seq)?.time ?? 0).toISOString() };
}

/**
 * Refuse an as-of read whose objects retention collected, naming the horizon and the nearest tag
 * that still holds data.
 * @throws WarehouseError `DATA_COLLECTED`.
 */
export function assertNotCollected(log: EventLog, point: Pick<Point, 'seq' | 'label'>, entries: readonly ManifestEntry[]): void {
  const collected = collectedObjects(log);
  if (collected.size === 0) return;
  const gone = entries.filter((e) => collected.has(e.object));
  if (gone.length === 0) return;
  const datasets = [...new Set(gone.map((g) => g.dataset))].sort();
  const horizon = collectedHorizon(log, datasets.length === 1 ? datasets[0] : undefined);
  const nearest = nearestTag(tagsAt(log), point.seq);
  throw new WarehouseError(
    'DATA_COLLECTED',
    `${datasets.join(', ')} as of ${point.label} ${gone.length === 1 ? 'was' : 'were'} collected by the retention policy (${gone.length} partition version(s) removed)` +
      (horizon === null ? '' : `; as-of reads are complete from seq ${horizon.seq} (${horizon.time}) on`),
    {
      suggestion:
        (nearest === null ? 'no snapshot tag holds older data' : `the nearest tag still holding data is ${nearest.tag} (seq ${nearest.seq}); read --as-of ${nearest.tag}`) +
        '; to keep versions longer, tag or hold them (`wh snapshot tag`, `wh snapshot hold`) or widen `wh retention set`; a backup taken before the collection still has them (`wh restore`)',
      details: { horizon, nearestTag: nearest?.tag ?? null, datasets },
    },
  );
}

function nearestTag(tags: readonly TagEntry[], seq: number): TagEntry | null {
  let best: TagEntry | null = null;
  for (const t of tags) if (best === null || Math.abs(t.seq - seq) < Math.abs(best.seq - seq)) best = t;
  return best;
}
