/**
 * The event catalogue: one zod schema per event type (current version), a discriminated union over
 * them, and the upcasters that lift older stored versions to the current one on read.
 * Never edit a published schema in place: bump `eventVersions`, add an upcaster.
 */
import { z } from 'zod';

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only, starting with a letter or digit');
const hash = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');
const isoTime = z.string().datetime({ offset: true });

/** Dataset names are SQL identifiers (they become DuckDB view names). */
export const datasetNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and _ only, starting with a letter');
/** Partition keys: `2024`, `all`, `2024-01`, `AAPL`... never a path. */
export const partitionKeySchema = name;
/** Snapshot tag names. */
export const tagNameSchema = name;
/** Lease scopes: `warehouse` or `dataset:<name>`. */
export const leaseScopeSchema = z.union([
  z.literal('warehouse'),
  z.string().regex(/^dataset:[a-z][a-z0-9_]*$/),
]);

export const columnSchema = z.object({ name: z.string().min(1), type: z.string().min(1) });
export type Column = z.infer<typeof columnSchema>;

export const holderSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  writerId: z.string(),
  /** Identity of the process start (boot id + start ticks on Linux), so a reused pid is not the holder. */
  startTime: z.string().nullable(),
});
export type LeaseHolder = z.infer<typeof holderSchema>;

export const lineageSchema = z.object({
  kind: z.enum(['ingest', 'sync', 'derive']),
  /** Where the rows came from: a file path (ingest), a relation (sync), a dataset list (derive). */
  source: z.string(),
  /** SHA-256 of the source bytes or of the source SQL. */
  sourceHash: z.string().nullable(),
  sql: z.string().nullable(),
  vintage: z.string().nullable(),
  whVersion: z.string(),
});
export type Lineage = z.infer<typeof lineageSchema>;

/** The kinds of health finding (docs/concepts/health.md). */
export const healthFindingKinds = [
  'rows_decreased',
  'missing_sessions',
  'non_session_dates',
  'duplicate_keys',
  'null_rate_change',
  'price_jump',
  'split_without_move',
  'stale_series',
  'late_data',
] as const;
const sample = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));
/** One health finding: what, where, how many, a message, and bounded samples for the report page. */
export const healthFindingSchema = z.object({
  kind: z.enum(healthFindingKinds),
  partition: partitionKeySchema.nullable(),
  count: z.number().int().nonnegative(),
  message: z.string(),
  /** At most 400 (a year of sessions for the calendar strip); fewer for the others. */
  samples: z.array(sample).max(400),
  /** Short price windows around a jump or split: `[date, value]` points per series. */
  windows: z.array(z.object({ label: z.string(), points: z.array(z.tuple([z.string(), z.number().nullable()])).max(32) })).max(50),
});
export type HealthFinding = z.infer<typeof healthFindingSchema>;

const ev = <T extends string, D extends z.ZodTypeAny>(type: T, data: D) =>
  z.object({ type: z.literal(type), data });

