/**
 * The security master: who is listed when, under which names, with which splits, dividends and
 * delisting. Small (one record per permno), built once per sample; the daily data is streamed
 * from it. Every block of 50 permnos holds the same cast of roles, so every scale and seed
 * contains the quirks researchers meet (see docs/concepts/wrds-sample.md).
 */
import { addDays } from './dates.js';
import { companyName, freshIssuer, freshTicker, INDUSTRIES } from './names.js';
import type { Industry } from './names.js';
import { Rng } from './prng.js';

/** What a permno is in the sample. */
export type Role = 'regular' | 'classA' | 'classB' | 'ipo' | 'delisted' | 'tickerOld' | 'tickerNew' | 'tickerChange'
  | 'exchangeChange' | 'shrcdChange' | 'illiquid' | 'adr' | 'fund' | 'fyrChange' | 'relinked' | 'tickerTaker';

/** Roles by position within each block of 50 permnos. */
const CAST: readonly Role[] = [
  ...Array<Role>(20).fill('regular'), 'classA', 'classB', ...Array<Role>(6).fill('ipo'), ...Array<Role>(7).fill('delisted'),
  'tickerOld', 'tickerNew', 'tickerChange', 'exchangeChange', 'shrcdChange', 'illiquid', 'illiquid', 'illiquid',
  'adr', 'fund', 'fyrChange', 'relinked', 'delisted', 'tickerTaker', 'regular',
];
/**
 * When a delisting falls, relative to the last trade: `onLastTrade` — the delisting date is the last
 * trading day, mid-month (CRSP's usual case: the day has a price row and a return); `afterLastTrade`
 * — trading stopped a few days before the delisting date, same month (no price row that day);
 * `nextMonth` — the last trade is a month's last session and the delisting date the next session
 * (the delisting month has no price row at all).
 */
export type DelistTiming = 'onLastTrade' | 'afterLastTrade' | 'nextMonth';
/** Delisting codes of the 'delisted' roles by slot; `null` dlret where CRSP has none. */
const DELISTINGS: Readonly<Record<number, { code: number; dlret: 'up' | 'down' | null; timing: DelistTiming }>> = {
  28: { code: 231, dlret: 'up', timing: 'onLastTrade' }, 29: { code: 241, dlret: 'up', timing: 'afterLastTrade' },
  30: { code: 500, dlret: null, timing: 'onLastTrade' }, 31: { code: 520, dlret: 'down', timing: 'nextMonth' },
  32: { code: 552, dlret: null, timing: 'afterLastTrade' }, 33: { code: 574, dlret: null, timing: 'nextMonth' },
  34: { code: 584, dlret: 'down', timing: 'onLastTrade' },
  // A cash merger CRSP has no delisting return for: a missing dlret with a non-performance code (no Shumway).
  47: { code: 233, dlret: null, timing: 'afterLastTrade' },
};

/** One row of a security's name history. */
export interface NameSpell {
  readonly start: string;
  end: string;
  readonly ticker: string;
  readonly comnam: string;
  readonly shrcd: number;
  readonly exchcd: number;
  readonly siccd: number;
  readonly naics: string;
  readonly ncusip: string;
  readonly shrcls: string | null;
}

/** A split or reverse split: `factor` new shares per old share (2 = 2-for-1, 0.1 = 1-for-10). */
export interface Split { readonly idx: number; readonly factor: number }
/** A quarterly cash dividend going ex on session `idx`; the amount follows the price (see simulate.ts). */
export interface Dividend { readonly idx: number }
/** How a permno left (CRSP legacy coding). */
export interface Delisting { readonly idx: number; readonly code: number; readonly dlret: number | null; readonly nwperm: number | null; readonly nwcomp: number | null }

/** The delisting's timing: on the last trading day (a price row), after it in the same month, or in the next month. */
export function delistTiming(sec: Security, days: readonly string[]): DelistTiming | null {
  const d = sec.delisting;
  if (d === null) return null;
  if (d.idx === sec.lastIdx) return 'onLastTrade';
  return (days[d.idx] ?? '').slice(0, 7) === (days[sec.lastIdx] ?? '').slice(0, 7) ? 'afterLastTrade' : 'nextMonth';
}

