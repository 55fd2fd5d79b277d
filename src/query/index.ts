/**
 * Reading the warehouse: DuckDB sessions over the objects a manifest names at a point, queries,
 * replay of a past state into a standalone DuckDB file, and lineage.
 */
export { viewStatements } from '../store/index.js';
export * from './query.js';
export * from './export.js';
export * from './replay.js';
export * from './lineage.js';
export * from './warehouse.js';
export * from './arrow.js';
