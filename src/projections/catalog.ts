/**
 * The small projections: snapshot catalog (tags), retention references, schema registry and
 * quarantine. Each is a pure event → open/close mapping over keyed rows.
 */
import type { Column, RangedOp, RangedProjection, StoredEvent } from '../log/index.js';

export interface TagEntry {
  readonly tag: string;
  /** The log position the tag names. */
  readonly seq: number;
  readonly note: string | null;
  readonly taggedAt: string;
  readonly taggedBy: string;
}

export const snapshotProjection: RangedProjection<TagEntry> = {
  name: 'snapshots',
  ops(event: StoredEvent): RangedOp[] {
    if (event.type === 'SnapshotTagged') {
      const value: TagEntry = {
        tag: event.data.tag,
        seq: event.data.seq,
        note: event.data.note,
        taggedAt: new Date(event.time).toISOString(),
        taggedBy: `${event.actor.writerId}@${event.actor.host}`,
      };
      return [{ op: 'open', key: event.data.tag, group: 'tag', value }];
    }
    if (event.type === 'SnapshotDeleted') return [{ op: 'close', key: event.data.tag }];
    return [];
  },
};

export interface RetentionRef {
  readonly ref: string;
  readonly target: { readonly kind: 'tag' | 'object' | 'seq'; readonly id: string };
  readonly reason: string;
  readonly addedAt: string;
}

export const retentionProjection: RangedProjection<RetentionRef> = {
  name: 'retention',
  ops(event: StoredEvent): RangedOp[] {
    if (event.type === 'RetentionRefAdded') {
      const d = event.data;
      const value: RetentionRef = { ref: d.ref, target: d.target, reason: d.reason, addedAt: new Date(event.time).toISOString() };
      return [{ op: 'open', key: d.ref, group: d.target.kind, value }];
    }
    if (event.type === 'RetentionRefRemoved') return [{ op: 'close', key: event.data.ref }];
    return [];
  },
};

export interface SchemaEntry {
  readonly dataset: string;
  readonly fingerprint: string;
  readonly columns: readonly Column[];
  readonly key: readonly string[];
  readonly registeredSeq: number;
}

export const schemaProjection: RangedProjection<SchemaEntry> = {
  name: 'schemas',
  ops(event: StoredEvent): RangedOp[] {
    if (event.type === 'SchemaRegistered') {
      const d = event.data;
      const value: SchemaEntry = { dataset: d.dataset, fingerprint: d.fingerprint, columns: d.columns, key: d.key, registeredSeq: event.seq };
      return [{ op: 'open', key: d.dataset, group: 'schema', value }];
    }
    return [];
  },
};

export interface QuarantineEntry {
  readonly id: string;
  readonly path: string;
  readonly reason: string;
  readonly dataset: string | null;
  readonly partition: string | null;
  readonly rule: string | null;
  readonly addedAt: string;
}

export const quarantineProjection: RangedProjection<QuarantineEntry> = {
  name: 'quarantine',
  ops(event: StoredEvent): RangedOp[] {
    if (event.type === 'QuarantineAdded') {
      const d = event.data;
      const value: QuarantineEntry = { ...d, addedAt: new Date(event.time).toISOString() };
      return [{ op: 'open', key: d.id, group: d.dataset ?? '', value }];
    }
    if (event.type === 'QuarantineCleared') return [{ op: 'close', key: event.data.id }];
    return [];
  },
};
