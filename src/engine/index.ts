/**
 * Database engines behind narrow adapters: DuckDB (reads, Parquet writes) and PostgreSQL (sources
 * and the development server). Imports nothing from the project; only these files import a driver.
 */
export { openDuck, quoteIdent, quoteLiteral } from './duckdb.js';
export type { Duck, DuckColumns, DuckOptions, DuckParam, DuckResult } from './duckdb.js';
export type { DuckBufferColumn, DuckColumn, DuckValuesColumn } from './columnar.js';
export { createPgPool, isPgSession, openPgSession, quotePgIdent } from './postgres.js';
export type { CopyOutStream, PgClientLike, PgConnectionConfig, PgPool, PgPoolOptions, PgSession } from './postgres.js';
