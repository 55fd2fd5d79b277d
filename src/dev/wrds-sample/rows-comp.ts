/**
 * Rows of comp.funda, comp.fundq, comp.company and crsp.ccmxpf_lnkhist. One Compustat firm per
 * gvkey (a dual-class pair shares one); fundamentals follow a firm-level random walk in assets.
 * Researcher traps included: FS and SUMM_STD duplicates beside INDL/STD, financials before the
 * IPO (not yet linked), a fiscal-year-end change that duplicates two quarters, missing rdq,
 * preliminary (updq = 2) latest quarters, and `tic` = today's ticker.
 */
import { round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { monthIndex, summaryOf } from './context.js';
import type { SampleContext } from './context.js';
import { addDays, monthEnd, nextSession } from './dates.js';
import { fundaItems, fundqItems } from './catalog.js';
import { Rng } from './prng.js';
import { header } from './universe.js';
import type { Security } from './universe.js';

type Items = Record<(typeof fundaItems)[number], number>;

interface Quarter { readonly datadate: string; readonly fyr: number; readonly fyear: number; readonly fqtr: number }

const STATES = ['DE', 'CA', 'NY', 'TX', 'MA', 'IL', 'NJ', 'OH', 'GA', 'WA'];

/** Firms: one per gvkey (class B shares its class A's). */
function firms(ctx: SampleContext): Security[] {
  return ctx.securities.filter((s) => s.gvkey !== null && s.role !== 'classB');
}

/** 9-character CUSIP: the 8 characters plus the check digit. */
export function cusip9(cusip8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = cusip8.charAt(i);
    let v = /\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55;
    if (i % 2 === 1) v *= 2;
    sum += Math.floor(v / 10) + (v % 10);
  }
  return `${cusip8}${(10 - (sum % 10)) % 10}`;
}

/** Fiscal quarters ending in [from, to] for fiscal year-end month `fyr`. */
function quarters(fyr: number, from: string, to: string): Quarter[] {
  const result: Quarter[] = [];
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) {
    for (let m = 1; m <= 12; m++) {
      if ((m - fyr + 12) % 3 !== 0) continue;
      const datadate = monthEnd(y, m);
      if (datadate < from || datadate > to) continue;
      const fyEndYear = m <= fyr ? y : y + 1;
      result.push({ datadate, fyr, fyear: fyr >= 6 ? fyEndYear : fyEndYear - 1, fqtr: Math.floor(((m - fyr - 1 + 12) % 12) / 3) + 1 });
    }
  }
  return result;
}

/** The firm's fiscal quarters: a fiscal-year-end change keeps both views of two quarters. */
function plan(ctx: SampleContext, sec: Security): Quarter[] {
  const from = `${sec.preexisting ? ctx.fromYear - 1 : Number((ctx.days[sec.firstIdx] ?? '').slice(0, 4)) - 1}-01-01`;
  const to = sec.delisting === null ? `${ctx.toYear}-09-30` : (ctx.days[sec.lastIdx] as string);
  if (sec.fyrNew === null || sec.fyrFromYear === null) return quarters(sec.fyr, from, to);
  const y = sec.fyrFromYear;
  const old = quarters(sec.fyr, from, to).filter((q) => q.datadate <= `${y}-06-30`);
  const next = quarters(sec.fyrNew, from, to).filter((q) => q.datadate >= `${y}-03-31`);
  return [...old, ...next].sort((a, b) => a.datadate.localeCompare(b.datadate) || b.fyr - a.fyr);
}

