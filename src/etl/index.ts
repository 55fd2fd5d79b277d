/**
 * Historical ETL (docs/concepts/etl.md): datasets derived through the unified fetcher and written
 * through the store's one write path. `runPricesEtl` builds the unified daily prices dataset.
 *
 * @example
 * ```ts
 * const log = openWarehouseLog(dir);
 * const r = await runPricesEtl({ dir, log, symbols: ['IBM'], start: '2020-01-01', end: '2020-12-31', whVersion: '0.1.0' });
 * ```
 */
export { runPricesEtl, etlSourceSchema } from './prices.js';
export type { PricesEtlOptions, PricesEtlResult, EtlSource } from './prices.js';
export { planFetches, unfinishedRun, addDays } from './plan.js';
export type { Coverage, FetchRequest, EtlRequest } from './plan.js';
export { pricesColumns } from './fetched-csv.js';
