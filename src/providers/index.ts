/**
 * Data providers: bitemporal reads over a {@link WarehouseSession}. The session fixes the warehouse
 * point (what it held: `openWarehouse(dir, { asOf })`); each call's market date fixes what was
 * knowable then. CRSP prices, universe, ticker lookup and gaps; Compustat fundamentals and links;
 * the unified fetcher with its registry, priority and production gating. See
 * docs/concepts/point-in-time.md and docs/concepts/crsp-compustat.md.
 *
 * @example
 * ```ts
 * const wh = await openWarehouse('/data/wh', { asOf: 'paper-v1' });
 * const u = await universe(wh.session, '2019-12-31');
 * const f = await annual(wh.session, { asOfDate: '2019-12-31', items: ['at', 'ceq'] });
 * wh.close();
 * ```
 */
export {
  dailyPrices,
  monthlyPrices,
  universe,
  tickerToPermno,
  gaps,
  planGaps,
  planPrices,
  planUniverse,
  priceOptionsSchema,
  universeOptionsSchema,
  gapOptionsSchema,
} from './crsp.js';
export type { CrspFormat, GapReason, PriceOptions, UniverseOptions, ProviderPlan, ProviderQuery } from './crsp.js';
export {
  annual,
  quarterly,
  linkAsOf,
  planAnnual,
  planQuarterly,
  planLinks,
  fundaItems,
  fundqItems,
  annualOptionsSchema,
  quarterlyOptionsSchema,
  linkOptionsSchema,
} from './compustat.js';
export type { AnnualOptions, QuarterlyOptions, LinkOptions } from './compustat.js';
export {
  createFetcher,
  createProviderRegistry,
  createCrspProvider,
  createYahooProvider,
  unifiedPriceColumns,
  fetchedPriceColumns,
  symbolSchema,
} from './fetcher.js';
export type {
  Attempt,
  DataProvider,
  Fetcher,
  FetcherOptions,
  FetchResult,
  SplitSymbol,
  ProviderRegistry,
  SkipReason,
  UniverseResult,
  CrspProviderOptions,
  YahooProviderOptions,
  YahooProviderFactory,
} from './fetcher.js';
export * from './fama-french.js';
export { yahooPrices } from './yahoo.js';
export type { YahooPriceOptions, YahooPriceRow } from './yahoo.js';
export { mergedPrices, mergeOptionsSchema } from './ccm-merge.js';
export { crspCoverage, coverageWarnings, fundamentalsCoverageWarnings } from './coverage.js';
export type { Coverage } from './coverage.js';
export type { MergeOptions } from './ccm-merge.js';
export * from './taq.js';
