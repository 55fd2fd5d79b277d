/**
 * Adjusted prices derived locally from stored closes and split/dividend events, CRSP-style back
 * adjustment: every price before an ex-date is multiplied by that event's factor, so the last bar
 * of the window keeps its stored price and earlier ones are restated in its terms.
 *
 * - Split `n:d` on ex-date E: factor d/n, applied only when the closes are as traded. Yahoo's v8
 *   closes are already split-adjusted (parse.ts): then the split factor is 1, or it would be
 *   applied twice.
 * - Cash dividend D on ex-date E: factor 1 − D / C, with C the close of the last session before E
 *   (in the window). D and C are in the same units and share basis (Yahoo's are both per share of
 *   the fetch date).
 *
 * Yahoo's own `adjclose` is the same computation anchored at the fetch date, so it also carries
 * the dividends between the window's end and the fetch: it equals the local series times one
 * constant (`yahooAnchor`). `checkAgainstYahoo` compares up to that constant.
 */
/** How stored prices relate to splits: as traded, or already split-adjusted (Yahoo's v8 chart API). */
export type PriceBasis = 'as_traded' | 'split_adjusted';

export interface AdjustableBar {
  readonly date: string;
  readonly open?: number | null;
  readonly high?: number | null;
  readonly low?: number | null;
  readonly close: number;
}

export interface AdjustEvents {
  readonly splits: readonly { readonly date: string; readonly numerator: number; readonly denominator: number }[];
  readonly dividends: readonly { readonly date: string; readonly amount: number }[];
}

/** One event's effect: `factor` multiplies every price before `date`. */
export interface AppliedFactor {
  readonly date: string;
  readonly kind: 'split' | 'dividend';
  readonly factor: number;
  /** Bars before the ex-date it multiplied (0 when the ex-date is the window's first session or earlier). */
  readonly bars: number;
  /** Why the factor is what it is. */
  readonly note: string;
}

export interface Adjustment {
  /** Cumulative factor per bar, in the bars' order (1 for the last bar). */
  readonly factors: readonly number[];
  readonly applied: readonly AppliedFactor[];
}

export interface AdjustedBar {
  readonly date: string;
  readonly factor: number;
  readonly adjOpen: number | null;
  readonly adjHigh: number | null;
  readonly adjLow: number | null;
  readonly adjClose: number;
}

/** First index whose date is on or after `date` (bars.length if none). */
function firstOnOrAfter(bars: readonly AdjustableBar[], date: string): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid]!.date < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Cumulative back-adjustment factors for `bars` (sorted by date, one per date). Pure.
 * A dividend of at least the previous close (a data error) gets factor 1 and says so in `note`.
 */
export function adjustmentFactors(bars: readonly AdjustableBar[], events: AdjustEvents, basis: PriceBasis): Adjustment {
  const n = bars.length;
  // cut[k]: product of the factors of events whose first affected-free bar is k (bars < k are affected).
  const cut = new Array<number>(n + 1).fill(1);
  const applied: AppliedFactor[] = [];
  for (const s of events.splits) {
    const k = firstOnOrAfter(bars, s.date);
    const factor = basis === 'as_traded' ? s.denominator / s.numerator : 1;
    const note = basis === 'as_traded' ? `split ${s.numerator}:${s.denominator}` : `split ${s.numerator}:${s.denominator} already in the split-adjusted closes`;
    cut[k]! *= factor;
    applied.push({ date: s.date, kind: 'split', factor, bars: k, note });
  }
  for (const d of events.dividends) {
    const k = firstOnOrAfter(bars, d.date);
    if (k === 0) {
      applied.push({ date: d.date, kind: 'dividend', factor: 1, bars: 0, note: `dividend ${d.amount}: no session before it in the window` });
      continue;
    }
    const prev = bars[k - 1]!.close;
    const f = 1 - d.amount / prev;
    if (!(f > 0) || d.amount < 0) {
      applied.push({ date: d.date, kind: 'dividend', factor: 1, bars: k, note: `dividend ${d.amount} against previous close ${prev} ignored (not a plausible cash dividend)` });
      continue;
    }
    cut[k]! *= f;
    applied.push({ date: d.date, kind: 'dividend', factor: f, bars: k, note: `dividend ${d.amount} / previous close ${prev}` });
  }
  const factors = new Array<number>(n);
  let running = 1;
  for (let i = n - 1; i >= 0; i--) {
    running *= cut[i + 1]!;
    factors[i] = running;
  }
  applied.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { factors, applied };
}

const times = (v: number | null | undefined, f: number): number | null => (v === null || v === undefined ? null : v * f);

/**
 * Adjusted open, high, low and close for every bar.
 * @example
 * ```ts
 * const adjusted = adjustBars(parsed.bars, parsed, parsed.priceBasis);
 * ```
 */
export function adjustBars(bars: readonly AdjustableBar[], events: AdjustEvents, basis: PriceBasis): AdjustedBar[] {
  const { factors } = adjustmentFactors(bars, events, basis);
  return bars.map((b, i) => {
    const f = factors[i]!;
    return { date: b.date, factor: f, adjOpen: times(b.open, f), adjHigh: times(b.high, f), adjLow: times(b.low, f), adjClose: b.close * f };
  });
}

export interface YahooCheck {
  /** Yahoo's factor for events after the window: adjclose / close on the last bar. */
  readonly yahooAnchor: number;
  /** Largest |local × anchor / adjclose − 1| over the bars. */
  readonly maxRelError: number;
  readonly worstDate: string | null;
  readonly compared: number;
}

/**
 * Compare the local adjustment with Yahoo's `adjclose`, up to Yahoo's anchor constant. Returns
 * null when no bar has an adjclose.
 */
export function checkAgainstYahoo(
  bars: readonly (AdjustableBar & { readonly adjclose: number | null })[],
  adjustment: Pick<Adjustment, 'factors'>,
): YahooCheck | null {
  let last = -1;
  for (let i = bars.length - 1; i >= 0; i--) {
    if (bars[i]!.adjclose !== null && bars[i]!.close > 0) {
      last = i;
      break;
    }
  }
  if (last < 0) return null;
  const anchor = bars[last]!.adjclose! / (bars[last]!.close * adjustment.factors[last]!);
  let maxRelError = 0;
  let worstDate: string | null = null;
  let compared = 0;
  bars.forEach((b, i) => {
    if (b.adjclose === null || b.adjclose === 0) return;
    const rel = Math.abs((b.close * adjustment.factors[i]! * anchor) / b.adjclose - 1);
    compared += 1;
    if (worstDate === null || rel > maxRelError) {
      maxRelError = rel;
      worstDate = b.date;
    }
  });
  return { yahooAnchor: anchor, maxRelError, worstDate, compared };
}