/** Balance-sheet and income items at `datadate` (annual flows; stocks as of the date). */
function items(ctx: SampleContext, sec: Security, datadate: string): Items {
  const base = Rng.from(ctx.seed, 'firm', sec.permno);
  const cap = sec.p0 * sec.shrout0 / 1000;
  const at0 = cap * base.uniform(0.4, 2.5);
  const growth = base.uniform(-0.03, 0.12);
  const margin = base.normal() * 0.05 + 0.07;
  const equity = base.uniform(0.25, 0.6);
  const turnover = base.uniform(0.3, 1.5);
  const pref = base.chance(0.15) ? 0.02 : 0;
  const years = (Date.parse(datadate) - Date.parse(`${ctx.fromYear}-01-01`)) / (365.25 * 86_400_000);
  const rng = Rng.from(ctx.seed, 'items', sec.permno, datadate);
  const at = at0 * Math.exp(growth * years + 0.05 * rng.normal());
  const sale = at * turnover * (1 + 0.05 * rng.normal());
  const ni = sale * (margin + 0.03 * rng.normal());
  const ceq = at * equity;
  const pstk = at * pref;
  const seq = ceq + pstk;
  const lt = at - seq;
  const act = at * 0.35;
  const dltt = lt * 0.4;
  const dp = at * 0.04;
  const v: Items = {
    act, at, capx: at * 0.05, ceq, che: at * 0.1, cogs: sale * 0.6, dlc: lt * 0.08, dltt, dp, dvc: sec.dividends.length > 0 ? Math.max(0, ni * 0.3) : 0,
    ib: ni * 0.97, invt: act * 0.3, lct: at * 0.22, lt, ni, oancf: ni + dp + 0.02 * at * rng.normal(), pstk, pstkl: pstk, pstkrv: pstk,
    re: ceq * 0.6, revt: sale, sale, seq, txdb: at * 0.012, txditc: at * 0.015, xint: dltt * 0.05, xsga: sale * 0.2,
  };
  // Restatements: some firm-periods are restated about 1-2 years later; a sample whose vintage is on or after
  // that date carries the restated values (a later pull of the same seed differs from an earlier one there).
  if (restatedBy(ctx, sec, datadate)) {
    for (const k of ['ni', 'ib', 'sale', 'revt', 'oancf'] as const) v[k] *= 0.93;
  }
  for (const k of fundaItems) v[k] = round(v[k], 3);
  return v;
}

/** Whether the values of `datadate` were restated by the sample's vintage (8 % of firm-periods, 400-700 days later). */
export function restatedBy(ctx: SampleContext, sec: Security, datadate: string): boolean {
  const rng = Rng.from(ctx.seed, 'restatement', sec.permno, datadate);
  return rng.chance(0.08) && addDays(datadate, rng.int(400, 700)) <= ctx.vintage;
}

function priceAt(ctx: SampleContext, sec: Security, datadate: string): { prc: number | null; csho: number | null } {
  const m = monthIndex(ctx, datadate);
  if (m < 0) return { prc: null, csho: null };
  const s = summaryOf(ctx, sec);
  const prc = s.monthPrice[m];
  const shrout = s.monthShrout[m];
  return prc === undefined || Number.isNaN(prc) || shrout === undefined ? { prc: null, csho: null } : { prc, csho: round(shrout / 1000, 3) };
}

function identity(ctx: SampleContext, sec: Security): { tic: string; cusip: string; conm: string; cik: string; fic: string; costat: string } {
  const h = header(sec);
  return {
    tic: h.ticker, cusip: cusip9(h.ncusip), conm: h.comnam, cik: String(1_000_000 + sec.index * 7).padStart(10, '0'),
    fic: h.shrcd === 12 || h.shrcd === 31 ? 'GBR' : 'USA', costat: sec.delisting === null ? 'A' : 'I',
  };
}

/**
 * Rows the four standard filters must drop, beside INDL/STD/D/C, with other values: an
 * international-population row (`popsrc = 'I'`, slots 5-6 of each block) or a non-consolidated one
 * (`consol = 'N'`, slots 7-8).
 */
function otherPresentation(sec: Security): { consol: string; popsrc: string; factor: number } | null {
  const slot = sec.index % 50;
  if (slot === 5 || slot === 6) return { consol: 'C', popsrc: 'I', factor: 1.3 };
  if (slot === 7 || slot === 8) return { consol: 'N', popsrc: 'D', factor: 0.8 };
  return null;
}

function scaled(v: Items, factor: number): Items {
  const out = { ...v };
  for (const k of fundaItems) out[k] = round(v[k] * factor, 3);
  return out;
}

function scaleCell(v: number | null, factor: number): number | null {
  return v === null || factor === 1 ? v : round(v * factor, 3);
}

