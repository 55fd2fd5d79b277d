/**
 * The sample's TAQ generator as benchmarks use it: the intraday U-shape, the intensity knob, and
 * the S&P 500 membership spells (every kind present).
 */
import { describe, expect, it } from 'vitest';
import { simulateSymbolDay, sp500Spells } from '../../src/dev/wrds-sample/index.js';

const sym = { symRoot: 'AAA', cusip: '000000001', exchcd: 1, open: 50, close: 51, vol: 4_000_000 };

describe('TAQ sample generator', () => {
  it('puts about 45 % of trades in the first and last half hours (U-shaped profile)', () => {
    const d = simulateSymbolDay(1, '2024-03-15', { ...sym, intensity: 20 });
    const secs = d.trades.map((t) => t.t / 1e9).filter((s) => s >= 9.5 * 3600 && s < 16 * 3600);
    const edges = secs.filter((s) => s < 10 * 3600 || s >= 15.5 * 3600).length / secs.length;
    // Uniform would give 1/6.5 ≈ 15 %; the profile gives 20 % + 25 % + 55 % × (1/6.5) ≈ 53 %.
    expect(edges).toBeGreaterThan(0.45);
    expect(edges).toBeLessThan(0.62);
  });
  it('scales trades and quotes with intensity', () => {
    const one = simulateSymbolDay(2, '2024-03-15', sym);
    const ten = simulateSymbolDay(2, '2024-03-15', { ...sym, intensity: 10 });
    expect(ten.trades.length).toBe(10 * one.trades.length);
    expect(ten.quotes.length).toBe(10 * one.quotes.length);
  });
  it('a separate quote intensity gives real TAQ mix: more quotes and NBBO changes, the same trades', () => {
    const base = simulateSymbolDay(2, '2024-03-15', { ...sym, intensity: 3 });
    const heavy = simulateSymbolDay(2, '2024-03-15', { ...sym, intensity: 3, quoteIntensity: 90 });
    expect(heavy.trades.length).toBe(base.trades.length); // the same count (drawn from a later point of the same random stream)
    expect(heavy.quotes.length).toBe(30 * base.quotes.length);
    // About four NBBO changes per trade, as in real TAQ (docs/concepts/taq.md).
    expect(heavy.nbbo.length / heavy.trades.length).toBeGreaterThan(2.5);
    expect(base.nbbo.length / base.trades.length).toBeLessThan(1);
  });
  it('S&P 500 spells: full, late entry, early exit, exit and re-entry, never', () => {
    expect([0, 1, 2, 3, 4].map((i) => sp500Spells(i, 0, 90))).toEqual([[[0, 90]], [[30, 90]], [[0, 60]], [[0, 29], [61, 90]], []]);
  });
});
