/**
 * wh as a library.
 *
 * - Read: {@link openWarehouse} opens a warehouse read-only as of a point (now, a seq, an ISO
 *   date/time or a snapshot tag) and answers SQL as rows or Arrow; the data providers (CRSP,
 *   Compustat, Fama–French, the unified fetcher) read through its `session`.
 * - Write: {@link openWriter} tags and holds snapshots, ingests files, syncs WRDS datasets and
 *   verifies the warehouse, under the same leases as the `wh` command line.
 * - Lineage: `Warehouse.lineage(target)`; verification: `WarehouseWriter.verify()`.
 *
 * See docs/library.md for worked examples (compiled and run by the test suite).
 *
 * @example
 * ```ts
 * import { openWarehouse } from 'wh';
 * const wh = await openWarehouse('/data/wh', { asOf: '2024-01-15' });
 * const rows = await wh.rows('SELECT count(*) AS n FROM crsp_dsf');
 * wh.close();
 * ```
 */
export { openWarehouse } from './query/index.js';
export type { Warehouse, OpenWarehouseOptions, WarehouseSession, LineageRecord } from './query/index.js';
export { openWriter, libraryVersion } from './api/index.js';
export type { WriterOptions, WarehouseWriter, IngestFileOptions, SyncWrdsOptions } from './api/index.js';
export * from './providers/index.js';
export {
  WarehouseError,
  LeaseHeldError,
  LeaseLostError,
  ValidationError,
  SourceUnavailableError,
  isWarehouseError,
  isLeaseHeldError,
  isLeaseLostError,
  isValidationError,
  isSourceUnavailableError,
} from './log/index.js';
export type { ErrorCode, EventType, Lineage } from './log/index.js';
export { initWarehouse } from './store/index.js';
export type { VerifyReport, SnapshotInfo } from './store/index.js';
export type { Point, DatasetSummary, TagEntry } from './projections/index.js';
export type { IngestResult, DatasetSyncResult, PartialWrdsSettings } from './sync/index.js';
export { datasets as wrdsDatasets } from './sync/index.js';
export * as calendar from './calendar/index.js';
export { syncTaq } from './sync/index.js';