export const eventSchemas = {
  WarehouseInitialized: ev(
    'WarehouseInitialized',
    z.object({ warehouseId: z.string(), formatVersion: z.number().int(), whVersion: z.string() }),
  ),
  LeaseAcquired: ev(
    'LeaseAcquired',
    z.object({
      scope: leaseScopeSchema,
      epoch: z.number().int().positive(),
      holder: holderSchema,
      expiresAt: isoTime,
      purpose: z.string(),
    }),
  ),
  LeaseRenewed: ev(
    'LeaseRenewed',
    z.object({ scope: leaseScopeSchema, epoch: z.number().int().positive(), expiresAt: isoTime }),
  ),
  LeaseReleased: ev('LeaseReleased', z.object({ scope: leaseScopeSchema, epoch: z.number().int().positive() })),
  LeaseBroken: ev(
    'LeaseBroken',
    z.object({
      scope: leaseScopeSchema,
      epoch: z.number().int().positive(),
      reason: z.string().min(1),
      previousHolder: holderSchema,
    }),
  ),
  PartitionWritten: ev(
    'PartitionWritten',
    z.object({
      dataset: datasetNameSchema,
      partition: partitionKeySchema,
      object: hash,
      rows: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      schemaFingerprint: hash,
      sortKey: z.array(z.string()),
      lineage: lineageSchema,
    }),
  ),
  PartitionRemoved: ev(
    'PartitionRemoved',
    z.object({ dataset: datasetNameSchema, partition: partitionKeySchema, reason: z.string() }),
  ),
  SchemaRegistered: ev(
    'SchemaRegistered',
    z.object({
      dataset: datasetNameSchema,
      fingerprint: hash,
      columns: z.array(columnSchema),
      key: z.array(z.string()),
    }),
  ),
  SchemaDriftDetected: ev(
    'SchemaDriftDetected',
    z.object({
      dataset: datasetNameSchema,
      expected: hash,
      actual: hash,
      added: z.array(columnSchema),
      removed: z.array(columnSchema),
      changed: z.array(z.object({ name: z.string(), from: z.string(), to: z.string() })),
      accepted: z.boolean(),
    }),
  ),
  ChecksumVerified: ev(
    'ChecksumVerified',
    z.object({ objects: z.number().int().nonnegative(), events: z.number().int().nonnegative(), headHash: hash }),
  ),
  ChecksumMismatch: ev(
    'ChecksumMismatch',
    z.object({ object: hash, actual: z.string().nullable(), path: z.string(), problem: z.string() }),
  ),
  SnapshotTagged: ev(
    'SnapshotTagged',
    z.object({ tag: tagNameSchema, seq: z.number().int().nonnegative(), note: z.string().nullable() }),
  ),
  SnapshotDeleted: ev('SnapshotDeleted', z.object({ tag: tagNameSchema, reason: z.string().nullable() })),
  QuarantineAdded: ev(
    'QuarantineAdded',
    z.object({
      id: z.string().min(1),
      path: z.string(),
      reason: z.string(),
      dataset: datasetNameSchema.nullable(),
      partition: partitionKeySchema.nullable(),
      rule: z.string().nullable(),
    }),
  ),
  QuarantineCleared: ev('QuarantineCleared', z.object({ id: z.string().min(1), reason: z.string() })),
  RetentionRefAdded: ev(
    'RetentionRefAdded',
    z.object({
      ref: name,
      target: z.object({ kind: z.enum(['tag', 'object', 'seq']), id: z.string() }),
      reason: z.string(),
    }),
  ),
  RetentionRefRemoved: ev('RetentionRefRemoved', z.object({ ref: name })),
  ObjectsCollected: ev(
    'ObjectsCollected',
    z.object({ objects: z.array(hash), bytes: z.number().int().nonnegative(), temporaries: z.number().int() }),
  ),
  DiskWatermarkCrossed: ev(
    'DiskWatermarkCrossed',
    z.object({
      level: z.enum(['ok', 'warning', 'critical', 'blocked']),
      usedFraction: z.number(),
      freeBytes: z.number(),
      path: z.string(),
    }),
  ),
  SyncStarted: ev(
    'SyncStarted',
    z.object({
      runId: z.string(),
      dataset: datasetNameSchema,
      source: z.string(),
      vintage: z.string().nullable(),
      comment: z.string().nullable(),
      partitions: z.array(partitionKeySchema),
      full: z.boolean(),
    }),
  ),
  SyncCompleted: ev(
    'SyncCompleted',
    z.object({
      runId: z.string(),
      dataset: datasetNameSchema,
      vintage: z.string().nullable(),
      written: z.number().int().nonnegative(),
      unchanged: z.number().int().nonnegative(),
      skipped: z.number().int().nonnegative(),
      rows: z.number().int().nonnegative(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  SyncFailed: ev(
    'SyncFailed',
    z.object({ runId: z.string(), dataset: datasetNameSchema, partition: partitionKeySchema.nullable(), code: z.string(), message: z.string() }),
  ),
  SyncAlert: ev(
    'SyncAlert',
    z.object({
      alert: z.enum(['disk_warning', 'disk_critical', 'disk_blocked', 'stale_lock', 'checksum_mismatch', 'manifest_mismatch', 'duration_slo_breach', 'late_data', 'credential_expiry', 'source_drift', 'adjclose_mismatch']),
      dataset: datasetNameSchema.nullable(),
      message: z.string(),
    }),
  ),
  RetentionPolicySet: ev(
    'RetentionPolicySet',
    z.object({
      /** null: the warehouse-wide default; a dataset's own policy overrides it. */
      dataset: datasetNameSchema.nullable(),
      /** Superseded versions younger than this many days are kept; null clears the policy (keep forever). */
      keepDays: z.number().int().nonnegative().nullable(),
      /** The newest N superseded versions of each partition are kept whatever their age. */
      keepLast: z.number().int().nonnegative().nullable(),
    }),
  ),
  BackupTargetAdded: ev(
    'BackupTargetAdded',
    z.object({
      name,
      kind: z.enum(['directory', 'rclone']),
      /** An absolute directory, or an rclone `remote:path`. */
      target: z.string().min(1),
      /** Path of the key file (never the key). null: WH_BACKUP_KEY_FILE at run time. */
      keyFile: z.string().nullable(),
    }),
  ),
  BackupTargetRemoved: ev('BackupTargetRemoved', z.object({ name })),
  BackupCompleted: ev(
    'BackupCompleted',
    z.object({
      name,
      backupId: z.string().min(1),
      headSeq: z.number().int().nonnegative(),
      headHash: hash,
      keyId: z.string().min(1),
      objects: z.number().int().nonnegative(),
      uploadedObjects: z.number().int().nonnegative(),
      uploadedBytes: z.number().int().nonnegative(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  BackupFailed: ev('BackupFailed', z.object({ name, code: z.string(), message: z.string() })),
  BackupAlertRaised: ev(
    'BackupAlertRaised',
    z.object({ name: z.string(), alert: z.enum(['failed', 'stale', 'never']), message: z.string() }),
  ),
  BackupKeyRotated: ev(
    'BackupKeyRotated',
    z.object({ name, oldKeyId: z.string(), newKeyId: z.string(), keyFile: z.string().nullable(), files: z.number().int().nonnegative() }),
  ),
  RestoreDrillPassed: ev(
    'RestoreDrillPassed',
    z.object({ name, backupId: z.string(), headSeq: z.number().int().nonnegative(), objects: z.number().int().nonnegative(), datasets: z.number().int().nonnegative(), durationMs: z.number().nonnegative() }),
  ),
  RestoreDrillFailed: ev(
    'RestoreDrillFailed',
    z.object({ name, backupId: z.string().nullable(), problems: z.array(z.string()) }),
  ),
  ObjectsRepaired: ev(
    'ObjectsRepaired',
    z.object({ objects: z.array(hash), from: z.string(), backupId: z.string(), unrepaired: z.array(hash) }),
  ),
  EtlStarted: ev(
    'EtlStarted',
    z.object({
      runId: z.string(),
      dataset: datasetNameSchema,
      /** `--source`: crsp, yahoo or auto. */
      source: z.string(),
      /** The symbols asked for (the plan's input; a resumed run re-fetches an unfinished run's request in full). */
      symbols: z.array(z.string()),
      start: z.string(),
      end: z.string(),
      /** Partitions (years) this run merges. */
      partitions: z.array(partitionKeySchema),
    }),
  ),
  EtlCompleted: ev(
    'EtlCompleted',
    z.object({
      runId: z.string(),
      dataset: datasetNameSchema,
      written: z.number().int().nonnegative(),
      unchanged: z.number().int().nonnegative(),
      /** Rows fetched from the providers. */
      rows: z.number().int().nonnegative(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  HealthReported: ev(
    'HealthReported',
    z.object({
      dataset: datasetNameSchema,
      /** What wrote the data the report covers (`manual`: `wh health --record`). */
      trigger: z.enum(['sync', 'ingest', 'etl', 'manual']),
      /** The log position the report describes (the manifest as of this seq). */
      seq: z.number().int().nonnegative(),
      /** The seq the previous version was read at (rows, null rates and late data compare against it). */
      previousSeq: z.number().int().nonnegative().nullable(),
      partitions: z.array(
        z.object({
          partition: partitionKeySchema,
          object: hash,
          rows: z.number().int().nonnegative(),
          previousRows: z.number().int().nonnegative().nullable(),
          /** True when this report examined it; false when its findings were carried over unchanged. */
          checked: z.boolean(),
        }),
      ),
      findings: z.array(healthFindingSchema),
      durationMs: z.number().nonnegative(),
    }),
  ),
} as const;

export type EventType = keyof typeof eventSchemas;
export const eventTypes = Object.keys(eventSchemas) as EventType[];

/** Current version of every event type. Bump when a schema changes, and add an upcaster. */
export const eventVersions: Record<EventType, number> = {
  WarehouseInitialized: 1,
  LeaseAcquired: 1,
  LeaseRenewed: 1,
  LeaseReleased: 1,
  LeaseBroken: 1,
  PartitionWritten: 1,
  PartitionRemoved: 1,
  SchemaRegistered: 1,
  SchemaDriftDetected: 1,
  ChecksumVerified: 1,
  ChecksumMismatch: 1,
  SnapshotTagged: 2,
  SnapshotDeleted: 1,
  QuarantineAdded: 1,
  QuarantineCleared: 1,
  RetentionRefAdded: 1,
  RetentionRefRemoved: 1,
  ObjectsCollected: 1,
  DiskWatermarkCrossed: 1,
  SyncStarted: 1,
  SyncCompleted: 1,
  SyncFailed: 1,
  SyncAlert: 1,
  RetentionPolicySet: 1,
  BackupTargetAdded: 1,
  BackupTargetRemoved: 1,
  BackupCompleted: 1,
  BackupFailed: 1,
  BackupAlertRaised: 1,
  BackupKeyRotated: 1,
  RestoreDrillPassed: 1,
  RestoreDrillFailed: 1,
  ObjectsRepaired: 1,
  HealthReported: 1,
  EtlStarted: 1,
  EtlCompleted: 1,
};

/**
 * Upcasters: `upcasters[type][v]` lifts data stored at version v to v+1. Applied on read, so the
 * stored bytes (and the hash chain over them) never change.
 */
export const upcasters: Partial<Record<EventType, Record<number, (data: Record<string, unknown>) => Record<string, unknown>>>> = {
  // v1 of SnapshotTagged had no note.
  SnapshotTagged: { 1: (data) => ({ ...data, note: null }) },
};

export const eventDraftSchema = z.discriminatedUnion('type', [
  eventSchemas.WarehouseInitialized,
  eventSchemas.LeaseAcquired,
  eventSchemas.LeaseRenewed,
  eventSchemas.LeaseReleased,
  eventSchemas.LeaseBroken,
  eventSchemas.PartitionWritten,
  eventSchemas.PartitionRemoved,
  eventSchemas.SchemaRegistered,
  eventSchemas.SchemaDriftDetected,
  eventSchemas.ChecksumVerified,
  eventSchemas.ChecksumMismatch,
  eventSchemas.SnapshotTagged,
  eventSchemas.SnapshotDeleted,
  eventSchemas.QuarantineAdded,
  eventSchemas.QuarantineCleared,
  eventSchemas.RetentionRefAdded,
  eventSchemas.RetentionRefRemoved,
  eventSchemas.ObjectsCollected,
  eventSchemas.DiskWatermarkCrossed,
  eventSchemas.SyncStarted,
  eventSchemas.SyncCompleted,
  eventSchemas.SyncFailed,
  eventSchemas.SyncAlert,
  eventSchemas.RetentionPolicySet,
  eventSchemas.BackupTargetAdded,
  eventSchemas.BackupTargetRemoved,
  eventSchemas.BackupCompleted,
  eventSchemas.BackupFailed,
  eventSchemas.BackupAlertRaised,
  eventSchemas.BackupKeyRotated,
  eventSchemas.RestoreDrillPassed,
  eventSchemas.RestoreDrillFailed,
  eventSchemas.ObjectsRepaired,
  eventSchemas.HealthReported,
  eventSchemas.EtlStarted,
  eventSchemas.EtlCompleted,
]);

/** An event before it is appended: its type and data. */
export type EventDraft = z.infer<typeof eventDraftSchema>;
/** The draft of one event type. */
export type EventOf<T extends EventType> = Extract<EventDraft, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];

/** Who appended an event. */
export interface Actor {
  readonly host: string;
  readonly pid: number;
  readonly writerId: string;
}

/** The lease under which a write event was appended. */
export interface LeaseRef {
  readonly scope: string;
  readonly epoch: number;
}

/** An event as stored: its draft plus position, time, actor, lease and chain hashes. */
export type StoredEvent = EventDraft & {
  readonly seq: number;
  /** Commit time, epoch milliseconds; strictly increasing with seq. */
  readonly time: number;
  readonly version: number;
  readonly actor: Actor;
  readonly lease: LeaseRef | null;
  readonly prevHash: string;
  readonly hash: string;
};

/**
 * Which lease scope a write of this event needs, or null if it needs none. Metadata events (tags,
 * retention refs, checksum results, alerts) are serialized by SQLite alone and need no lease.
 */
export function requiredScope(draft: EventDraft): string | null {
  switch (draft.type) {
    case 'PartitionWritten':
    case 'PartitionRemoved':
    case 'SchemaRegistered':
    case 'SchemaDriftDetected':
    case 'SyncStarted':
    case 'SyncCompleted':
    case 'SyncFailed':
    case 'EtlStarted':
    case 'EtlCompleted':
      return `dataset:${draft.data.dataset}`;
    case 'ObjectsCollected':
    case 'ObjectsRepaired':
      return 'warehouse';
    case 'QuarantineAdded':
      return draft.data.dataset === null ? null : `dataset:${draft.data.dataset}`;
    case 'WarehouseInitialized':
    case 'LeaseAcquired':
    case 'LeaseRenewed':
    case 'LeaseReleased':
    case 'LeaseBroken':
    case 'ChecksumVerified':
    case 'ChecksumMismatch':
    case 'SnapshotTagged':
    case 'SnapshotDeleted':
    case 'QuarantineCleared':
    case 'RetentionRefAdded':
    case 'RetentionRefRemoved':
    case 'DiskWatermarkCrossed':
    case 'SyncAlert':
    case 'RetentionPolicySet':
    case 'BackupTargetAdded':
    case 'BackupTargetRemoved':
    case 'BackupCompleted':
    case 'BackupFailed':
    case 'BackupAlertRaised':
    case 'BackupKeyRotated':
    case 'RestoreDrillPassed':
    case 'RestoreDrillFailed':
    case 'HealthReported':
      return null;
    default: {
      const never: never = draft;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

/** Lift stored data of `version` to the current version of `type`. */
export function upcast(type: EventType, version: number, data: Record<string, unknown>): Record<string, unknown> {
  let v = version;
  let d = data;
  const steps = upcasters[type];
  while (v < eventVersions[type]) {
    const step = steps?.[v];
    if (step === undefined) throw new Error(`no upcaster for ${type} v${v}`);
    d = step(d);
    v += 1;
  }
  return d;
}
