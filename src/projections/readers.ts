/**
 * Typed reads of the materialized projections at a point.
 */
import type { EventLog, RangedRow } from '../log/index.js';
import { manifestProjection, type ManifestEntry } from './manifest.js';
import { quarantineProjection, retentionProjection, schemaProjection, snapshotProjection, type QuarantineEntry, type RetentionRef, type SchemaEntry, type TagEntry } from './catalog.js';
import { syncRunsProjection, type SyncRunState } from './sync-runs.js';

/** Manifest entries valid at `seq` (current when undefined), optionally for one dataset. */
export function manifestAt(log: EventLog, seq?: number, dataset?: string): ManifestEntry[] {
  // At (or past) the head, the current rows are the answer: the cheapest path.
  const at = seq !== undefined && seq >= log.head().seq ? undefined : seq;
  return log.table(manifestProjection).at(at, dataset).map((r) => r.value);
}

/** Every manifest row ever written, with its validity range. */
export function manifestHistory(log: EventLog): RangedRow<ManifestEntry>[] {
  return log.table(manifestProjection).history();
}

/** Dataset summary at a point. */
export interface DatasetSummary {
  readonly dataset: string;
  readonly partitions: number;
  readonly rows: number;
  readonly bytes: number;
  readonly lastWrittenAt: string;
}

export function datasetsAt(log: EventLog, seq?: number): DatasetSummary[] {
  const by = new Map<string, { partitions: number; rows: number; bytes: number; last: string }>();
  for (const m of manifestAt(log, seq)) {
    const s = by.get(m.dataset) ?? { partitions: 0, rows: 0, bytes: 0, last: '' };
    s.partitions += 1;
    s.rows += m.rows;
    s.bytes += m.bytes;
    if (m.writtenAt > s.last) s.last = m.writtenAt;
    by.set(m.dataset, s);
  }
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([dataset, s]) => ({
    dataset,
    partitions: s.partitions,
    rows: s.rows,
    bytes: s.bytes,
    lastWrittenAt: s.last,
  }));
}

export function tagsAt(log: EventLog, seq?: number): TagEntry[] {
  return log.table(snapshotProjection).at(seq).map((r) => r.value);
}

export function schemaOf(log: EventLog, dataset: string, seq?: number): SchemaEntry | undefined {
  return log.table(schemaProjection).at(seq).find((r) => r.key === dataset)?.value;
}

export function retentionRefs(log: EventLog, seq?: number): RetentionRef[] {
  return log.table(retentionProjection).at(seq).map((r) => r.value);
}

export function quarantineAt(log: EventLog, seq?: number): QuarantineEntry[] {
  return log.table(quarantineProjection).at(seq).map((r) => r.value);
}

/** Objects that must be present: every object current or held by a tag or retention reference. */
export function liveObjects(log: EventLog): ManifestEntry[] {
  const seen = new Map<string, ManifestEntry>();
  for (const m of manifestAt(log)) seen.set(m.object, m);
  const seqs = new Set(tagsAt(log).map((t) => t.seq));
  const history = manifestHistory(log);
  for (const r of retentionRefs(log)) {
    if (r.target.kind === 'seq') seqs.add(Number(r.target.id));
    if (r.target.kind === 'object') {
      const hit = history.find((h) => h.value.object === r.target.id);
      if (hit !== undefined) seen.set(hit.value.object, hit.value);
    }
  }
  for (const seq of seqs) for (const m of manifestAt(log, seq)) seen.set(m.object, m);
  return [...seen.values()];
}

/** Per dataset, its latest sync run and latest completed run (current, or as of `seq`). */
export function syncRunsAt(log: EventLog, seq?: number): SyncRunState[] {
  return log.table(syncRunsProjection).at(seq).map((r) => r.value);
}

/** The latest sync run of one dataset, if it ever synced. */
export function syncRunOf(log: EventLog, dataset: string): SyncRunState | undefined {
  return log.table(syncRunsProjection).current(dataset)?.value;
}