/** comp.funda: INDL/STD rows, plus FS rows for financials and SUMM_STD restated rows for some years. */
export function* fundaRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of firms(ctx)) {
    const id = identity(ctx, sec);
    const financial = sec.industry.sic >= 6000 && sec.industry.sic < 7000;
    for (const q of plan(ctx, sec)) {
      if (q.fqtr !== 4) continue;
      const v = items(ctx, sec, q.datadate);
      const { prc, csho } = priceAt(ctx, sec, q.datadate);
      const row = (indfmt: string, datafmt: string, values: Items, consol = 'C', popsrc = 'D'): Cell[] => [
        sec.gvkey, q.datadate, q.fyear, indfmt, consol, popsrc, datafmt, id.tic, id.cusip, id.conm, 'USD', q.fyr, q.datadate, addDays(q.datadate, 60),
        addDays(q.datadate, 75), ...fundaItems.map((k) => values[k]), id.cik, id.costat, id.fic, Number(sec.industry.naics), sec.industry.sic,
        prc, csho, prc === null || csho === null ? null : round(prc * csho, 3),
      ];
      yield row('INDL', 'STD', v);
      if (financial) yield row('FS', 'STD', v);
      const other = otherPresentation(sec);
      if (other !== null) yield row('INDL', 'STD', scaled(v, other.factor), other.consol, other.popsrc);
      if (Rng.from(ctx.seed, 'restated', sec.permno, q.datadate).chance(0.1) || sec.role === 'fyrChange') {
        const restated = { ...v, at: round(v.at * 1.02, 3), ni: round(v.ni * 0.9, 3), ib: round(v.ib * 0.9, 3) };
        yield row('INDL', 'SUMM_STD', restated);
      }
    }
  }
}

/** comp.fundq: one row per fiscal quarter (two for the quarters a fiscal-year-end change duplicates). */
export function* fundqRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of firms(ctx)) {
    const id = identity(ctx, sec);
    const all = plan(ctx, sec);
    const latest = all.at(-1)?.datadate;
    const seen = new Map<string, number>();
    for (const q of all) seen.set(q.datadate, (seen.get(q.datadate) ?? 0) + 1);
    for (const q of all) {
      const v = items(ctx, sec, q.datadate);
      const rng = Rng.from(ctx.seed, 'fundq', sec.permno, q.datadate, q.fyr);
      const flow = (x: number): number => round((x / 4) * (1 + 0.08 * rng.normal()), 3);
      const { prc, csho } = priceAt(ctx, sec, q.datadate);
      let rdq = rng.chance(0.03) ? null : nextSession(addDays(q.datadate, rng.int(20, 45)));
      // A quarter duplicated by the fiscal-year-end change: the new calendar's row comes with the transition
      // report, 3-10 days after the old calendar's (so the two rows of a quarter become available on different days).
      if ((seen.get(q.datadate) ?? 0) > 1 && q.fyr === sec.fyrNew) {
        const old = Rng.from(ctx.seed, 'fundq', sec.permno, q.datadate, sec.fyr);
        const oldRdq = old.chance(0.03) ? null : nextSession(addDays(q.datadate, old.int(20, 45)));
        rdq = oldRdq === null ? rdq : nextSession(addDays(oldRdq, Rng.from(ctx.seed, 'fundq-transition', sec.permno, q.datadate).int(3, 10)));
      }
      const month = Number(q.datadate.slice(5, 7));
      const values: Record<(typeof fundqItems)[number], number | null> = {
        atq: v.at, ceqq: v.ceq, ltq: v.lt, saleq: flow(v.sale), niq: flow(v.ni), ibq: flow(v.ib), revtq: flow(v.revt), cheq: v.che, actq: v.act,
        lctq: v.lct, dlttq: v.dltt, seqq: v.seq, pstkq: v.pstk, txditcq: v.txditc, cshoq: csho, prccq: prc,
      };
      const qrow = (consol: string, popsrc: string, factor: number): Cell[] => [sec.gvkey, q.datadate, q.fyear, q.fqtr, q.fyr, rdq, q.datadate, `${q.datadate.slice(0, 4)}Q${Math.ceil(month / 3)}`, `${q.fyear}Q${q.fqtr}`,
        ...fundqItems.map((k) => scaleCell(values[k], factor)), 'INDL', consol, popsrc, 'STD', id.tic, id.cusip, id.conm, 'USD', rdq ?? addDays(q.datadate, 45),
        addDays(q.datadate, 50), q.datadate === latest && sec.delisting === null ? 2 : 3, id.cik, id.costat, id.fic];
      yield qrow('C', 'D', 1);
      const other = otherPresentation(sec);
      if (other !== null) yield qrow(other.consol, other.popsrc, other.factor);
    }
  }
}

