/** Engines shared by sync and query: the DuckDB adapter. Imports nothing from the project. */
export { openDuck, quoteIdent, quoteLiteral } from './duckdb.js';
export type { Duck, DuckColumns, DuckOptions, DuckParam, DuckResult } from './duckdb.js';
