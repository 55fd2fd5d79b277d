/**
 * WRDS Intraday Indicators for the sample's TAQ days (`taqmsec.wrds_iid_YYYY`, per date and
 * sym_root: quotedspread_percent_tw, effectivespread_percent_ave, total_vol_m, total_n_trades_m,
 * oprc, cprc), computed here in TypeScript, row by row, from the simulated symbol-day with the
 * cleaning rules' pure functions — a second implementation the sync's DuckDB SQL is checked
 * against (test/sync/taq-sync.int.test.ts).
 */
import { sessionClose } from '../../calendar/index.js';
import {
  carriesNbbo,
  completeNbbo,
  isQuoteWindow,
  isUsableNbbo,
  keepQuote,
  keepTrade,
  matchingNbbo,
  sessionWindow,
  withdrawnSidesNull,
  ROUND_LOT,
  type NbboRow,
} from '../../sync/index.js';
import type { Cell } from './copy-text.js';
import { round } from './copy-text.js';
import type { TableSpec } from './catalog.js';
import { simulateSymbolDay, type TaqSymbol } from './rows-taq.js';

const DBL = 'double precision';

/** The intraday-indicators relation of a year. */
export function iidTable(year: string): TableSpec {
  return {
    schema: 'taqmsec', name: `wrds_iid_${year}`, title: 'WRDS Intraday Indicators', form: 'modified',
    columns: [
      { name: 'date', type: 'date' }, { name: 'sym_root', type: 'varchar(6)' }, { name: 'quotedspread_percent_tw', type: DBL },
      { name: 'effectivespread_percent_ave', type: DBL }, { name: 'total_vol_m', type: DBL }, { name: 'total_n_trades_m', type: DBL },
      { name: 'oprc', type: DBL }, { name: 'cprc', type: DBL },
    ],
  };
}

/** One symbol-day's indicators, by the DATA-RULES TAQ rules. */
export function iidOf(seed: number, day: string, s: TaqSymbol): Cell[] {
  const w = sessionWindow(sessionClose(day));
  const d = simulateSymbolDay(seed, day, s);
  const source = s.exchcd === 3 ? 'N' : 'C';
  const trades = d.trades.filter((t) => keepTrade({ t: t.t, cond: t.cond, size: t.size, price: t.price, corr: t.corr }, w));
  const carrying: NbboRow[] = [];
  for (const q of d.quotes) {
    const c = withdrawnSidesNull({ t: q.t, bid: q.bid, bidsiz: q.bidsiz, ask: q.ask, asksiz: q.asksiz, cond: q.cond, cancel: q.cancel });
    if (keepQuote(c, w) && carriesNbbo(source, q.natbbo)) carrying.push({ t: q.t, seq: q.seq, bid: c.bid, bidsize: c.bidsiz, ask: c.ask, asksize: c.asksiz });
  }
  const file: NbboRow[] = d.nbbo
    .filter((n) => isQuoteWindow(n.t, w))
    .map((n) => {
      const c = withdrawnSidesNull({ t: n.t, bid: round(n.bid, 4), bidsiz: n.bidsiz * ROUND_LOT, ask: round(n.ask, 4), asksiz: n.asksiz * ROUND_LOT, cond: 'R', cancel: null });
      return { t: n.t, seq: null, bid: c.bid, bidsize: c.bidsiz, ask: c.ask, asksize: c.asksiz };
    });
  const nbbo = completeNbbo(file, carrying);
  let dur = 0;
  let weighted = 0;
  nbbo.forEach((n, i) => {
    const t0 = Math.max(n.t, w.openNs);
    const t1 = Math.min(nbbo[i + 1]?.t ?? w.closeNs, w.closeNs);
    if (t1 > t0 && isUsableNbbo(n.bid, n.ask)) {
      dur += t1 - t0;
      weighted += (t1 - t0) * ((n.ask! - n.bid!) / ((n.ask! + n.bid!) / 2));
    }
  });
  const eff: number[] = [];
  for (const t of trades) {
    const n = matchingNbbo(nbbo, t.t);
    if (n !== undefined && isUsableNbbo(n.bid, n.ask)) {
      const mid = (n.bid! + n.ask!) / 2;
      eff.push((2 * Math.abs(t.price - mid)) / mid);
    }
  }
  return [
    day, s.symRoot, dur > 0 ? weighted / dur : null, eff.length > 0 ? eff.reduce((a, b) => a + b, 0) / eff.length : null,
    trades.reduce((a, t) => a + t.size, 0), trades.length, trades[0]?.price ?? null, trades.at(-1)?.price ?? null,
  ];
}

/** wrds_iid rows of `symbols` on `day`. */
export function* iidRows(seed: number, day: string, symbols: readonly TaqSymbol[]): Generator<Cell[]> {
  for (const s of symbols) yield iidOf(seed, day, s);
}
