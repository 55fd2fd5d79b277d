/**
 * Projections: pure folds over the log (manifest, snapshot catalog, retention references, schema
 * registry, quarantine), the runner that keeps them materialized (the log's append transaction),
 * point-in-time resolution, and the warehouse's directory layout.
 *
 * @example
 * ```ts
 * const log = openWarehouseLog('/data/wh', { readonly: true });
 * const point = resolvePoint(log, '2024-01-15');
 * const files = manifestAt(log, point.seq);
 * ```
 */
export * from './manifest.js';
export * from './catalog.js';
export * from './layout.js';
export * from './asof.js';
export * from './warehouse-log.js';
export * from './readers.js';
export * from './views.js';
