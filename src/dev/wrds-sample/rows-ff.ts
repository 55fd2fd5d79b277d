/**
 * Rows of the Fama–French relations, in decimals (WRDS), 4 decimals as the percent files give.
 */
import { round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import type { SampleContext } from './context.js';
import type { MarketDay } from './market.js';

/** ff.factors_daily row of one session. */
export function factorsDailyRow(date: string, m: MarketDay): Cell[] {
  return [date, round(m.mkt - m.rf, 4), round(m.smb, 4), round(m.hml, 4), round(m.rf, 5), round(m.umd, 4)];
}

/** ff.fivefactors_daily row of one session. */
export function fiveFactorsDailyRow(date: string, m: MarketDay): Cell[] {
  return [date, round(m.mkt - m.rf, 4), round(m.smb, 4), round(m.hml, 4), round(m.rmw, 4), round(m.cma, 4), round(m.rf, 5), round(m.umd, 4)];
}

/** ff.factors_daily over the sample's sessions. */
export function* factorsDailyRows(ctx: SampleContext): Generator<Cell[]> {
  for (let i = 0; i < ctx.days.length; i++) yield factorsDailyRow(ctx.days[i] as string, ctx.market[i] as MarketDay);
}

/** ff.fivefactors_daily over the sample's sessions. */
export function* fiveFactorsDailyRows(ctx: SampleContext): Generator<Cell[]> {
  for (let i = 0; i < ctx.days.length; i++) yield fiveFactorsDailyRow(ctx.days[i] as string, ctx.market[i] as MarketDay);
}

/** ff.factors_monthly: compounded daily factors; `date` is the month's first day, `dateff` its last session. */
export function* factorsMonthlyRows(ctx: SampleContext): Generator<Cell[]> {
  let g = { mkt: 1, rf: 1, smb: 1, hml: 1, umd: 1 };
  for (let i = 0; i < ctx.days.length; i++) {
    const date = ctx.days[i] as string;
    const m = ctx.market[i] as MarketDay;
    g = { mkt: g.mkt * (1 + m.mkt), rf: g.rf * (1 + m.rf), smb: g.smb * (1 + m.smb), hml: g.hml * (1 + m.hml), umd: g.umd * (1 + m.umd) };
    if (!ctx.monthEnds.has(date)) continue;
    yield [`${date.slice(0, 7)}-01`, round(g.mkt - g.rf, 4), round(g.smb - 1, 4), round(g.hml - 1, 4), round(g.rf - 1, 4), round(g.umd - 1, 4), date];
    g = { mkt: 1, rf: 1, smb: 1, hml: 1, umd: 1 };
  }
}
