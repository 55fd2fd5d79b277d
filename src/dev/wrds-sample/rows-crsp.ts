/**
 * Rows of the CRSP legacy (SIZ) relations, in the column order of catalog.ts.
 */
import { fixed, round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { dailyRows, summaryOf } from './context.js';
import type { SampleContext } from './context.js';
import { addDays, nextSession } from './dates.js';
import { monthlyBars } from './monthly.js';
import { Rng } from './prng.js';
import { header, primaryExch } from './universe.js';
import type { NameSpell, Security } from './universe.js';

const ret6 = (x: number | null): string | null => fixed(x, 6);

function issuno(sec: Security): number {
  return header(sec).exchcd === 3 ? 10_000 + sec.index : 0;
}

function headCells(sec: Security, date: string): Cell[] {
  const h = header(sec);
  return [h.ncusip, sec.permno, sec.permco, issuno(sec), h.exchcd, h.siccd, date];
}

/** crsp.dsf: one row per permno and session of its life, ordered by permno, date. */
export function* dsfRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const h = header(sec);
    const iss = issuno(sec);
    for (const d of dailyRows(ctx, sec)) {
      // A day with no close and no bid/ask: CRSP writes prc = 0 on some such days, NULL on others (both mean missing).
      const prc = d.prc === null && d.idx % 2 === 0 ? 0 : d.prc;
      yield [h.ncusip, sec.permno, sec.permco, iss, h.exchcd, h.siccd, d.date, d.low, d.high, prc, d.vol, ret6(d.ret), d.bid, d.ask,
        d.shrout, d.cfacpr, d.cfacshr, d.open, d.numtrd, ret6(d.retx)];
    }
  }
}

/**
 * crsp.msf: one row per month the security traded in, dated the month's last session. The month a
 * security delists in keeps its row, as CRSP's monthly file does: `ret` is the return from the
 * previous month end to the last trade (the delisting return is NOT in it: it is in msedelist);
 * `prc` is 0 (no close and no bid/ask on the month's last session), `altprc`/`altprcdt` the last
 * price and its date.
 */
export function* msfRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    for (const m of monthlyBars(ctx, sec)) {
      const date = m.partial ? monthEndSession(ctx, m.date) : m.date;
      const spread = !m.partial && m.bid !== null && m.ask !== null ? round(m.ask - m.bid, 5) : null;
      yield [...headCells(sec, date), m.low, m.high, m.partial ? 0 : m.prc, Math.round(m.vol / 100), ret6(m.ret), m.partial ? null : m.bid, m.partial ? null : m.ask,
        m.shrout, m.cfacpr, m.cfacshr, m.altprc, spread, m.altprcdt, ret6(m.retx)];
    }
  }
}

/** The last session of the month of `date`. */
export function monthEndSession(ctx: SampleContext, date: string): string {
  let best = date;
  for (const d of ctx.monthEnds) if (d.slice(0, 7) === date.slice(0, 7)) best = d;
  return best;
}

function nameCells(sec: Security, s: NameSpell): Cell[] {
  const h = header(sec);
  return [sec.permno, s.start, s.end, s.shrcd, s.exchcd, s.siccd, s.ncusip, s.ticker, s.comnam, s.shrcls, `${s.ticker}${s.shrcls ?? ''}`,
    s.naics, primaryExch(s.exchcd), 'A', 'R', sec.permco, sec.compno, issuno(sec), h.exchcd, h.siccd, h.ncusip];
}

/** crsp.dsenames / crsp.msenames: one row per name spell. */
export function* namesRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) for (const s of sec.names) yield nameCells(sec, s);
}

/** crsp.stocknames (spelled `nameenddt`), WRDS's float-typed convenience table. */
export function* stocknamesRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const h = header(sec);
    const first = sec.names[0]?.start ?? null;
    let n = 0;
    for (const s of sec.names) {
      yield [sec.permno, s.start, s.end, s.shrcd, s.exchcd, s.siccd, s.ncusip, s.ticker, s.comnam, s.shrcls, sec.permco, h.exchcd,
        h.ncusip, first, ctx.days[sec.lastIdx] ?? null, ++n];
    }
  }
}

