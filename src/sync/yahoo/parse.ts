/**
 * A checked v8 chart payload → daily bars and split/dividend events, each keyed by the EXCHANGE'S
 * LOCAL DATE (never the UTC date of Yahoo's epoch-second timestamp). Prices are kept as Yahoo's
 * `indicators.quote` arrays give them; Yahoo's `adjclose` is kept only to check the local
 * adjustment (adjust.ts).
 *
 * What "raw" means here: in the v8 chart API the quote arrays (open, high, low, close, volume) are
 * adjusted for every split up to the day of the request, not for dividends; dividend amounts are
 * per share of that same day. The recorded NVDA payload shows it: its 2021 closes are ~1/40 of
 * the prices that traded (4:1 in 2021 and 10:1 in 2024, a split the payload's own events do not
 * even list), and they run on without a jump across the 2021-07-20 split. So a stored bar is
 * "split-adjusted as of the fetch date, dividend-unadjusted" (`priceBasis` 'split_adjusted').
 * `detectPriceBasis` checks each split inside the window against the closes around it, and would
 * report 'as_traded' for a payload whose closes do drop by the split ratio.
 */
import type { ChartResult } from './chart-schema.js';

/** How the stored prices relate to what traded. */
import type { PriceBasis } from '../../pricing/index.js';
export type { PriceBasis };

export interface YahooBar {
  /** Exchange-local trading date, YYYY-MM-DD. */
  readonly date: string;
  /** Yahoo's timestamp (epoch seconds; the session open). */
  readonly epochS: number;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly close: number;
  readonly volume: number | null;
  /** Yahoo's adjusted close: for checking the local adjustment only. */
  readonly adjclose: number | null;
}

export interface YahooSplit {
  /** Exchange-local ex-date. */
  readonly date: string;
  readonly epochS: number;
  /** "4:1" is numerator 4, denominator 1: each share became 4. */
  readonly numerator: number;
  readonly denominator: number;
}

export interface YahooDividend {
  /** Exchange-local ex-date. */
  readonly date: string;
  readonly epochS: number;
  /** Per share, in `currency` units. */
  readonly amount: number;
}

export interface ParsedChart {
  readonly symbol: string;
  /** Currency of the stored prices and amounts (after any minor-unit conversion). */
  readonly currency: string | null;
  /** `meta.currency` as Yahoo gave it (e.g. GBp = pence). */
  readonly sourceCurrency: string | null;
  /** Factor applied to prices and amounts: 1, or 0.01 when minor units were converted. */
  readonly scale: number;
  readonly exchangeTimezone: string;
  readonly priceBasis: PriceBasis;
  /** Why that basis (the evidence, or that there was none in the window). */
  readonly basisEvidence: string;
  /** Yahoo's `chartPreviousClose`: the close of the session before the window. */
  readonly previousClose: number | null;
  readonly bars: readonly YahooBar[];
  readonly splits: readonly YahooSplit[];
  readonly dividends: readonly YahooDividend[];
  /** Things a user should know (pence, dropped empty bars, a renamed symbol...). */
  readonly notes: readonly string[];
}

export interface ParseOptions {
  /** Requested symbol (a differing `meta.symbol` is noted). */
  readonly symbol: string;
  /** Keep only bars and events whose local date is within [from, to] (YYYY-MM-DD). */
  readonly from?: string;
  readonly to?: string;
  /** Convert minor currency units (GBp, ZAc, ILA) to major ones: prices and amounts ÷ 100. */
  readonly minorToMajor?: boolean;
}

/** Currencies Yahoo quotes in minor units, and their major unit. */
export const minorUnits: Readonly<Record<string, string>> = { GBp: 'GBP', GBX: 'GBP', ZAc: 'ZAR', ILA: 'ILS' };

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar date, in `timeZone` (an IANA name), of an epoch-second instant. When the zone is
 * unknown to this runtime the fixed `gmtoffsetS` is used instead (no daylight saving, so only safe
 * for instants well inside the local day, as session opens are).
 */
export function localDate(epochS: number, timeZone: string | undefined, gmtoffsetS: number): string {
  if (timeZone !== undefined && timeZone !== '') {
    let f = formatters.get(timeZone);
    if (f === undefined) {
      try {
        f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
        formatters.set(timeZone, f);
      } catch {
        f = undefined;
      }
    }
    if (f !== undefined) {
      const parts = Object.fromEntries(f.formatToParts(new Date(epochS * 1000)).map((p) => [p.type, p.value]));
      return `${parts['year']}-${parts['month']}-${parts['day']}`;
    }
  }
  return new Date((epochS + gmtoffsetS) * 1000).toISOString().slice(0, 10);
}

const inWindow = (date: string, o: ParseOptions): boolean => (o.from === undefined || date >= o.from) && (o.to === undefined || date <= o.to);
const scaled = (v: number | null | undefined, k: number): number | null => (v === null || v === undefined ? null : k === 1 ? v : v * k);

/**
 * Convert a chart result (already checked by the client, `chartProblems` included). Pure: no I/O,
 * no clock; never throws. Bars without a close are dropped, two bars on one local date keep the
 * later, and both are noted.
 */
