/**
 * Price arithmetic shared by sources and providers: CRSP-style back adjustment of stored closes
 * for splits and cash dividends, and the comparison with a vendor's own adjusted close. Pure
 * functions; imports nothing from the project.
 */
export { adjustBars, adjustmentFactors, checkAgainstYahoo } from './adjust.js';
export type { AdjustableBar, AdjustEvents, AdjustedBar, AppliedFactor, Adjustment, PriceBasis, YahooCheck } from './adjust.js';
