/**
 * The daily life of one security: a latent price driven by the market factor plus fat-tailed
 * (Student-t) idiosyncratic shocks and rare jumps, reported the way CRSP reports it — a closing
 * trade, or on a day without trades the negated bid/ask midpoint, or nothing (missing). Returns
 * are computed from the reported prices, splits and dividends, so they agree with the prices.
 * One security at a time, one day at a time: nothing holds more than one permno's state.
 */
import type { MarketDay } from './market.js';
import { Rng } from './prng.js';
import { header, spellOn } from './universe.js';
import type { NameSpell, Security } from './universe.js';

/** Per-security parameters of one step. */
export interface StepParams {
  readonly alpha: number;
  readonly beta: number;
  readonly sigma: number;
  readonly spread: number;
  readonly turnover: number;
  readonly pNoTrade: number;
  readonly pMissing: number;
  readonly nasdaq: boolean;
}

/** What carries over from one session to the next. */
export interface SimState {
  latent: number;
  /** Last reported |prc|, or null before the first report (first day: NULL return). */
  lastReported: number | null;
  /** Split factors and dividends since the last reported price (returns bridge missing days). */
  sinceFactor: number;
  sinceDiv: number;
  /** Shares outstanding, thousands. */
  shrout: number;
}

/** One session as CRSP's daily file shows it. */
export interface DayBar {
  /** Signed: negative = bid/ask midpoint (no trade); null = missing. */
  readonly prc: number | null;
  readonly traded: boolean;
  readonly ret: number | null;
  readonly retx: number | null;
  readonly open: number | null;
  /** Low / high, or bid / ask on a day without trades (CRSP's bidlo/askhi). */
  readonly low: number | null;
  readonly high: number | null;
  readonly bid: number | null;
  readonly ask: number | null;
  readonly vol: number | null;
  readonly numtrd: number | null;
  readonly shrout: number;
  readonly split: number;
  readonly dividend: number;
}

/** A bar with its date and the security's state that day. */
export interface DayRow extends DayBar {
  readonly idx: number;
  readonly date: string;
  readonly cfacpr: number;
  readonly cfacshr: number;
  readonly spell: NameSpell;
}

/** Prices: cents at or above $1, four decimals below. */
export function roundPrice(x: number): number {
  const digits = x >= 1 ? 100 : 10_000;
  return Math.max(0.0001, Math.round(x * digits) / digits);
}

/**
 * Advances `state` by one session and returns the reported bar. `divYield` > 0 makes this an
 * ex-date paying a quarter of that annual yield on the previous price, rounded to cents.
 */
export function step(p: StepParams, state: SimState, m: MarketDay, rng: Rng, split: number, divYield: number, canBeMissing: boolean): DayBar {
  const s = state;
  const prevLatent = s.latent / split;
  const dividend = divYield > 0 ? Math.max(0.01, Math.round((prevLatent * divYield) / 4 * 100) / 100) : 0;
  // Itô term: the idiosyncratic shock adds no drift to the log price, so prices neither vanish nor explode.
  let r = p.alpha + m.rf + p.beta * (m.mkt - m.rf) + 0.5 * p.sigma * p.sigma + p.sigma * rng.studentT(4);
  if (rng.chance(0.002)) r += 0.12 * rng.normal();
  if (s.latent > 20_000) r -= 0.01;
  r = Math.min(2, Math.max(-0.8, r));
  s.latent = Math.max(0.05, prevLatent * (1 + r) - dividend);
  if (split !== 1) s.shrout = Math.round(s.shrout * split);
  if (rng.chance(0.01)) s.shrout = Math.max(100, Math.round(s.shrout * (1 + 0.02 * rng.normal())));
  s.sinceFactor *= split;
  s.sinceDiv += dividend * s.sinceFactor;

  const missing = canBeMissing && rng.chance(p.pMissing);
  const traded = !missing && !rng.chance(p.pNoTrade);
  const half = Math.max(0.005, s.latent * p.spread * (1 + 0.5 * Math.abs(rng.normal())));
  const bid = missing ? null : roundPrice(Math.max(0.0001, s.latent - half));
  const ask = missing ? null : roundPrice(s.latent + half);
  let prc: number | null = null;
  let open: number | null = null;
  let low: number | null = bid;
  let high: number | null = ask;
  let vol: number | null = missing ? null : 0;
  let numtrd: number | null = missing || !p.nasdaq ? null : 0;
  if (traded) {
    prc = roundPrice(s.latent);
    open = roundPrice(prevLatent * (1 + 0.4 * r + 0.003 * rng.normal()));
    low = roundPrice(Math.min(open, prc) * (1 - Math.abs(rng.normal()) * p.sigma * 0.4));
    high = roundPrice(Math.max(open, prc) * (1 + Math.abs(rng.normal()) * p.sigma * 0.4));
    vol = Math.max(100, Math.round(s.shrout * 1000 * p.turnover * Math.exp(0.6 * rng.normal()) * (1 + 8 * Math.abs(r))));
    numtrd = p.nasdaq ? Math.max(1, Math.round(vol / rng.uniform(120, 400))) : null;
  } else if (bid !== null && ask !== null) {
    prc = -Math.round(((bid + ask) / 2) * 100_000) / 100_000; // Negative prices: the sign flags a midpoint
  }
  let ret: number | null = null;
  let retx: number | null = null;
  if (prc !== null) {
    const price = Math.abs(prc);
    if (s.lastReported !== null) {
      ret = (price * s.sinceFactor + s.sinceDiv) / s.lastReported - 1;
      retx = (price * s.sinceFactor) / s.lastReported - 1;
    }
    s.lastReported = price;
    s.sinceFactor = 1;
    s.sinceDiv = 0;
  }
  return { prc, traded, ret, retx, open, low, high, bid, ask, vol, numtrd, shrout: s.shrout, split, dividend };
}

