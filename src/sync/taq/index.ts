/** TAQ: cleaning rules, trade signing, the day's aggregates in DuckDB, and the sync. */
export * from './rules.js';
export * from './signing.js';
export * from './clean-day.js';
export * from './aggregates.js';
export * from './pull-day.js';
export * from './sp500.js';
export * from './validate.js';
export * from './sync.js';
export * from './day-batches.js';
