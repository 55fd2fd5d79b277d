/**
 * The common factors every security loads on, one draw per session. Stateless per date (a
 * function of seed and date only), so appending new sessions later continues the same world.
 * Volatility comes in monthly regimes, with a crash-and-rebound in early 2020.
 */
import { Rng } from './prng.js';

/** One session's factor returns, as decimals. */
export interface MarketDay {
  /** Total market return (what vwretd tracks). */
  readonly mkt: number;
  /** Daily risk-free rate. */
  readonly rf: number;
  readonly smb: number;
  readonly hml: number;
  readonly umd: number;
  readonly rmw: number;
  readonly cma: number;
}

const RF_BY_YEAR: Readonly<Record<number, number>> = {
  2015: 0.0005, 2016: 0.003, 2017: 0.009, 2018: 0.019, 2019: 0.021, 2020: 0.004, 2021: 0.0005, 2022: 0.019, 2023: 0.05, 2024: 0.052,
};

/** Annualised T-bill rate assumed for `date`'s year. */
export function annualRiskFree(date: string): number {
  return RF_BY_YEAR[Number(date.slice(0, 4))] ?? 0.03;
}

function regime(seed: number, month: string): number {
  const base = Math.exp(0.3 * Rng.from(seed, 'vol', month).normal());
  if (month >= '2020-02' && month <= '2020-04') return base * 3.2;
  if (month >= '2020-05' && month <= '2020-12') return base * 1.6;
  if (month.startsWith('2022')) return base * 1.4;
  return base;
}

/** The factor returns of session `date`. */
export function marketDay(seed: number, date: string): MarketDay {
  const rng = Rng.from(seed, 'market', date);
  const vol = 0.0085 * regime(seed, date.slice(0, 7));
  const rf = Math.round((annualRiskFree(date) / 252) * 1e5) / 1e5;
  const crash = date >= '2020-02-24' && date <= '2020-03-23' ? -0.006 : date >= '2020-03-24' && date <= '2020-05-29' ? 0.004 : 0;
  return {
    mkt: rf + 0.00035 + crash + vol * rng.studentT(4),
    rf,
    smb: 0.0045 * rng.studentT(5) - 0.00005,
    hml: 0.0055 * rng.studentT(5) - 0.0001,
    umd: 0.007 * rng.studentT(4) + 0.0001,
    rmw: 0.003 * rng.normal() + 0.00008,
    cma: 0.0028 * rng.normal() + 0.00004,
  };
}