/** One permno of the sample. */
export interface Security {
  readonly index: number;
  readonly role: Role;
  readonly permno: number;
  readonly permco: number;
  readonly compno: number;
  readonly gvkey: string | null;
  readonly industry: Industry;
  /** Listed before the sample starts (names begin at `listedSince`; the first sample day has a return). */
  readonly preexisting: boolean;
  readonly listedSince: string;
  /** Indexes into the sample's sessions of the first and last trading day. */
  readonly firstIdx: number;
  readonly lastIdx: number;
  readonly names: readonly NameSpell[];
  readonly splits: readonly Split[];
  readonly dividends: readonly Dividend[];
  /**
   * A spin-off (slot 9 of each block): on session `idx` shareholders receive another company's
   * shares worth `facpr` of the post-distribution price. Prices before it are adjusted by (1+facpr)
   * in cfacpr; shares are not, so cfacshr differs from cfacpr before that day.
   */
  readonly spinoff: { readonly idx: number; readonly facpr: number } | null;
  /** Annual dividend yield the quarterly amounts are set from (0 for non-payers). */
  readonly divYield: number;
  /** The delisting, or null while still listed at the end of the sample. */
  readonly delisting: Delisting | null;
  readonly alpha: number;
  readonly beta: number;
  readonly sigma: number;
  readonly p0: number;
  readonly shrout0: number;
  readonly turnover: number;
  readonly spread: number;
  readonly pNoTrade: number;
  readonly pMissing: number;
  /** Fiscal year-end month; `fyrFrom` the fiscal year from which `fyrNew` applies (fyrChange only). */
  readonly fyr: number;
  readonly fyrNew: number | null;
  readonly fyrFromYear: number | null;
}

const EXCHANGES = [1, 1, 1, 2, 3, 3, 3];

