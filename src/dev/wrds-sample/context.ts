/**
 * Everything one generation run shares: options, sessions, factor series and the security master,
 * plus small per-permno summaries (last price, month-end prices) the later tables reuse.
 */
import { lastSessionsOfMonths, sessions } from './dates.js';
import { marketDay } from './market.js';
import type { MarketDay } from './market.js';
import { simulateSecurity } from './simulate.js';
import type { DayRow } from './simulate.js';
import { buildUniverse } from './universe.js';
import type { Security } from './universe.js';

/** Per-permno facts the Compustat and delisting tables need from the price path. */
export interface SecuritySummary {
  /** |prc| and shrout (thousands) on the last session of each month, by month offset from the sample's first month; NaN = none. */
  readonly monthPrice: Float64Array;
  readonly monthShrout: Float64Array;
  lastPrice: number;
  /** Cash dividend amounts, one per entry of `security.dividends`. */
  readonly dividends: number[];
}

/** The shared state of one run. */
export interface SampleContext {
  readonly seed: number;
  readonly scale: number;
  readonly fromYear: number;
  readonly toYear: number;
  /** The release date written into every comment; Compustat restatements dated on or before it are in the values. */
  readonly vintage: string;
  readonly days: readonly string[];
  readonly market: readonly MarketDay[];
  readonly monthEnds: ReadonlySet<string>;
  readonly securities: readonly Security[];
  readonly summaries: Map<number, SecuritySummary>;
}

/** Builds the context (deterministic in seed, scale and years). */
export function createContext(seed: number, scale: number, fromYear: number, toYear: number, vintage = `${toYear + 1}-02-08`): SampleContext {
  const days = sessions(`${fromYear}-01-01`, `${toYear}-12-31`);
  const count = Math.max(50, Math.round(50 * scale));
  return {
    seed, scale, fromYear, toYear, vintage, days,
    market: days.map((d) => marketDay(seed, d)),
    monthEnds: lastSessionsOfMonths(days),
    securities: buildUniverse(seed, count, days),
    summaries: new Map(),
  };
}

/** Month offset of `date` from January of `fromYear`. */
export function monthIndex(ctx: SampleContext, date: string): number {
  return (Number(date.slice(0, 4)) - ctx.fromYear) * 12 + Number(date.slice(5, 7)) - 1;
}

/**
 * Simulates `sec` day by day; the first full pass also records its summary, so later tables
 * (delistings, Compustat) need no second simulation.
 */
export function* dailyRows(ctx: SampleContext, sec: Security): Generator<DayRow> {
  const record = !ctx.summaries.has(sec.permno);
  const months = (ctx.toYear - ctx.fromYear + 1) * 12;
  const summary: SecuritySummary = {
    monthPrice: new Float64Array(months).fill(Number.NaN), monthShrout: new Float64Array(months).fill(Number.NaN), lastPrice: Number.NaN, dividends: [],
  };
  let complete = false;
  try {
    for (const row of simulateSecurity(sec, ctx.seed, ctx.days, ctx.market)) {
      if (record && row.dividend > 0 && row.idx !== sec.spinoff?.idx) summary.dividends.push(row.dividend);
      if (record && row.prc !== null) {
        const m = monthIndex(ctx, row.date);
        summary.monthPrice[m] = Math.abs(row.prc);
        summary.monthShrout[m] = row.shrout;
        summary.lastPrice = Math.abs(row.prc);
      }
      yield row;
    }
    complete = true;
  } finally {
    if (record && complete) ctx.summaries.set(sec.permno, summary);
  }
}

/** The summary of `sec`, simulating it once if no table has yet. */
export function summaryOf(ctx: SampleContext, sec: Security): SecuritySummary {
  const cached = ctx.summaries.get(sec.permno);
  if (cached !== undefined) return cached;
  for (const row of dailyRows(ctx, sec)) void row;
  return ctx.summaries.get(sec.permno) as SecuritySummary;
}
