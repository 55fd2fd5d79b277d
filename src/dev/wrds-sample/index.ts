/**
 * A deterministic, WRDS-shaped sample source: WRDS's schemas, relations, column types and
 * comment vintages in any PostgreSQL, filled with generated data that carries the quirks
 * researchers meet (negative prices, NULL returns, delistings with and without dlret, reused
 * tickers, splits, restatements, fiscal-year-end changes, links that open and close), plus
 * helpers that change the source the way WRDS does between pulls. See docs/concepts/wrds-sample.md.
 *
 * @example
 * import { startPostgres, createDatabase } from '../pg-server.js';
 * import { generateWrdsSample, appendDays, bumpVintage } from './index.js';
 * const server = await startPostgres();
 * const db = await createDatabase(server, 'wrds');
 * await generateWrdsSample(db, { seed: 1, scale: 1 });
 *
 * @packageDocumentation
 */
export { generateWrdsSample, sessionFor, wrdsSampleOptionsSchema } from './generate.js';
export type { WrdsSampleOptions, WrdsSampleResult, WrdsSampleTarget } from './generate.js';
export { appendDays, appendableTables } from './append.js';
export type { AppendDaysOptions, AppendableTable } from './append.js';
export { addColumn, bumpVintage, changeColumnType, correctRow, describeRelation, dropColumn } from './mutate.js';
export type { RelationInfo } from './mutate.js';
export { parseVintage, vintageComment } from './vintage.js';
export type { Vintage } from './vintage.js';
export { ccmTables, compTables, crspCizTables, crspLegacyTables, ffTables, taqTables } from './catalog.js';
export type { ColumnSpec, TableSpec } from './catalog.js';
export { writeFrenchSample, FRENCH_INDUSTRIES } from './french-files.js';
export type { FrenchSampleOptions } from './french-files.js';
export { sp500Rows, sp500Spells, sp500Tables } from './rows-sp500.js';
export { hms, simulateSymbolDay, uShapedTime } from './rows-taq.js';
export type { TaqSymbol, SymbolDay } from './rows-taq.js';
export { iidOf, iidRows, iidTable } from './rows-iid.js';
