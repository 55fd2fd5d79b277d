/**
 * Parsing the recorded v8 payloads into exchange-local daily bars and events, and deriving the
 * adjusted prices locally: Yahoo's adjclose is reproduced within float32 rounding for every bar of
 * both recordings (up to Yahoo's anchor constant, which carries the dividends after the window).
 */
import { describe, expect, it } from 'vitest';
import { adjustBars, adjustmentFactors, checkAgainstYahoo } from '../../src/pricing/adjust.js';
import { chartResultSchema, type ChartResult } from '../../src/sync/yahoo/client.js';
import { detectPriceBasis, localDate, parseChart, type ParsedChart } from '../../src/sync/yahoo/parse.js';
import { recording, rangeOf } from '../sync/yahoo-replay.js';

/** Float32 values (Yahoo's arrays) and their products: well under 1e-6 relative. */
const ROUNDING = 1e-6;

const resultOf = (symbol: string): ChartResult => chartResultSchema.parse(recording(symbol).bodyJson.chart.result[0]);
const parsed = (symbol: string): ParsedChart => parseChart(resultOf(symbol), { symbol, ...toWindow(symbol) });
const toWindow = (symbol: string) => {
  const r = rangeOf(recording(symbol));
  return { from: r.start, to: r.end };
};

describe('exchange-local dates', () => {
  it('AAPL: 49 bars from the split day 2020-08-31 to 2020-11-06, each on its New York date', () => {
    const p = parsed('AAPL');
    expect(p.bars).toHaveLength(49);
    expect(p.bars[0]!.date).toBe('2020-08-31');
    expect(p.bars.at(-1)!.date).toBe('2020-11-06');
    expect(p.splits).toEqual([{ date: '2020-08-31', epochS: 1598880600, numerator: 4, denominator: 1 }]);
    expect(p.dividends).toEqual([{ date: '2020-11-06', epochS: 1604673000, amount: 0.205 }]);
    expect(p.exchangeTimezone).toBe('America/New_York');
    // No weekend dates, no duplicates, ascending.
    for (const [i, b] of p.bars.entries()) {
      expect([0, 6]).not.toContain(new Date(`${b.date}T12:00:00Z`).getUTCDay());
      if (i > 0) expect(b.date > p.bars[i - 1]!.date).toBe(true);
    }
    // Labor Day 2020-09-07 is not a session.
    expect(p.bars.map((b) => b.date)).not.toContain('2020-09-07');
  });

  it('NVDA: 252 sessions, the split on 2021-07-20 local', () => {
    const p = parsed('NVDA');
    expect(p.bars).toHaveLength(252);
    expect(p.bars[0]!.date).toBe('2021-02-01');
    expect(p.bars.at(-1)!.date).toBe('2022-01-28');
    expect(p.splits.map((s) => s.date)).toEqual(['2021-07-20']);
    expect(p.dividends).toEqual([]);
  });

  it('never the UTC date: late-evening and early-morning instants land on the local day', () => {
    // 2020-09-01 01:30 UTC is 2020-08-31 21:30 in New York.
    expect(localDate(Date.parse('2020-09-01T01:30:00Z') / 1000, 'America/New_York', -18000)).toBe('2020-08-31');
    // Sydney's 10:00 open on 2021-01-04 (AEDT, UTC+11) is 2021-01-03 23:00 UTC.
    expect(localDate(Date.parse('2021-01-03T23:00:00Z') / 1000, 'Australia/Sydney', 36000)).toBe('2021-01-04');
    // Tokyo's 09:00 open is 00:00 UTC the same day.
    expect(localDate(Date.parse('2021-01-04T00:00:00Z') / 1000, 'Asia/Tokyo', 32400)).toBe('2021-01-04');
    // An unknown zone falls back to the payload's fixed offset.
    expect(localDate(Date.parse('2021-01-03T23:00:00Z') / 1000, 'Nowhere/Atlantis', 36000)).toBe('2021-01-04');
  });

  it('bars are keyed by local date in a synthetic Sydney payload', () => {
    const r = resultOf('AAPL');
    const ts = [Date.parse('2021-01-03T23:00:00Z') / 1000, Date.parse('2021-01-04T23:00:00Z') / 1000];
    const synthetic: ChartResult = {
      ...r,
      meta: { ...r.meta, symbol: 'CBA.AX', currency: 'AUD', exchangeTimezoneName: 'Australia/Sydney', gmtoffset: 39600 },
      timestamp: ts,
      events: {},
      indicators: { quote: [{ open: [1, 2], high: [1, 2], low: [1, 2], close: [1, 2], volume: [10, 20] }] },
    };
    expect(parseChart(synthetic, { symbol: 'CBA.AX' }).bars.map((b) => b.date)).toEqual(['2021-01-04', '2021-01-05']);
  });
});

