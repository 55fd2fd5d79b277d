/**
 * Shared fast-check arbitraries of valid event drafts, and the few fixtures every log test needs
 * (a temp directory, a manual clock, simulated writer identities).
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireLease,
  releaseLease,
  processStartIdentity,
  type EventDraft,
  type EventLog,
  type EventOf,
  type EventType,
  type ProcessIdentity,
  type StoredEvent,
} from '../../src/log/index.js';
import { healthFindingKinds, requiredScope } from '../../src/log/events.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A base directory for temp logs: tmpfs when there is one (fsync per append is the SUT's cost, not ours). */
const TMP_BASE = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** A fresh temp directory and its disposer. */
export function makeTempDir(prefix = 'wh-test-'): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(TMP_BASE, prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock the test moves by hand. */
export interface ManualClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function createManualClock(startMs: number): ManualClock {
  let now = startMs;
  const clock = (() => now) as ManualClock;
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** A writer on this host whose pid is this (live) process, with its real start identity. */
export function liveLocalIdentity(writerId: string): ProcessIdentity {
  return { host: hostname(), pid: process.pid, writerId, startTime: processStartIdentity(process.pid) };
}

/** A writer on this host whose pid is now another process (same pid, another start identity). */
export function reusedPidIdentity(writerId: string): ProcessIdentity {
  return { host: hostname(), pid: process.pid, writerId, startTime: 'another-boot:1' };
}

/** A writer on another host (this host cannot tell whether it is alive). */
export function foreignIdentity(writerId: string, host = 'other-host.example'): ProcessIdentity {
  return { host, pid: 4242, writerId, startTime: 'elsewhere:7' };
}

/** The `{type, data}` of a stored event, for comparison with drafts. */
export const draftOf = (e: StoredEvent): EventDraft => ({ type: e.type, data: e.data }) as EventDraft;

/**
 * Append one arbitrary draft: write events go under a freshly acquired warehouse lease, released
 * right after. Leases named by arbitrary lease drafts must already be expired (see `ISO_MAX`), so
 * the acquisition breaks them as stale.
 */
export function appendDraft(log: EventLog, draft: EventDraft): StoredEvent {
  if (requiredScope(draft) === null) return log.append([draft])[0]!;
  const lease = acquireLease(log, 'warehouse', { purpose: 'test' });
  try {
    return log.append([draft], lease)[0]!;
  } finally {
    releaseLease(log, lease);
  }
}

// ---------------------------------------------------------------------------------------------
// Field arbitraries

/** Times named inside arbitrary events lie in [ISO_MIN, ISO_MAX]. Tests needing them expired run the clock later. */
export const ISO_MIN = Date.UTC(2000, 0, 1);
export const ISO_MAX = Date.UTC(2100, 0, 1);

/** Free text: every code point, lone surrogates included (the JSON round trip must keep them). */
export const textArb = fc.string({ unit: 'binary', maxLength: 12 });
export const nameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$/);
export const datasetArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
export const hashArb = fc.stringMatching(/^[0-9a-f]{64}$/);
export const isoTimeArb = fc
  .integer({ min: ISO_MIN, max: ISO_MAX })
  .map((ms) => new Date(ms).toISOString());
export const scopeArb = fc.oneof(fc.constant('warehouse'), datasetArb.map((d) => `dataset:${d}`));
/** JSON has no -0: it reads back as 0, so drafts never carry it. */
export const numberArb = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
export const natArb = fc.maxSafeNat();
export const epochArb = fc.integer({ min: 1, max: 1_000_000 });
export const columnArb = fc.record({ name: textArb.filter((s) => s.length > 0), type: fc.constantFrom('INTEGER', 'VARCHAR', 'DOUBLE', 'DATE') });
export const holderArb = fc.record({
  host: textArb,
  pid: fc.integer(),
  writerId: textArb,
  startTime: fc.option(textArb, { nil: null }),
});
export const lineageArb = fc.record({
  kind: fc.constantFrom('ingest' as const, 'sync' as const, 'derive' as const),
  source: textArb,
  sourceHash: fc.option(hashArb, { nil: null }),
  sql: fc.option(textArb, { nil: null }),
  vintage: fc.option(textArb, { nil: null }),
  whVersion: textArb,
});

const ev = <T extends EventType>(type: T, data: fc.Arbitrary<EventOf<T>['data']>): fc.Arbitrary<EventOf<T>> =>
  data.map((d) => ({ type, data: d }) as EventOf<T>);

// ---------------------------------------------------------------------------------------------
// One arbitrary per event type

export const draftArbs: { [T in EventType]: fc.Arbitrary<EventOf<T>> } = {
  WarehouseInitialized: ev('WarehouseInitialized', fc.record({ warehouseId: textArb, formatVersion: fc.integer(), whVersion: textArb })),
  LeaseAcquired: ev(
    'LeaseAcquired',
    fc.record({ scope: scopeArb, epoch: epochArb, holder: holderArb, expiresAt: isoTimeArb, purpose: textArb }),
  ),
  LeaseRenewed: ev('LeaseRenewed', fc.record({ scope: scopeArb, epoch: epochArb, expiresAt: isoTimeArb })),
  LeaseReleased: ev('LeaseReleased', fc.record({ scope: scopeArb, epoch: epochArb })),
  LeaseBroken: ev(
    'LeaseBroken',
    fc.record({ scope: scopeArb, epoch: epochArb, reason: textArb.filter((s) => s.length > 0), previousHolder: holderArb }),
  ),
  PartitionWritten: ev(
    'PartitionWritten',
    fc.record({
      dataset: datasetArb,
      partition: nameArb,
      object: hashArb,
      rows: natArb,
      bytes: natArb,
      schemaFingerprint: hashArb,
      sortKey: fc.array(textArb, { maxLength: 3 }),
      lineage: lineageArb,
    }),
  ),
  PartitionRemoved: ev('PartitionRemoved', fc.record({ dataset: datasetArb, partition: nameArb, reason: textArb })),
  SchemaRegistered: ev(
    'SchemaRegistered',
    fc.record({ dataset: datasetArb, fingerprint: hashArb, columns: fc.array(columnArb, { maxLength: 4 }), key: fc.array(textArb, { maxLength: 2 }) }),
  ),
  SchemaDriftDetected: ev(
    'SchemaDriftDetected',
    fc.record({
      dataset: datasetArb,
      expected: hashArb,
      actual: hashArb,
      added: fc.array(columnArb, { maxLength: 2 }),
      removed: fc.array(columnArb, { maxLength: 2 }),
      changed: fc.array(fc.record({ name: textArb, from: textArb, to: textArb }), { maxLength: 2 }),
      accepted: fc.boolean(),
    }),
  ),
  ChecksumVerified: ev('ChecksumVerified', fc.record({ objects: natArb, events: natArb, headHash: hashArb })),
  ChecksumMismatch: ev(
    'ChecksumMismatch',
    fc.record({ object: hashArb, actual: fc.option(textArb, { nil: null }), path: textArb, problem: textArb }),
  ),
  SnapshotTagged: ev('SnapshotTagged', fc.record({ tag: nameArb, seq: natArb, note: fc.option(textArb, { nil: null }) })),
  SnapshotDeleted: ev('SnapshotDeleted', fc.record({ tag: nameArb, reason: fc.option(textArb, { nil: null }) })),
  QuarantineAdded: ev(
    'QuarantineAdded',
    fc.record({
      id: textArb.filter((s) => s.length > 0),
      path: textArb,
      reason: textArb,
      dataset: fc.option(datasetArb, { nil: null }),
      partition: fc.option(nameArb, { nil: null }),
      rule: fc.option(textArb, { nil: null }),
    }),
  ),
  QuarantineCleared: ev('QuarantineCleared', fc.record({ id: textArb.filter((s) => s.length > 0), reason: textArb })),
  RetentionRefAdded: ev(
    'RetentionRefAdded',
    fc.record({
      ref: nameArb,
      target: fc.record({ kind: fc.constantFrom('tag' as const, 'object' as const, 'seq' as const), id: textArb }),
      reason: textArb,
    }),
  ),
  RetentionRefRemoved: ev('RetentionRefRemoved', fc.record({ ref: nameArb })),
  ObjectsCollected: ev(
    'ObjectsCollected',
    fc.record({ objects: fc.array(hashArb, { maxLength: 3 }), bytes: natArb, temporaries: fc.integer() }),
  ),
  DiskWatermarkCrossed: ev(
    'DiskWatermarkCrossed',
    fc.record({
      level: fc.constantFrom('ok' as const, 'warning' as const, 'critical' as const, 'blocked' as const),
      usedFraction: numberArb,
      freeBytes: numberArb,
      path: textArb,
    }),
  ),
  SyncStarted: ev(
    'SyncStarted',
    fc.record({
      runId: textArb,
      dataset: datasetArb,
      source: textArb,
      vintage: fc.option(textArb, { nil: null }),
      comment: fc.option(textArb, { nil: null }),
      partitions: fc.array(nameArb, { maxLength: 3 }),
      full: fc.boolean(),
    }),
  ),
  SyncCompleted: ev(
    'SyncCompleted',
    fc.record({
      runId: textArb,
      dataset: datasetArb,
      vintage: fc.option(textArb, { nil: null }),
      written: natArb,
      unchanged: natArb,
      skipped: natArb,
      rows: natArb,
      durationMs: numberArb.map(Math.abs),
    }),
  ),
  SyncFailed: ev(
    'SyncFailed',
    fc.record({ runId: textArb, dataset: datasetArb, partition: fc.option(nameArb, { nil: null }), code: textArb, message: textArb }),
  ),
  EtlStarted: ev(
    'EtlStarted',
    fc.record({ runId: textArb, dataset: datasetArb, source: textArb, symbols: fc.array(textArb, { maxLength: 3 }), start: textArb, end: textArb, partitions: fc.array(nameArb, { maxLength: 3 }) }),
  ),
  EtlCompleted: ev(
    'EtlCompleted',
    fc.record({ runId: textArb, dataset: datasetArb, written: natArb, unchanged: natArb, rows: natArb, durationMs: numberArb.map(Math.abs) }),
  ),
  HealthReported: ev(
    'HealthReported',
    fc.record({
      dataset: datasetArb,
      trigger: fc.constantFrom('sync' as const, 'ingest' as const, 'etl' as const, 'manual' as const),
      seq: natArb,
      previousSeq: fc.option(natArb, { nil: null }),
      partitions: fc.array(fc.record({ partition: nameArb, object: hashArb, rows: natArb, previousRows: fc.option(natArb, { nil: null }), checked: fc.boolean() }), { maxLength: 2 }),
      findings: fc.array(
        fc.record({
          kind: fc.constantFrom(...healthFindingKinds),
          partition: fc.option(nameArb, { nil: null }),
          count: natArb,
          message: textArb,
          samples: fc.array(fc.dictionary(textArb, fc.oneof(textArb, numberArb, fc.constant(null)), { maxKeys: 2 }), { maxLength: 2 }),
          windows: fc.array(fc.record({ label: textArb, points: fc.array(fc.tuple(textArb, fc.option(numberArb, { nil: null })), { maxLength: 2 }) }), { maxLength: 1 }),
        }),
        { maxLength: 2 },
      ),
      durationMs: numberArb.map(Math.abs),
    }),
  ),
  SyncAlert: ev(
    'SyncAlert',
    fc.record({
      alert: fc.constantFrom(
        'disk_warning' as const,
        'disk_critical' as const,
        'disk_blocked' as const,
        'stale_lock' as const,
        'checksum_mismatch' as const,
        'manifest_mismatch' as const,
        'duration_slo_breach' as const,
        'late_data' as const,
        'credential_expiry' as const,
      ),
      dataset: fc.option(datasetArb, { nil: null }),
      message: textArb,
    }),
  ),
  RetentionPolicySet: ev(
    'RetentionPolicySet',
    fc.record({ dataset: fc.option(datasetArb, { nil: null }), keepDays: fc.option(fc.nat(), { nil: null }), keepLast: fc.option(fc.nat(), { nil: null }) }),
  ),
  BackupTargetAdded: ev(
    'BackupTargetAdded',
    fc.record({ name: nameArb, kind: fc.constantFrom('directory' as const, 'rclone' as const), target: textArb.filter((s) => s.length > 0), keyFile: fc.option(textArb, { nil: null }) }),
  ),
  BackupTargetRemoved: ev('BackupTargetRemoved', fc.record({ name: nameArb })),
  BackupCompleted: ev(
    'BackupCompleted',
    fc.record({
      name: nameArb,
      backupId: textArb.filter((s) => s.length > 0),
      headSeq: fc.nat(),
      headHash: hashArb,
      keyId: textArb.filter((s) => s.length > 0),
      objects: fc.nat(),
      uploadedObjects: fc.nat(),
      uploadedBytes: fc.nat(),
      durationMs: fc.nat(),
    }),
  ),
  BackupFailed: ev('BackupFailed', fc.record({ name: nameArb, code: textArb, message: textArb })),
  BackupAlertRaised: ev('BackupAlertRaised', fc.record({ name: textArb, alert: fc.constantFrom('failed' as const, 'stale' as const, 'never' as const), message: textArb })),
  BackupKeyRotated: ev(
    'BackupKeyRotated',
    fc.record({ name: nameArb, oldKeyId: textArb, newKeyId: textArb, keyFile: fc.option(textArb, { nil: null }), files: fc.nat() }),
  ),
  RestoreDrillPassed: ev(
    'RestoreDrillPassed',
    fc.record({ name: nameArb, backupId: textArb, headSeq: fc.nat(), objects: fc.nat(), datasets: fc.nat(), durationMs: fc.nat() }),
  ),
  RestoreDrillFailed: ev('RestoreDrillFailed', fc.record({ name: nameArb, backupId: fc.option(textArb, { nil: null }), problems: fc.array(textArb, { maxLength: 3 }) })),
  ObjectsRepaired: ev(
    'ObjectsRepaired',
    fc.record({ objects: fc.array(hashArb, { maxLength: 3 }), from: textArb, backupId: textArb, unrepaired: fc.array(hashArb, { maxLength: 3 }) }),
  ),
};

/** Any valid draft, of any type. */
export const eventDraftArb: fc.Arbitrary<EventDraft> = fc.oneof(
  ...(Object.values(draftArbs) as fc.Arbitrary<EventDraft>[]),
);

/**
 * Drafts the warehouse guards accept in any order: everything except tag creation/deletion (which
 * the guards check against the snapshot catalog).
 */
export const unguardedDraftArb: fc.Arbitrary<EventDraft> = eventDraftArb.filter(
  (d) => d.type !== 'SnapshotTagged' && d.type !== 'SnapshotDeleted',
);
