/**
 * Projections: pure folds over the log (manifest, snapshot catalog, retention references, schema
 * registry, quarantine), their readers over the log's materialized tables, and point-in-time
 * resolution. No engine, no file I/O: the warehouse on disk is `src/store`.
 *
 * @example
 * ```ts
 * const log = openWarehouseLog('/data/wh', { readonly: true }); // from src/store
 * const point = resolvePoint(log, '2024-01-15');
 * const files = manifestAt(log, point.seq);
 * ```
 */
export * from './manifest.js';
export * from './catalog.js';
export * from './asof.js';
export * from './readers.js';
export * from './sync-runs.js';
export * from './retention.js';
export * from './backups.js';
export * from './citation.js';
export * from './citation-text.js';
export * from './health.js';
