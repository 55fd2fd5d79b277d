/**
 * Snapshot tags and retention references (holds): naming points of the warehouse's history so an
 * analysis can be reproduced by name, and keeping the data behind them. Each is one event; the
 * snapshot catalog and retention references are projections of the log.
 */
import { WarehouseError, eventCatalog, type EventLog } from '../log/index.js';
import { assertNotCollected } from './retention.js';
import { manifestAt, resolvePoint, retentionProjection, retentionRefs, snapshotProjection, tagsAt, type TagEntry } from '../projections/index.js';

/** A tag with the retention references that hold it. */
export interface SnapshotInfo extends TagEntry {
  readonly heldBy: readonly string[];
}

function checkName(name: string, what: string): void {
  const r = eventCatalog().tagNameSchema.safeParse(name);
  if (!r.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${name}" is not a valid ${what}: ${r.error.issues[0]?.message}`, {
      suggestion: `${what}s use letters, digits, _ . - (no slashes), e.g. paper-v1 or 2024-q1`,
    });
  }
}

/**
 * Tag the warehouse as it stands now, or at `at` (a seq, ISO date/time or another tag).
 * @returns the tagged seq and the seq of the SnapshotTagged event.
 * @throws WarehouseError `INVALID_ARGUMENT` (bad name), `TAG_EXISTS`, `UNKNOWN_TAG` (bad `at`).
 */
export function tagSnapshot(log: EventLog, name: string, options: { readonly at?: string; readonly note?: string } = {}): { tag: string; seq: number; eventSeq: number } {
  checkName(name, 'tag name');
  const point = resolvePoint(log, options.at);
  // Checked and appended in one transaction, so gc cannot collect the point in between.
  const [e] = log.transaction((tx) => {
    assertNotCollected(log, point, manifestAt(log, point.seq));
    return tx.append([{ type: 'SnapshotTagged', data: { tag: name, seq: point.seq, note: options.note ?? null } }]);
  });
  return { tag: name, seq: point.seq, eventSeq: e!.seq };
}

/** Delete a tag. @throws WarehouseError `UNKNOWN_TAG`, or `INVALID_ARGUMENT` while a hold keeps it. */
export function deleteSnapshot(log: EventLog, name: string, reason?: string): void {
  checkName(name, 'tag name');
  log.append([{ type: 'SnapshotDeleted', data: { tag: name, reason: reason ?? null } }]);
}

/** Hold a tag under the retention reference `ref` (gc and retention never collect its data). */
export function holdSnapshot(log: EventLog, ref: string, tag: string, reason: string): void {
  checkName(ref, 'reference name');
  if (reason.trim() === '') throw new WarehouseError('INVALID_ARGUMENT', 'a hold needs a reason', { suggestion: 'say which analysis depends on the tag' });
  if (log.table(snapshotProjection).current(tag) === undefined) {
    throw new WarehouseError('UNKNOWN_TAG', `no snapshot tag "${tag}"`, { suggestion: 'see `wh snapshot list`' });
  }
  log.append([{ type: 'RetentionRefAdded', data: { ref, target: { kind: 'tag', id: tag }, reason } }]);
}

/** Remove the retention reference `ref`. @throws WarehouseError `INVALID_ARGUMENT` if there is none. */
export function unholdSnapshot(log: EventLog, ref: string): void {
  if (log.table(retentionProjection).current(ref) === undefined) {
    throw new WarehouseError('INVALID_ARGUMENT', `no retention reference "${ref}"`, { suggestion: 'see `wh snapshot list`' });
  }
  log.append([{ type: 'RetentionRefRemoved', data: { ref } }]);
}

/** Every tag (current, or as of `seq`) with the references holding it. */
export function listSnapshots(log: EventLog, seq?: number): SnapshotInfo[] {
  const refs = retentionRefs(log, seq);
  return tagsAt(log, seq).map((t) => ({ ...t, heldBy: refs.filter((r) => r.target.kind === 'tag' && r.target.id === t.tag).map((r) => r.ref) }));
}