/** Step parameters of a master record. */
export function paramsOf(sec: Security): StepParams {
  return {
    alpha: sec.alpha, beta: sec.beta, sigma: sec.sigma, spread: sec.spread, turnover: sec.turnover,
    pNoTrade: sec.pNoTrade, pMissing: sec.pMissing, nasdaq: header(sec).exchcd === 3,
  };
}

/** Every session of `sec`'s life in the sample, in date order. */
export function* simulateSecurity(sec: Security, seed: number, days: readonly string[], market: readonly MarketDay[]): Generator<DayRow> {
  const rng = Rng.from(seed, 'daily', sec.permno);
  const params = paramsOf(sec);
  const splits = new Map(sec.splits.map((s) => [s.idx, s.factor]));
  const exDates = new Set(sec.dividends.map((d) => d.idx));
  let cfac = sec.splits.reduce((f, s) => f * s.factor, 1);
  // cfacpr also carries later spin-offs (price-only factors); cfacshr only splits.
  const spin = sec.spinoff !== null && sec.spinoff.idx >= sec.firstIdx && sec.spinoff.idx <= sec.lastIdx ? sec.spinoff : null;
  let spinFactor = spin === null ? 1 : 1 + spin.facpr;
  const state: SimState = {
    latent: sec.p0, lastReported: sec.preexisting ? roundPrice(sec.p0) : null, sinceFactor: 1, sinceDiv: 0, shrout: sec.shrout0,
  };
  for (let idx = sec.firstIdx; idx <= sec.lastIdx; idx++) {
    const date = days[idx] as string;
    const split = splits.get(idx) ?? 1;
    cfac /= split;
    const m = market[idx] as MarketDay;
    const edge = idx === sec.firstIdx || idx === sec.lastIdx;
    if (spin !== null && idx === spin.idx) spinFactor = 1;
    // A spin-off is paid like a distribution worth facpr/(1+facpr) of the previous price (4x: step pays a quarter of a yield).
    const yieldToday = spin !== null && idx === spin.idx ? (4 * spin.facpr) / (1 + spin.facpr) : exDates.has(idx) ? sec.divYield : 0;
    const bar = step(params, state, m, rng, split, yieldToday, !edge);
    const factor = Math.round(cfac * 1e6) / 1e6;
    const factorPr = Math.round(cfac * spinFactor * 1e6) / 1e6;
    // Explicit fields, not `{ ...bar }`: V8's object spread was 4x slower than the whole step here.
    yield {
      prc: bar.prc, traded: bar.traded, ret: bar.ret, retx: bar.retx, open: bar.open, low: bar.low, high: bar.high, bid: bar.bid, ask: bar.ask,
      vol: bar.vol, numtrd: bar.numtrd, shrout: bar.shrout, split: bar.split, dividend: bar.dividend,
      idx, date, cfacpr: factorPr, cfacshr: factor, spell: spellOn(sec, date),
    };
  }
}
