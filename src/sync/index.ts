/**
 * Sources: each reads one kind of outside data and writes it through `src/store`'s one write
 * path — WRDS (PostgreSQL), Kenneth French files, Yahoo Finance, and bring-your-own files.
 */
export * from './ingest.js';
export * from './wrds/index.js';
export { connectWrds, isTransient, isAuthFailure } from './wrds/client.js';
export type { SqlSource, WrdsClientOptions } from './wrds/client.js';
export { TokenBucket } from './rate-limit.js';
export * from './french/index.js';
export * from './yahoo/index.js';
export * from './taq/index.js';
