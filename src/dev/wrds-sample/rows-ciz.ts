/**
 * Rows of the CRSP CIZ (v2) relations. Prices are positive with a flag ('TR' trade, 'BA' bid/ask
 * average); the delisting return sits inside dlyret (an extra row on the delisting date) and
 * mthret (the delisting month), so it must never be added again.
 */
import { fixed, round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { dailyRows, summaryOf } from './context.js';
import type { SampleContext } from './context.js';
import { addDays, monthOf } from './dates.js';
import { monthlyBars } from './monthly.js';
import { monthEndSession } from './rows-crsp.js';
import { header, primaryExch } from './universe.js';
import type { NameSpell, Security } from './universe.js';

/** CIZ security-type fields derived from a legacy share code. */
export function cizTypes(shrcd: number, permno: number): Cell[] {
  const fund = shrcd === 73;
  return [
    fund ? 'FUND' : 'EQTY', fund ? 'ETF' : shrcd === 31 ? 'ADR' : 'COM', 'NS', shrcd === 12 || shrcd === 31 ? 'N' : 'Y',
    fund ? 'FUND' : permno % 3 === 0 ? 'ACOR' : 'CORP', 'RW',
  ];
}

/**
 * The CIZ files are updated after the legacy ones froze: a 2-for-1 split after the sample's end
 * (slot 6 of each block) is in CIZ's cumulative factors, not in legacy cfacpr, so dlycumfacpr =
 * 2 x cfacpr for that security (both are 1 on their own release's last date).
 */
export function laterSplit(sec: Security): number {
  return sec.role === 'regular' && sec.index % 50 === 6 ? 2 : 1;
}

/** crsp.dsf_v2: one row per session, plus a row on the delisting date carrying the delisting return. */
export function* dsfV2Rows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const hdr = header(sec).ncusip;
    let spell: NameSpell = header(sec);
    let shrout = 0;
    let cfac = 1;
    let types = cizTypes(spell.shrcd, sec.permno);
    const del = sec.delisting;
    for (const d of dailyRows(ctx, sec)) {
      // A delisting on a trading day: its return is folded into that day's dlyret (flagged 'Y'), no extra row.
      const folded = del !== null && del.idx === d.idx;
      const s = d.spell;
      if (s !== spell) types = cizTypes(s.shrcd, sec.permno);
      spell = s;
      shrout = d.shrout;
      cfac = round(d.cfacpr * laterSplit(sec), 6);
      const price = d.prc === null ? null : Math.abs(d.prc);
      const missing = d.prc === null ? 'MP' : d.ret === null ? 'NS' : null;
      const ret = folded ? withDelisting(d.ret, del.dlret) : d.ret === null ? null : round(d.ret, 6);
      const retx = folded ? withDelisting(d.retx, del.dlret) : d.retx === null ? null : round(d.retx, 6);
      yield [sec.permno, d.date, price, d.open, d.traded ? d.high : null, d.traded ? d.low : null, d.vol, d.shrout, ret,
        retx, d.split, primaryExch(s.exchcd), s.siccd, s.ticker, sec.permco, hdr, s.naics,
        d.prc === null ? null : d.traded ? 'TR' : 'BA', folded ? 'Y' : 'N', missing, d.bid, d.ask, d.traded ? d.prc : null, d.numtrd,
        price === null ? null : round(price * d.shrout, 2), round(d.cfacpr * laterSplit(sec), 6), round(d.cfacshr * laterSplit(sec), 6), types[0] ?? null, types[1] ?? null, types[2] ?? null,
        types[3] ?? null, types[4] ?? null, types[5] ?? null, folded ? 'D' : 'A'];
    }
    if (del !== null && del.idx > sec.lastIdx) {
      const price = del.dlret === null ? null : round(summaryOf(ctx, sec).lastPrice * (1 + del.dlret), 4);
      yield [sec.permno, ctx.days[del.idx] ?? null, price, null, null, null, null, shrout, del.dlret === null ? null : round(del.dlret, 6),
        del.dlret === null ? null : round(del.dlret, 6), 1, primaryExch(spell.exchcd), spell.siccd, spell.ticker, sec.permco, hdr, spell.naics,
        price === null ? null : 'DP', 'Y', del.dlret === null ? 'DM' : null, null, null, null, null, price === null ? null : round(price * shrout, 2),
        cfac, cfac, ...cizTypes(spell.shrcd, sec.permno), 'D'];
    }
  }
}