export function parseChart(r: ChartResult, o: ParseOptions): ParsedChart {
  const meta = r.meta;
  const tz = meta.exchangeTimezoneName ?? '';
  const notes: string[] = [];
  const sourceCurrency = meta.currency ?? null;
  const major = sourceCurrency === null ? undefined : minorUnits[sourceCurrency];
  const scale = major !== undefined && o.minorToMajor === true ? 0.01 : 1;
  if (major !== undefined) {
    notes.push(scale === 1 ? `prices are in ${sourceCurrency} (1/100 ${major}); stored as given` : `prices were in ${sourceCurrency}; stored in ${major} (÷ 100)`);
  }
  if (meta.symbol.toUpperCase() !== o.symbol.toUpperCase()) notes.push(`Yahoo answered for symbol ${meta.symbol}, not ${o.symbol}`);
  if (tz === '') notes.push(`no exchange time zone in the payload: dates use the fixed offset ${meta.gmtoffset} s`);
  const date = (s: number): string => localDate(s, tz, meta.gmtoffset);

  const q = r.indicators.quote[0] ?? {};
  const adj = r.indicators.adjclose?.[0]?.adjclose;
  const byDate = new Map<string, YahooBar>();
  let empty = 0;
  (r.timestamp ?? []).forEach((epochS, i) => {
    const close = q.close?.[i];
    if (close === null || close === undefined) {
      empty += 1;
      return;
    }
    const d = date(epochS);
    if (!inWindow(d, o)) return;
    if (byDate.has(d)) notes.push(`two bars on ${d}; kept the later one`);
    byDate.set(d, {
      date: d,
      epochS,
      open: scaled(q.open?.[i], scale),
      high: scaled(q.high?.[i], scale),
      low: scaled(q.low?.[i], scale),
      close: scaled(close, scale)!,
      volume: q.volume?.[i] ?? null,
      adjclose: scaled(adj?.[i], scale),
    });
  });
  if (empty > 0) notes.push(`${empty} bar(s) without a close (no trading) dropped`);
  const bars = [...byDate.values()].sort((a, b) => a.epochS - b.epochS);

  const splits = Object.values(r.events?.splits ?? {})
    .map((s) => ({ date: date(s.date), epochS: s.date, numerator: s.numerator, denominator: s.denominator }))
    .filter((s) => inWindow(s.date, o))
    .sort((a, b) => a.epochS - b.epochS);
  const dividends = Object.values(r.events?.dividends ?? {})
    .map((d) => ({ date: date(d.date), epochS: d.date, amount: d.amount * scale }))
    .filter((d) => inWindow(d.date, o))
    .sort((a, b) => a.epochS - b.epochS);
  const previousClose = scaled(meta.chartPreviousClose, scale);
  const basis = detectPriceBasis(bars, splits, previousClose);
  return {
    symbol: o.symbol,
    currency: major !== undefined && scale !== 1 ? major : sourceCurrency,
    sourceCurrency,
    scale,
    exchangeTimezone: tz,
    priceBasis: basis.basis,
    basisEvidence: basis.evidence,
    previousClose,
    bars,
    splits,
    dividends,
    notes,
  };
}

/**
 * Problems with the arrays of a chart result that zod cannot see: quote or adjclose arrays of a
 * different length than `timestamp`, a missing close array, timestamps out of order. Empty when fine.
 */
export function chartProblems(r: ChartResult): string[] {
  const n = r.timestamp?.length ?? 0;
  const out: string[] = [];
  const q = r.indicators.quote[0] ?? {};
  if (n > 0 && q.close === undefined) out.push('indicators.quote[0].close is missing');
  for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) {
    const a = q[k];
    if (a !== undefined && a.length !== n) out.push(`indicators.quote[0].${k} has ${a.length} values for ${n} timestamps`);
  }
  const adj = r.indicators.adjclose?.[0]?.adjclose;
  if (adj !== undefined && adj.length !== n) out.push(`indicators.adjclose[0].adjclose has ${adj.length} values for ${n} timestamps`);
  const ts = r.timestamp ?? [];
  for (let i = 1; i < ts.length; i++) {
    if (ts[i]! <= ts[i - 1]!) {
      out.push(`timestamps out of order at index ${i}`);
      break;
    }
  }
  return out;
}

/**
 * Are the closes split-adjusted or as traded? For each split in the window, the close on its
 * ex-date is compared with the close of the session before it (`previousClose` when the split is
 * on the first bar): an as-traded series drops by the split ratio there, a split-adjusted one does
 * not. With no split to look at, Yahoo's documented v8 behaviour (split-adjusted) is assumed.
 */
export function detectPriceBasis(
  bars: readonly Pick<YahooBar, 'date' | 'close'>[],
  splits: readonly Pick<YahooSplit, 'date' | 'numerator' | 'denominator'>[],
  previousClose: number | null,
): { basis: PriceBasis; evidence: string } {
  const votes: string[] = [];
  let asTraded = 0;
  let adjusted = 0;
  for (const s of splits) {
    const ratio = s.numerator / s.denominator;
    if (ratio === 1) continue;
    const i = bars.findIndex((b) => b.date >= s.date);
    if (i < 0 || bars[i]!.date !== s.date) continue;
    const before = i > 0 ? bars[i - 1]!.close : previousClose;
    if (before === null || before <= 0 || bars[i]!.close <= 0) continue;
    const jump = Math.log(bars[i]!.close / before);
    const traded = Math.abs(jump + Math.log(ratio)) < Math.abs(jump);
    if (traded) asTraded += 1;
    else adjusted += 1;
    votes.push(`${s.numerator}:${s.denominator} on ${s.date}: close ${before} → ${bars[i]!.close} (${traded ? 'drops by the ratio' : 'no drop'})`);
  }
  if (asTraded === 0 && adjusted === 0) return { basis: 'split_adjusted', evidence: 'no split inside the window; Yahoo v8 closes are split-adjusted as of the fetch' };
  return { basis: asTraded > adjusted ? 'as_traded' : 'split_adjusted', evidence: votes.join('; ') };
}
