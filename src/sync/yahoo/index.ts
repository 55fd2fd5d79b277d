/** The Yahoo Finance development source: client, parser, local adjustment, sync. */
export { syncYahoo, symbolPartition, driftAgainstCrsp, assertDevelopmentSource, YAHOO_DAILY, YAHOO_EVENTS, yahooDailyColumns, yahooEventColumns } from './sync.js';
export type { YahooSyncOptions, YahooSyncResult, YahooSymbolResult, DriftReport } from './sync.js';
export { createYahooClient, normalizeSymbol, chartPeriod, yahooErrorKind, DEFAULT_YAHOO_BASE_URL } from './client.js';
export type { YahooClient, YahooClientOptions, YahooErrorKind, ChartFetch } from './client.js';
export { parseChart, localDate, detectPriceBasis } from './parse.js';
export type { ParsedChart, PriceBasis, YahooBar } from './parse.js';

