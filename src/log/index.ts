/**
 * The operation log: append-only SQLite events, hash chain, leases with fencing, and the ranged
 * projection machinery the projections layer builds on.
 *
 * @example
 * ```ts
 * const log = EventLog.open('wh.log', { create: true });
 * const lease = acquireLease(log, 'dataset:prices');
 * log.append([{ type: 'PartitionRemoved', data: { dataset: 'prices', partition: '2020', reason: 'x' } }], lease);
 * ```
 */
export * from './errors.js';
export * from './brand.js';
export { canonicalJson, sha256Hex, GENESIS_HASH } from './canonical.js';
export type { Column, LeaseHolder, Lineage, EventType, EventDraft, EventOf, EventData, Actor, LeaseRef, StoredEvent, HealthFinding } from './events.js';
export { eventCatalog } from './event-catalog.js';
export { EventLog, eventHash } from './event-log.js';
export type { TxContext, AppendGuard, EventLogOptions, LogHead, ReadOptions, ChainReport, ChainProblem } from './event-log.js';
export * from './leases.js';
export { leaseProjection } from './lease-projection.js';
export type { LeaseState } from './lease-projection.js';
export * from './ranged.js';
export { currentProcessIdentity, processLiveness, processStartIdentity } from './process-identity.js';
export type { ProcessIdentity, Liveness } from './process-identity.js';
export type { SqliteDb } from './sqlite-adapter.js';
