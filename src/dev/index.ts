/**
 * Development tooling, never exported from the package's main entry (`wh/dev` for tests and
 * benchmarks): the WRDS-shaped sample source, a local PostgreSQL server, and the demo.
 */
export * from './pg-server.js';
export * from './wrds-sample/index.js';
export * from './demo.js';
export * from './demo-sample.js';