describe('what "raw" means in the v8 payloads', () => {
  it('NVDA closes are split-adjusted (no drop across the 4:1 split; ~1/40 of the traded prices)', () => {
    const p = parsed('NVDA');
    const i = p.bars.findIndex((b) => b.date === '2021-07-20');
    const jump = p.bars[i]!.close / p.bars[i - 1]!.close;
    expect(jump).toBeGreaterThan(0.9);
    expect(jump).toBeLessThan(1.1);
    expect(p.priceBasis).toBe('split_adjusted');
    expect(p.basisEvidence).toMatch(/4:1 on 2021-07-20.*no drop/);
    // NVDA closed near $530 on 2021-02-01; the payload says 13.24: both the 2021 4:1 and the 2024 10:1 splits are applied.
    expect(p.bars[0]!.close).toBeCloseTo(13.237, 3);
  });

  it('AAPL: the split on the first bar is checked against chartPreviousClose (124.81 = 499.23 / 4)', () => {
    const p = parsed('AAPL');
    expect(p.previousClose).toBeCloseTo(124.808, 3);
    expect(p.priceBasis).toBe('split_adjusted');
    expect(p.basisEvidence).toMatch(/2020-08-31.*no drop/);
  });

  it('an as-traded series (closes dropping by the ratio) is recognized as such', () => {
    const bars = [
      { date: '2021-07-19', close: 751.2 },
      { date: '2021-07-20', close: 186.1 },
    ];
    expect(detectPriceBasis(bars, [{ date: '2021-07-20', numerator: 4, denominator: 1 }], null).basis).toBe('as_traded');
    expect(detectPriceBasis(bars, [], null).basis).toBe('split_adjusted');
  });

  it('GBp is noted and converted only when asked', () => {
    const r = resultOf('AAPL');
    const pence: ChartResult = { ...r, meta: { ...r.meta, currency: 'GBp' } };
    const kept = parseChart(pence, { symbol: 'AAPL' });
    expect(kept.currency).toBe('GBp');
    expect(kept.bars[0]!.close).toBe(r.indicators.quote[0]!.close![0]);
    expect(kept.notes.join(' ')).toMatch(/GBp/);
    const pounds = parseChart(pence, { symbol: 'AAPL', minorToMajor: true });
    expect(pounds.currency).toBe('GBP');
    expect(pounds.sourceCurrency).toBe('GBp');
    expect(pounds.bars[0]!.close).toBeCloseTo(r.indicators.quote[0]!.close![0]! / 100, 12);
    expect(pounds.dividends[0]!.amount).toBeCloseTo(0.00205, 12);
    // USD is never scaled, flag or not.
    expect(parseChart(r, { symbol: 'AAPL', minorToMajor: true }).scale).toBe(1);
  });
});

describe('local adjustment reproduces Yahoo adjclose', () => {
  it('AAPL (4:1 split 2020-08-31, $0.205 dividend 2020-11-06): every bar within rounding', () => {
    const p = parsed('AAPL');
    const adj = adjustmentFactors(p.bars, p, p.priceBasis);
    const check = checkAgainstYahoo(p.bars, adj)!;
    expect(check.compared).toBe(49);
    expect(check.maxRelError).toBeLessThan(ROUNDING);
    // The dividend factor uses the close before the ex-date: 1 - 0.205 / 119.03.
    const div = adj.applied.find((a) => a.kind === 'dividend')!;
    expect(div.factor).toBeCloseTo(1 - 0.205 / 119.02999877929688, 12);
    expect(div.bars).toBe(48);
    // The split is already in the closes: factor 1.
    expect(adj.applied.find((a) => a.kind === 'split')!.factor).toBe(1);
    expect(adj.factors.at(-1)).toBe(1);
    for (const [i, b] of p.bars.entries()) {
      expect(Math.abs((b.close * adj.factors[i]! * check.yahooAnchor) / b.adjclose! - 1)).toBeLessThan(ROUNDING);
    }
  });

  it('NVDA (4:1 split 2021-07-20): splits alone match up to the 4 dividends the recording left out', () => {
    const p = parsed('NVDA');
    const check = checkAgainstYahoo(p.bars, adjustmentFactors(p.bars, p, p.priceBasis))!;
    // The recording asked for events=split only; Yahoo's adjclose still carries NVDA's quarterly
    // dividends (4 × $0.004 per share of 2025), so without them the series differ by < 0.1 %.
    expect(check.maxRelError).toBeGreaterThan(1e-4);
    expect(check.maxRelError).toBeLessThan(1e-3);
  });

  it('NVDA with its four 2021 dividends ($0.16 pre-split = $0.004 per share of 2025): every bar within rounding', () => {
    const p = parsed('NVDA');
    const dividends = ['2021-03-09', '2021-06-09', '2021-08-31', '2021-12-01'].map((date) => ({ date, amount: 0.004 }));
    const check = checkAgainstYahoo(p.bars, adjustmentFactors(p.bars, { splits: p.splits, dividends }, p.priceBasis))!;
    expect(check.compared).toBe(252);
    expect(check.maxRelError).toBeLessThan(ROUNDING);
  });

  it('applying the split factor to these closes would be wrong by the split ratio', () => {
    const p = parsed('NVDA');
    const check = checkAgainstYahoo(p.bars, adjustmentFactors(p.bars, p, 'as_traded'))!;
    expect(check.maxRelError).toBeGreaterThan(0.7); // 1 - 1/4
  });

  it('adjustBars scales open, high, low and close by the same factor; the last bar is unchanged', () => {
    const p = parsed('AAPL');
    const out = adjustBars(p.bars, p, p.priceBasis);
    const first = out[0]!;
    expect(first.adjOpen! / p.bars[0]!.open!).toBeCloseTo(first.factor, 12);
    expect(first.adjHigh! / p.bars[0]!.high!).toBeCloseTo(first.factor, 12);
    expect(first.adjClose / p.bars[0]!.close).toBeCloseTo(first.factor, 12);
    expect(out.at(-1)!.adjClose).toBe(p.bars.at(-1)!.close);
  });

  it('as-traded closes: splits divide earlier prices by the ratio; an implausible dividend is ignored and said so', () => {
    const bars = [
      { date: '2021-07-19', close: 800 },
      { date: '2021-07-20', close: 200 },
      { date: '2021-07-21', close: 202 },
    ];
    const adj = adjustmentFactors(bars, { splits: [{ date: '2021-07-20', numerator: 4, denominator: 1 }], dividends: [{ date: '2021-07-21', amount: 500 }] }, 'as_traded');
    expect(adj.factors).toEqual([0.25, 1, 1]);
    expect(adj.applied.find((a) => a.kind === 'dividend')!.note).toMatch(/ignored/);
  });
});
