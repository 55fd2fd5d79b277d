/**
 * CRSP S&P 500 constituent history (`crsp.dsp500list`, `crsp.msp500list`: permno, start, ending),
 * so `wh taq sync --symbols sp500` resolves the members as of each day. Membership follows the
 * security's index in its block (deterministic): members throughout their listing, late entrants,
 * early leavers, members who leave and re-enter, and non-members — every kind in every sample.
 */
import type { Cell } from './copy-text.js';
import type { SampleContext } from './context.js';
import type { TableSpec } from './catalog.js';

export const sp500Tables: readonly TableSpec[] = [
  { schema: 'crsp', name: 'dsp500list', title: 'S&P 500 Constituents - Daily', form: 'updated', columns: [{ name: 'permno', type: 'integer' }, { name: 'start', type: 'date' }, { name: 'ending', type: 'date' }] },
  { schema: 'crsp', name: 'msp500list', title: 'S&P 500 Constituents - Monthly', form: 'updated', columns: [{ name: 'permno', type: 'integer' }, { name: 'start', type: 'date' }, { name: 'ending', type: 'date' }] },
];

/** Membership spells [start, ending] of one security, as session indexes. */
export function sp500Spells(index: number, firstIdx: number, lastIdx: number): [number, number][] {
  const third = Math.floor((lastIdx - firstIdx) / 3);
  switch (index % 5) {
    case 0:
      return [[firstIdx, lastIdx]];
    case 1: // enters later
      return [[firstIdx + third, lastIdx]];
    case 2: // leaves early
      return [[firstIdx, lastIdx - third]];
    case 3: // leaves, then re-enters
      return third > 1 ? [[firstIdx, firstIdx + third - 1], [lastIdx - third + 1, lastIdx]] : [[firstIdx, lastIdx]];
    default:
      return [];
  }
}

/** Rows of dsp500list / msp500list (the monthly list uses the same spells). */
export function* sp500Rows(ctx: SampleContext): Generator<Cell[]> {
  for (const sec of ctx.securities) {
    for (const [a, b] of sp500Spells(sec.index, sec.firstIdx, sec.lastIdx)) {
      if (b < a) continue;
      yield [sec.permno, ctx.days[a] as string, ctx.days[b] as string];
    }
  }
}