/** Builds the master for `count` permnos over `days` (sorted NYSE sessions). */
export function buildUniverse(seed: number, count: number, days: readonly string[]): Security[] {
  const n = days.length;
  if (n < 600) throw new Error('the sample needs at least ~3 years of sessions');
  const tickers = new Set<string>();
  const issuers = new Set<string>();
  const step = Math.max(1, Math.min(17, Math.floor(80_000 / count)));
  const result: Security[] = [];
  for (let i = 0; i < count; i++) {
    const rng = Rng.from(seed, 'security', i);
    const role = CAST[i % 50] as Role;
    const blockStart = i - (i % 50);
    const permno = 10001 + i * step;
    const partnerOf = (offset: number): Security | undefined => result[blockStart + offset];
    const classA = role === 'classB' ? partnerOf(20) : undefined;
    const industry = classA?.industry ?? (role === 'fund' ? INDUSTRIES[5] : rng.pick(INDUSTRIES));
    const exchcd = role === 'fund' ? 4 : role === 'illiquid' ? rng.pick([2, 3]) : role === 'exchangeChange' ? 3 : role === 'adr' ? 1 : rng.pick(EXCHANGES);
    const shrcd = role === 'adr' ? 31 : role === 'fund' ? 73 : rng.chance(0.15) ? 10 : 11;

    let firstIdx = 0;
    let lastIdx = n - 1;
    if (role === 'ipo') firstIdx = rng.int(250, n - 250);
    if (role === 'delisted') lastIdx = placeLastTrade(days, rng.int(250, n - 60), DELISTINGS[i % 50]?.timing ?? 'afterLastTrade');
    if (role === 'tickerOld') lastIdx = rng.int(200, Math.floor(n * 0.4));
    if (role === 'tickerNew') firstIdx = rng.int(((partnerOf(35)?.lastIdx ?? 300) + 120), n - 250);
    const preexisting = firstIdx === 0 && role !== 'tickerNew';
    const first = days[firstIdx] as string;
    const last = days[lastIdx] as string;
    // An IPO's names record starts a few days before its first trade (the when-issued / registration date).
    const listedSince = preexisting ? addDays(first, -rng.int(200, 9000)) : role === 'ipo' ? addDays(first, -Rng.from(seed, 'ipo-names', i).int(3, 20)) : first;

    const issuer = classA !== undefined ? (classA.names[0]?.ncusip.slice(0, 6) ?? freshIssuer(rng, issuers)) : freshIssuer(rng, issuers);
    const ticker = role === 'tickerNew' ? (partnerOf(35)?.names.at(-1)?.ticker ?? freshTicker(rng, tickers))
      : role === 'classB' && classA !== undefined ? classBTicker(classA, tickers) : freshTicker(rng, tickers);
    const base: NameSpell = {
      start: listedSince, end: last, ticker,
      comnam: classA?.names[0]?.comnam ?? companyName(rng, industry, role === 'adr'),
      shrcd, exchcd, siccd: industry.sic, naics: industry.naics,
      ncusip: `${issuer}${role === 'classB' ? '20' : '10'}`,
      shrcls: role === 'classA' ? 'A' : role === 'classB' ? 'B' : null,
    };
    const names = [base];
    const change = (patch: Partial<NameSpell>): void => {
      const at = rng.int(Math.max(firstIdx + 60, Math.floor(n * 0.3)), Math.min(lastIdx - 60, Math.floor(n * 0.7)));
      const prev = names[names.length - 1] as NameSpell;
      prev.end = addDays(days[at] as string, -1);
      names.push({ ...prev, ...patch, start: days[at] as string, end: last });
    };
    if (role === 'tickerChange') change({ ticker: freshTicker(rng, tickers), comnam: companyName(rng, industry), ncusip: `${freshIssuer(rng, issuers)}10` });
    if (role === 'exchangeChange') change({ exchcd: 1 });
    if (role === 'shrcdChange') change({ shrcd: 12 });
    // A same-day ticker hand-over: the day the 'tickerChange' security drops its old ticker, this one takes it.
    const giver = role === 'tickerTaker' ? partnerOf(37) : undefined;
    if (giver !== undefined && giver.names.length > 1) {
      const at = giver.names[1]!.start;
      base.end = addDays(at, -1);
      names.push({ ...base, ticker: giver.names[0]!.ticker, start: at, end: last });
    }

    const p0 = role === 'illiquid' ? rng.uniform(1.2, 4) : (role === 'regular' && i % 50 === 2) ? rng.uniform(1.5, 3) : Math.exp(rng.uniform(2.3, 5.2));
    const splits = makeSplits(rng, role, i % 50, firstIdx, lastIdx, n);
    const payer = (role === 'regular' || role === 'classA' || role === 'classB' || role === 'fyrChange' || role === 'adr') && rng.chance(0.6);
    const delisting = makeDelisting(rng, role, i % 50, lastIdx, partnerOf(0));
    const fyr = role === 'fyrChange' ? 12 : rng.pick([12, 12, 12, 12, 12, 6, 9, 3]);
    result.push({
      index: i, role, permno, permco: classA?.permco ?? 50000 + i * 2, compno: classA?.compno ?? 60000 + i,
      gvkey: role === 'fund' ? null : classA?.gvkey ?? String(1004 + i * 3).padStart(6, '0'),
      industry, preexisting, listedSince, firstIdx, lastIdx, names, splits,
      dividends: payer ? makeDividends(rng, firstIdx, lastIdx) : [],
      divYield: payer ? rng.uniform(0.01, 0.04) : 0,
      spinoff: role === 'regular' && i % 50 === 9 ? { idx: Math.floor(n * 0.45), facpr: 0.25 } : null,
      delisting,
      alpha: rng.normal() * 0.0001, beta: rng.uniform(0.5, 1.6),
      sigma: role === 'illiquid' ? rng.uniform(0.035, 0.06) : rng.uniform(0.01, 0.03),
      p0, shrout0: Math.round(role === 'illiquid' ? rng.uniform(3_000, 30_000) : Math.exp(rng.uniform(9.5, 14))),
      turnover: rng.uniform(0.002, 0.012), spread: role === 'illiquid' ? rng.uniform(0.01, 0.03) : rng.uniform(0.0003, 0.002),
      pNoTrade: role === 'illiquid' ? 0.3 : 0.002, pMissing: role === 'illiquid' ? 0.01 : 0,
      fyr, fyrNew: role === 'fyrChange' ? 3 : null, fyrFromYear: role === 'fyrChange' ? Number(days[Math.floor(n / 2)]?.slice(0, 4)) : null,
    });
  }
  return result;
}

