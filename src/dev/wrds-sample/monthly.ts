/**
 * Monthly bars compounded from the daily path, as CRSP's monthly files show them: one row per
 * month the security is listed through the month's last session, dated that session. A month
 * the security leaves before its end yields a final `partial` bar, dated the last trading day
 * (msf dates it at the month's last session with prc 0; msf_v2 folds in the delisting return).
 */
import { round } from './copy-text.js';
import { dailyRows } from './context.js';
import type { SampleContext } from './context.js';
import type { NameSpell, Security } from './universe.js';

/** One month of one security. */
export interface MonthBar {
  readonly date: string;
  /** Signed last price of the month (negative = midpoint), or null. */
  readonly prc: number | null;
  /** Compounded return; null when the month holds the security's first day (no prior price). */
  readonly ret: number | null;
  readonly retx: number | null;
  /** Shares traded in the month. */
  readonly vol: number;
  readonly low: number | null;
  readonly high: number | null;
  readonly bid: number | null;
  readonly ask: number | null;
  readonly shrout: number;
  readonly cfacpr: number;
  readonly cfacshr: number;
  /** Last non-missing price of the month and its date. */
  readonly altprc: number | null;
  readonly altprcdt: string | null;
  readonly spell: NameSpell;
  readonly partial: boolean;
}

/** The monthly bars of `sec`, in date order. */
export function* monthlyBars(ctx: SampleContext, sec: Security): Generator<MonthBar> {
  let acc = fresh();
  for (const day of dailyRows(ctx, sec)) {
    if (day.ret === null && day.prc !== null) acc.noPrior = true;
    // Compounded from the daily returns as published (6 decimals), so monthly = compounded daily to rounding.
    if (day.ret !== null) acc.gross *= 1 + round(day.ret, 6);
    if (day.retx !== null) acc.grossx *= 1 + round(day.retx, 6);
    acc.vol += day.vol ?? 0;
    if (day.low !== null) acc.low = acc.low === null ? day.low : Math.min(acc.low, day.low);
    if (day.high !== null) acc.high = acc.high === null ? day.high : Math.max(acc.high, day.high);
    if (day.prc !== null) {
      acc.altprc = day.prc;
      acc.altprcdt = day.date;
    }
    const monthEnd = ctx.monthEnds.has(day.date);
    if (monthEnd || day.idx === sec.lastIdx) {
      yield {
        date: day.date, prc: day.prc,
        ret: acc.noPrior ? null : acc.gross - 1, retx: acc.noPrior ? null : acc.grossx - 1,
        vol: acc.vol, low: acc.low, high: acc.high, bid: day.bid, ask: day.ask, shrout: day.shrout,
        cfacpr: day.cfacpr, cfacshr: day.cfacshr, altprc: acc.altprc, altprcdt: acc.altprcdt, spell: day.spell,
        partial: !monthEnd,
      };
      acc = fresh();
    }
  }
}

interface Accumulator {
  gross: number;
  grossx: number;
  noPrior: boolean;
  vol: number;
  low: number | null;
  high: number | null;
  altprc: number | null;
  altprcdt: string | null;
}

function fresh(): Accumulator {
  return { gross: 1, grossx: 1, noPrior: false, vol: 0, low: null, high: null, altprc: null, altprcdt: null };
}
