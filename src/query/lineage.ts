/**
 * `wh audit` lineage: for a dataset, an object or a tag, which event wrote each object, when, by
 * whom, under which lease, from what source, and which tags hold it.
 */
import { WarehouseError, type EventLog, type Lineage } from '../log/index.js';
import { manifestProjection, snapshotProjection, tagsAt, type ManifestEntry, type TagEntry } from '../projections/index.js';

export interface LineageRecord {
  readonly dataset: string;
  readonly partition: string;
  readonly object: string;
  readonly rows: number;
  readonly bytes: number;
  readonly writtenSeq: number;
  readonly writtenAt: string;
  readonly writtenBy: { host: string; pid: number; writerId: string };
  readonly lease: { scope: string; epoch: number } | null;
  readonly lineage: Lineage;
  /** Seq at which this version was replaced or removed; null while current. */
  readonly supersededAt: number | null;
  readonly heldByTags: readonly string[];
}

function record(log: EventLog, entry: ManifestEntry, endSeq: number | null, tags: readonly TagEntry[]): LineageRecord {
  const e = log.get(entry.writtenSeq);
  if (e === undefined || e.type !== 'PartitionWritten') throw new WarehouseError('LOG_CORRUPT', `manifest names seq ${entry.writtenSeq}, which is not a PartitionWritten`, { suggestion: 'run `wh rebuild`' });
  return {
    dataset: entry.dataset,
    partition: entry.partition,
    object: entry.object,
    rows: entry.rows,
    bytes: entry.bytes,
    writtenSeq: entry.writtenSeq,
    writtenAt: entry.writtenAt,
    writtenBy: e.actor,
    lease: e.lease,
    lineage: e.data.lineage,
    supersededAt: endSeq,
    heldByTags: tags.filter((t) => t.seq >= entry.writtenSeq && (endSeq === null || t.seq < endSeq)).map((t) => t.tag),
  };
}

export type AuditTarget = { kind: 'all' } | { kind: 'dataset'; name: string } | { kind: 'object'; hash: string } | { kind: 'tag'; name: string };

/** Decide what an `wh audit <arg>` argument names. */
export function auditTarget(log: EventLog, arg: string | undefined): AuditTarget {
  if (arg === undefined) return { kind: 'all' };
  if (/^[0-9a-f]{64}$/.test(arg)) return { kind: 'object', hash: arg };
  if (log.table(snapshotProjection).current(arg) !== undefined) return { kind: 'tag', name: arg };
  if (log.table(manifestProjection).history().some((r) => r.group === arg)) return { kind: 'dataset', name: arg };
  throw new WarehouseError('INVALID_ARGUMENT', `"${arg}" is not a dataset, object hash or tag of this warehouse`, {
    suggestion: 'see `wh status` for datasets and `wh snapshot list` for tags',
  });
}

/** Lineage records for a target: current versions (with history for objects and datasets). */
export function lineageOf(log: EventLog, target: AuditTarget): LineageRecord[] {
  const tags = tagsAt(log);
  const rows = log.table(manifestProjection).history();
  switch (target.kind) {
    case 'all':
      return rows.filter((r) => r.endSeq === null).map((r) => record(log, r.value, r.endSeq, tags));
    case 'dataset':
      return rows.filter((r) => r.group === target.name).map((r) => record(log, r.value, r.endSeq, tags));
    case 'object': {
      const hits = rows.filter((r) => r.value.object === target.hash);
      if (hits.length === 0) throw new WarehouseError('INVALID_ARGUMENT', `no event names object ${target.hash}`, { suggestion: 'it may be an orphan; see `wh gc`' });
      return hits.map((r) => record(log, r.value, r.endSeq, tags));
    }
    case 'tag': {
      const tag = tags.find((t) => t.tag === target.name)!;
      const valid = log.table(manifestProjection).at(tag.seq);
      return valid.map((r) => record(log, r.value, r.endSeq, tags));
    }
    default: {
      const never: never = target;
      throw new Error(`unknown target ${JSON.stringify(never)}`);
    }
  }
}
