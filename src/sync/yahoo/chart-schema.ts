/** The shape of Yahoo's v8 chart response that wh reads, checked with zod before anyone sees it. */
import { z } from 'zod';

const nums = z.array(z.number().nullable());
const quoteSchema = z.object({ open: nums.optional(), high: nums.optional(), low: nums.optional(), close: nums.optional(), volume: nums.optional() });
const dividendSchema = z.object({ amount: z.number(), date: z.number().int() });
const splitSchema = z.object({ date: z.number().int(), numerator: z.number().positive(), denominator: z.number().positive(), splitRatio: z.string().optional() });

/** The fields of `chart.result[0]` wh reads (others are ignored). */
export const chartResultSchema = z.object({
  meta: z.object({
    symbol: z.string(),
    currency: z.string().nullable().optional(),
    exchangeName: z.string().optional(),
    instrumentType: z.string().optional(),
    exchangeTimezoneName: z.string().optional(),
    gmtoffset: z.number().int(),
    dataGranularity: z.string().optional(),
    chartPreviousClose: z.number().optional(),
  }),
  /** Absent when the range holds no bar. */
  timestamp: z.array(z.number().int()).optional(),
  events: z.object({ dividends: z.record(z.string(), dividendSchema).optional(), splits: z.record(z.string(), splitSchema).optional() }).optional(),
  indicators: z.object({ quote: z.array(quoteSchema).min(1), adjclose: z.array(z.object({ adjclose: nums.optional() })).optional() }),
});
export type ChartResult = z.infer<typeof chartResultSchema>;

/** The envelope: `{ chart: { result: [...] | null, error: {code, description} | null } }`. */
export const chartEnvelopeSchema = z.object({
  chart: z.object({
    result: z.array(chartResultSchema).nullable(),
    error: z.object({ code: z.string(), description: z.string().nullable().optional() }).nullable().optional(),
  }),
});