function classBTicker(classA: Security, taken: Set<string>): string {
  const ticker = `${classA.names[0]?.ticker ?? 'X'}B`.slice(0, 5);
  taken.add(ticker);
  return ticker;
}

function makeSplits(rng: Rng, role: Role, slot: number, firstIdx: number, lastIdx: number, n: number): Split[] {
  const inLife = (lo: number, hi: number): number => rng.int(Math.max(firstIdx + 5, lo), Math.min(lastIdx - 5, hi));
  if (role === 'regular' && slot === 0) return [{ idx: inLife(n - 200, n - 20), factor: 2 }];
  if (role === 'regular' && slot === 1) return [{ idx: inLife(Math.floor(n * 0.3), Math.floor(n * 0.6)), factor: 1.5 }];
  if (role === 'regular' && slot === 2) return [{ idx: inLife(Math.floor(n * 0.4), Math.floor(n * 0.7)), factor: 0.1 }];
  if ((role === 'regular' || role === 'ipo') && rng.chance(0.2)) return [{ idx: inLife(firstIdx + 100, lastIdx - 20), factor: rng.pick([2, 2, 3, 1.5]) }];
  return [];
}

function makeDividends(rng: Rng, firstIdx: number, lastIdx: number): Dividend[] {
  const result: Dividend[] = [];
  for (let idx = firstIdx + rng.int(10, 63); idx < lastIdx; idx += 63) result.push({ idx });
  return result;
}

function makeDelisting(rng: Rng, role: Role, slot: number, lastIdx: number, acquirer: Security | undefined): Delisting | null {
  if (role === 'tickerOld') return { idx: lastIdx + 1, code: 233, dlret: rng.uniform(0.05, 0.3), nwperm: null, nwcomp: null };
  if (role !== 'delisted') return null;
  const spec = DELISTINGS[slot] ?? { code: 500, dlret: null, timing: 'afterLastTrade' };
  const dlret = spec.dlret === 'up' ? rng.uniform(0.05, 0.4) : spec.dlret === 'down' ? -rng.uniform(0.1, 0.7) : null;
  const stock = spec.code === 241 && acquirer !== undefined;
  return { idx: spec.timing === 'onLastTrade' ? lastIdx : lastIdx + 1, code: spec.code, dlret, nwperm: stock ? acquirer.permno : null, nwcomp: stock ? acquirer.permco : null };
}

/**
 * Moves a drawn last-trade index so the timing holds: `nextMonth` — onto its month's last session;
 * otherwise off a month's last session, so the last trade and the delisting share a month that also
 * holds earlier price rows.
 */
function placeLastTrade(days: readonly string[], idx: number, timing: DelistTiming): number {
  const month = (i: number): string => (days[i] ?? '').slice(0, 7);
  let i = idx;
  if (timing === 'nextMonth') {
    while (month(i + 1) === month(i)) i++;
    return i;
  }
  // Mid-month: at least one session of the month before it and one after it.
  while (month(i + 1) !== month(i) || month(i - 1) !== month(i)) i--;
  return i;
}

/** The name spell in force on `date` (names are sorted and cover the listing). */
export function spellOn(sec: Security, date: string): NameSpell {
  let found = sec.names[0] as NameSpell;
  for (const spell of sec.names) if (spell.start <= date) found = spell;
  return found;
}

/** The current (last) name spell: the CRSP header. */
export function header(sec: Security): NameSpell {
  return sec.names[sec.names.length - 1] as NameSpell;
}

/** Exchange code → CIZ primary exchange letter. */
export function primaryExch(exchcd: number): string {
  return exchcd === 1 ? 'N' : exchcd === 2 ? 'A' : exchcd === 3 ? 'Q' : exchcd === 4 ? 'P' : 'X';
}
