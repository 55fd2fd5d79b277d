/**
 * Writing into the warehouse: the atomic object store, the shared partition write path, disk
 * safety, schema drift, and bring-your-own-file ingest. (The WRDS sync arrives here too.)
 */
export * from './disk.js';
export * from './object-store.js';
export * from './write-partition.js';
export * from './schema-drift.js';
export * from './ingest.js';
export * from './gc.js';
export { hashFile } from './fsync.js';
export * from './verify.js';
export * from './demo-sample.js';
export * from './wrds/index.js';
export { connectWrds, isTransient, isAuthFailure } from './pg/wrds-client.js';
export { TokenBucket } from './rate-limit.js';
export type { SqlSource, WrdsClientOptions } from './pg/wrds-client.js';
export * from './catalog-file.js';
export * from './demo.js';
export * from './french/index.js';
export * from './yahoo/index.js';
