/**
 * wh as a library. Reads: `openWarehouse(dir, { asOf })`. Writes go through the CLI or the sync
 * and ingest functions, which take the operation log's leases.
 *
 * @example
 * ```ts
 * import { openWarehouse } from 'wh';
 * const wh = await openWarehouse(process.env.WH_WAREHOUSE!, { asOf: '2024-01-15' });
 * const rows = await wh.rows('SELECT count(*) AS n FROM crsp_dsf');
 * wh.close();
 * ```
 */
export { openWarehouse } from './query/index.js';
export * from './query/index.js';
export type { Warehouse, OpenWarehouseOptions } from './query/index.js';
export { WarehouseError, LeaseHeldError, LeaseLostError, ValidationError, isWarehouseError, isLeaseHeldError, isLeaseLostError, isValidationError } from './log/index.js';
export type { ErrorCode, StoredEvent, EventType } from './log/index.js';
export { initWarehouse, openWarehouseLog } from './store/index.js';
export { resolvePoint } from './projections/index.js';
export { ingestFile, syncDatasets, datasets as wrdsDatasets } from './sync/index.js';
export * as calendar from './calendar/index.js';
export { syncTaq } from './sync/index.js';