/** crsp.msf_v2: monthly rows; the delisting month folds in the delisting return. */
export function* msfV2Rows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const hdr = header(sec).ncusip;
    const del = sec.delisting;
    const dlstdt = del === null ? null : (ctx.days[del.idx] as string);
    let last: { date: string; spell: NameSpell; shrout: number } | null = null;
    let folded = false;
    for (const m of monthlyBars(ctx, sec)) {
      let ret = m.ret;
      let retx = m.retx;
      let date = m.date;
      const delMonth = m.partial && del !== null && dlstdt !== null && monthOf(dlstdt) === monthOf(m.date);
      if (delMonth) {
        folded = true;
        date = monthEndSession(ctx, dlstdt);
        // CRSP's delisting return folded in; none known: the return through the last trade (wh applies Shumway on top).
        ret = withDelisting(ret, del.dlret);
        retx = withDelisting(retx, del.dlret);
      }
      const price = m.prc === null ? null : Math.abs(m.prc);
      yield monthRow(sec, hdr, date, ret, retx, price, m.vol, m.shrout, m.spell, m.prc === null ? null : m.prc > 0 ? 'TR' : 'BA', delMonth);
      last = { date: m.date, spell: m.spell, shrout: m.shrout };
    }
    if (del !== null && dlstdt !== null && !folded && last !== null) {
      yield monthRow(sec, hdr, monthEndSession(ctx, dlstdt), del.dlret, del.dlret, null, 0, last.shrout, last.spell, null, true);
    }
  }
}

function monthRow(sec: Security, hdr: string, date: string, ret: number | null, retx: number | null, price: number | null, vol: number,
  shrout: number, s: NameSpell, prcflg: string | null, delisted: boolean): Cell[] {
  return [sec.permno, date, fixed(ret, 6), fixed(retx, 6), price, price === null ? null : round(price * shrout, 2), vol, shrout, s.siccd, s.naics,
    s.ticker, primaryExch(s.exchcd), sec.permco, hdr, prcflg, delisted ? 'Y' : 'N', ret === null ? 'NR' : null];
}

/**
 * A period's return with the delisting return folded in, from the published (6-decimal) values as
 * CRSP compounds them: (1+ret)(1+dlret)-1; dlret alone without ret; ret alone without dlret.
 */
function withDelisting(ret: number | null, dlret: number | null): number | null {
  const r = ret === null ? null : round(ret, 6);
  const d = dlret === null ? null : round(dlret, 6);
  if (d === null) return r;
  return r === null ? d : round((1 + r) * (1 + d) - 1, 6);
}

/** crsp.stksecurityinfohist: one row per name spell. */
export function* securityInfoRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const hdr = header(sec).ncusip;
    for (const s of sec.names) {
      const types = cizTypes(s.shrcd, sec.permno);
      yield [sec.permno, s.start, s.end, s.comnam, s.shrcls, hdr, primaryExch(s.exchcd), 'A', s.naics, s.siccd, types[2] ?? null, types[0] ?? null,
        types[1] ?? null, types[3] ?? null, types[4] ?? null, types[5] ?? null, sec.permco, s.ticker, `${s.ticker}${s.shrcls ?? ''}`, s.ncusip];
    }
  }
}

const DELIST_KIND: Readonly<Record<number, readonly [string, string, string]>> = {
  231: ['MER', 'CSH', 'CA'], 233: ['MER', 'CSH', 'CA'], 241: ['MER', 'STK', 'ST'], 500: ['DEL', 'UNK', 'UN'], 520: ['DEL', 'OTC', 'NP'],
  552: ['DEL', 'PRC', 'NP'], 560: ['DEL', 'CAP', 'NP'], 574: ['DEL', 'BKR', 'NP'], 584: ['DEL', 'FIN', 'NP'],
};

/** crsp.stkdelists: one row per delisted permno. */
export function* stkDelistRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    const d = sec.delisting;
    if (d === null) continue;
    const [action, reason, payment] = DELIST_KIND[d.code] ?? ['DEL', 'UNK', 'UN'];
    const dlstdt = ctx.days[d.idx] as string;
    const next = d.code >= 500 && d.dlret !== null ? addDays(dlstdt, 7 + (sec.permno % 20)) : null;
    const nextPrice = next === null || d.dlret === null ? null : round(summaryOf(ctx, sec).lastPrice * (1 + d.dlret), 4);
    yield [sec.permno, dlstdt, action, 'CL', reason, payment, d.dlret === null ? null : round(d.dlret, 6), d.dlret === null ? null : round(d.dlret, 6),
      next, nextPrice, d.nwperm, d.nwcomp, d.dlret === null ? 'NA' : null];
  }
}
