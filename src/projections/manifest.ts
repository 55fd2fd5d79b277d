/**
 * The manifest: one row per (dataset, partition) naming the object that holds its rows, valid over
 * `[beginSeq, endSeq)`. The state "as of" any point is the rows whose range contains it.
 */
import type { CurrentLookup, RangedOp, RangedProjection, StoredEvent } from '../log/index.js';

export interface ManifestEntry {
  readonly dataset: string;
  readonly partition: string;
  readonly object: string;
  readonly rows: number;
  readonly bytes: number;
  readonly schemaFingerprint: string;
  readonly sortKey: readonly string[];
  /** Seq of the PartitionWritten event (its lineage lives there). */
  readonly writtenSeq: number;
  readonly writtenAt: string;
}

export const manifestKey = (dataset: string, partition: string): string => `${dataset}/${partition}`;

export const manifestProjection: RangedProjection<ManifestEntry> = {
  name: 'manifest',
  ops(event: StoredEvent, _current: CurrentLookup): RangedOp[] {
    switch (event.type) {
      case 'PartitionWritten': {
        const d = event.data;
        const value: ManifestEntry = {
          dataset: d.dataset,
          partition: d.partition,
          object: d.object,
          rows: d.rows,
          bytes: d.bytes,
          schemaFingerprint: d.schemaFingerprint,
          sortKey: d.sortKey,
          writtenSeq: event.seq,
          writtenAt: new Date(event.time).toISOString(),
        };
        return [{ op: 'open', key: manifestKey(d.dataset, d.partition), group: d.dataset, value }];
      }
      case 'PartitionRemoved':
        return [{ op: 'close', key: manifestKey(event.data.dataset, event.data.partition) }];
      default:
        return [];
    }
  },
};