/** crsp.dsedelist / msedelist: one row per permno; code 100 for those still listed. */
export function* delistRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const last = summaryOf(ctx, sec).lastPrice;
    const cusip = header(sec).ncusip;
    const d = sec.delisting;
    if (d === null) {
      yield [sec.permno, sec.permco, ctx.days[sec.lastIdx] ?? null, 100, 0, 0, null, null, null, last, ctx.days[sec.lastIdx] ?? null, null, cusip];
      continue;
    }
    const dlstdt = ctx.days[d.idx] as string;
    const merger = d.code < 300;
    const value = d.dlret === null ? null : round(last * (1 + d.dlret), 4);
    const nextdt = merger ? null : addDays(dlstdt, 7 + (sec.permno % 20));
    yield [sec.permno, sec.permco, dlstdt, d.code, d.nwperm ?? 0, d.nwcomp ?? 0, nextdt, merger ? value : null, ret6(d.dlret),
      merger ? null : value, d.dlret === null ? null : merger ? dlstdt : nextdt, ret6(d.dlret), cusip];
  }
}

/** crsp.dsedist: cash dividends (1232) and splits (5523), by permno and ex-date. */
export function* distRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const amounts = summaryOf(ctx, sec).dividends;
    const events = [
      ...sec.dividends.map((d, i) => ({ idx: d.idx, split: false, amount: amounts[i] ?? 0, factor: 0 })),
      ...sec.splits.map((s) => ({ idx: s.idx, split: true, amount: 0, factor: s.factor - 1 })),
    ].sort((a, b) => a.idx - b.idx || Number(a.split) - Number(b.split));
    const spin = sec.spinoff !== null && sec.spinoff.idx > sec.firstIdx && sec.spinoff.idx <= sec.lastIdx ? sec.spinoff : null;
    for (const e of events) {
      const exdt = ctx.days[e.idx] as string;
      const rng = Rng.from(ctx.seed, 'dist', sec.permno, e.idx);
      const dclrdt = addDays(exdt, -rng.int(14, 35));
      const rcrddt = e.split ? addDays(exdt, -rng.int(10, 20)) : nextSession(exdt);
      const paydt = e.split ? addDays(exdt, -1) : addDays(exdt, rng.int(10, 30));
      yield [sec.permno, e.split ? 5523 : 1232, fixed(e.amount, 6), round(e.factor, 6), round(e.factor, 6), dclrdt, exdt, paydt, rcrddt,
        e.split ? sec.permno : null, e.split ? sec.permco : null];
    }
    // A spin-off: distribution code 3763, facpr > 0 and facshr = 0 (cfacpr moves, cfacshr does not).
    if (spin !== null) {
      const exdt = ctx.days[spin.idx] as string;
      yield [sec.permno, 3763, fixed(0, 6), round(spin.facpr, 6), 0, addDays(exdt, -30), exdt, addDays(exdt, 7), addDays(exdt, -10), null, null];
    }
  }
}

/** crsp.dsi: market indexes tracking the common factor. */
export function* dsiRows(ctx: SampleContext): Generator<Cell[]> {
  const state = { spindx: 2058.9, totval: 2.4e10, totcnt: 7_350 };
  for (let i = 0; i < ctx.days.length; i++) yield dsiRow(ctx.seed, ctx.days[i] as string, ctx.market[i]?.mkt ?? 0, ctx.market[i]?.smb ?? 0, state);
}

/** One crsp.dsi row; advances `state` (index level, total value, count). */
export function dsiRow(seed: number, date: string, mkt: number, smb: number, state: { spindx: number; totval: number; totcnt: number }): Cell[] {
  const rng = Rng.from(seed, 'dsi', date);
  const vwretd = mkt + 0.0002 * rng.normal();
  const vwretx = vwretd - 0.00007;
  const ewretd = 0.9 * mkt + 0.5 * smb + 0.0015 * rng.normal() + 0.0001;
  const sprtrn = mkt - 0.00007 + 0.0004 * rng.normal();
  const usdval = state.totval;
  state.spindx *= 1 + sprtrn;
  state.totval *= 1 + vwretx;
  if (rng.chance(0.05)) state.totcnt += rng.int(-6, 5);
  return [date, round(vwretd, 6), round(vwretx, 6), round(ewretd, 6), round(ewretd - 0.00008, 6), round(sprtrn, 6), round(state.spindx, 2),
    round(state.totval, 1), state.totcnt, round(usdval, 1), state.totcnt - 3];
}
