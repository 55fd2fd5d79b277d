/**
 * The warehouse on disk: its layout, opening the log with its projections, the atomic object
 * store, the one partition write path, DuckDB views over objects, gc, verify, the catalog file,
 * the disk guard and schema drift. Sources (`src/sync`) write only through this folder.
 */
export * from './layout.js';
export * from './warehouse-log.js';
export * from './views.js';
export * from './object-health.js';
export * from './disk.js';
export * from './object-store.js';
export * from './owned-temp.js';
export * from './write-partition.js';
export * from './schema-drift.js';
export * from './gc.js';
export * from './quarantine.js';
export { hashFile, fsyncPath, fsyncAndHash } from './fsync.js';
export * from './verify.js';
export * from './anchor.js';
export * from './catalog-file.js';
export * from './snapshots.js';
export * from './retention.js';
export * from './diff.js';
export * from './health/index.js';