/** comp.company: one row per gvkey. */
export function* companyRows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of firms(ctx)) {
    const id = identity(ctx, sec);
    const rng = Rng.from(ctx.seed, 'company', sec.permno);
    const d = sec.delisting;
    const dlrsn = d === null ? null : d.code < 300 ? '01' : d.code === 574 ? '02' : d.code === 560 ? '03' : '09';
    yield [sec.gvkey, id.conm, id.cik, String(sec.industry.sic), sec.industry.naics, id.fic === 'USA' ? rng.pick(STATES) : null, id.fic,
      sec.preexisting ? (rng.chance(0.5) ? sec.listedSince : null) : ctx.days[sec.firstIdx] ?? null, d === null ? null : ctx.days[d.idx] ?? null,
      dlrsn, id.costat];
  }
}

/** Link types the standard filter drops, given to regular securities in slots 3-7 of each block beside their LU/LC link. */
const OTHER_LINK_TYPES = ['LS', 'LX', 'LD', 'LN', 'NU'] as const;

/**
 * crsp.ccmxpf_lnkhist: links that open and close; NULL linkenddt = still open. A delisted
 * security's link ends on its last trading day, as CCM's do (the delisting date can come after
 * it). Traps: a not-yet-linked NR row before an IPO, a class B 'J' link, a relink the next day, a
 * link gap (the exchange mover's link closes for a few weeks), and LS/LX/LD/LN/NU rows.
 */
export function* linkRows(ctx: SampleContext): Generator<Cell[]> {
  const n = ctx.days.length;
  for (const sec of ctx.securities) {
    if (sec.gvkey === null) continue;
    const first = ctx.days[sec.firstIdx] as string;
    const end = sec.delisting === null ? null : (ctx.days[sec.lastIdx] as string);
    const classB = sec.role === 'classB';
    const link = (prim: string, type: string, from: string, to: string | null): Cell[] =>
      [sec.gvkey, prim, classB ? '02' : '01', type, sec.permno, sec.permco, from, to];
    if (!sec.preexisting) yield [sec.gvkey, 'C', '90', 'NR', null, null, `${Number(first.slice(0, 4)) - 1}-01-01`, addDays(first, -1)];
    const start = sec.preexisting ? sec.listedSince : first;
    const slot = sec.index % 50;
    if (sec.role === 'relinked') {
      const switchAt = ctx.days[Math.floor(n / 2)] as string;
      yield link('C', 'LU', start, addDays(switchAt, -1));
      yield link('P', 'LC', switchAt, end);
    } else if (sec.role === 'exchangeChange') {
      // A link gap: no link in force for about a month (CCM had the firm unlinked while it moved).
      const gapFrom = ctx.days[Math.floor(n * 0.55)] as string;
      const gapTo = ctx.days[Math.floor(n * 0.55) + 21] as string;
      yield link('P', 'LC', start, addDays(gapFrom, -1));
      yield link('P', 'LC', gapTo, end);
    } else {
      yield link(classB ? 'J' : 'P', classB ? 'LU' : sec.index % 3 === 0 ? 'LU' : 'LC', start, end);
    }
    if (sec.role === 'regular' && slot >= 3 && slot <= 7) {
      const type = OTHER_LINK_TYPES[slot - 3] as string;
      yield [sec.gvkey, 'P', '90', type, type === 'NU' || type === 'LN' ? null : sec.permno, type === 'NU' || type === 'LN' ? null : sec.permco,
        ctx.days[Math.floor(n * 0.2)] as string, ctx.days[Math.floor(n * 0.8)] as string];
    }
  }
}
