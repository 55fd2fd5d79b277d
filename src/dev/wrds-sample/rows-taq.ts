/**
 * Rows of one TAQ day (taqm_YYYY.ctm_/cqm_/complete_nbbo_/mastm_YYYYMMDD) for a few symbols. The
 * intraday mid follows a Brownian bridge from the day's open to CRSP's close; venues quote
 * around it, the NBBO is computed from the venues' standing quotes, and trades print near the
 * NBBO. Included traps: out-of-hours trades ('T'), corrected/cancelled trades (tr_corr != '00'),
 * cancelled quotes (qu_cancel = 'B'), crossed single-venue quotes, withdrawn sides (size 0),
 * early closes (13:00) and quote-carried NBBOs (natbbo_ind '1'/'4').
 */
import { round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { sessionClose } from '../../calendar/index.js';
import { Rng } from './prng.js';

/** One symbol on one day, taken from the loaded CRSP daily file. */
export interface TaqSymbol {
  readonly symRoot: string;
  readonly cusip: string;
  readonly exchcd: number;
  readonly open: number;
  readonly close: number;
  readonly vol: number;
  /** Multiplies the day's quote and trade counts and lifts their caps (default 1; benchmarks scale it). */
  readonly intensity?: number;
  /** Multiplies the quote count instead of `intensity` (benchmarks raise it for real TAQ's quote-to-trade mix). */
  readonly quoteIntensity?: number;
}

interface Quote { t: number; ex: string; bid: number; bidsiz: number; ask: number; asksiz: number; cond: string; cancel: string | null; natbbo: string; seq: number }
interface Nbbo { t: number; bid: number; bidsiz: number; ask: number; asksiz: number }
interface Trade { t: number; ex: string; cond: string; size: number; price: number; corr: string; seq: number }

/** Trades, quotes and NBBO changes of one symbol-day, each sorted by time (`t`: nanoseconds after midnight). */
export interface SymbolDay { readonly trades: Trade[]; readonly quotes: Quote[]; readonly nbbo: Nbbo[] }

const VENUES_NYSE = ['N', 'P', 'Z', 'K', 'B', 'Y', 'J', 'X'];
const VENUES_NASDAQ = ['Q', 'P', 'Z', 'K', 'B', 'Y', 'J', 'X'];

/** The `time_m` text (HH:MM:SS.ffffff) of `ns` nanoseconds after midnight (the rest is `time_m_nano`). */
export function hms(ns: number): string {
  const micros = Math.floor(ns / 1000);
  const s = Math.floor(micros / 1e6);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(micros % 1e6, 6)}`;
}

function nanos(seconds: number): number {
  return Math.round(seconds * 1e9);
}

function tick(x: number): number {
  return x >= 1 ? Math.round(x * 100) / 100 : Math.round(x * 10_000) / 10_000;
}

/** The last few symbol-days, so the ctm_, cqm_ and complete_nbbo_ passes over one day simulate it once. */
const recent = new Map<string, SymbolDay>();

/**
 * A time in [from, to) drawn from the U-shaped intraday profile of US equities (heavy first and
 * last half hours: about 20 % and 25 % of the day's activity, the rest spread evenly; cf. Jain &
 * Joh 1988, Admati & Pfleiderer 1988).
 */
export function uShapedTime(rng: Rng, from: number, to: number): number {
  const u = rng.uniform(0, 1);
  const edge = Math.min(1800, (to - from) / 4);
  if (u < 0.2) return rng.uniform(from, from + edge);
  if (u < 0.45) return rng.uniform(to - edge, to);
  return rng.uniform(from, to);
}
/**
 * The cache holds at most this many rows (trades, quotes and NBBO rows together; about 150 bytes
 * each): 200 busy symbol-days of a benchmark at real volumes would otherwise hold several GB.
 */
const RECENT_ROWS = 2_000_000;
let recentRows = 0;
const rowsOf = (d: SymbolDay): number => d.trades.length + d.quotes.length + d.nbbo.length;

/** Generates one symbol-day (deterministic in seed, day and symbol). */
export function simulateSymbolDay(seed: number, day: string, s: TaqSymbol): SymbolDay {
  const key = `${seed}|${day}|${s.symRoot}|${s.open}|${s.close}|${s.vol}|${s.exchcd}|${s.intensity ?? 1}|${s.quoteIntensity ?? ''}`;
  const hit = recent.get(key);
  if (hit !== undefined) return hit;
  const result = simulateSymbolDayUncached(seed, day, s);
  recent.set(key, result);
  recentRows += rowsOf(result);
  // Oldest first, keeping the newest even when it alone is larger.
  for (const [k, d] of recent) {
    if (recentRows <= RECENT_ROWS || k === key) break;
    recent.delete(k);
    recentRows -= rowsOf(d);
  }
  return result;
}

function simulateSymbolDayUncached(seed: number, day: string, s: TaqSymbol): SymbolDay {
  const rng = Rng.from(seed, 'taq', day, s.symRoot);
  const [ch, cm] = sessionClose(day).split(':').map(Number) as [number, number];
  const open = 9.5 * 3600;
  const close = ch * 3600 + cm * 60;
  const start = 8 * 3600;
  const knots = 240;
  const mids: number[] = [];
  let w = 0;
  for (let k = 0; k <= knots; k++) {
    mids.push(w);
    w += rng.normal();
  }
  const span = close - start;
  const midAt = (t: number): number => {
    const x = Math.min(1, Math.max(0, (t - start) / span)) * knots;
    const k = Math.min(knots - 1, Math.floor(x));
    const bridge = (mids[k] ?? 0) + ((mids[k + 1] ?? 0) - (mids[k] ?? 0)) * (x - k) - (x / knots) * w;
    return Math.max(0.01, s.open + (s.close - s.open) * (x / knots) + bridge * s.close * 0.0008);
  };
  const venues = s.exchcd === 3 ? VENUES_NASDAQ : VENUES_NYSE;
  const k = s.intensity ?? 1;
  const nQuotes = Math.round((s.quoteIntensity ?? k) * Math.min(600, Math.max(60, Math.round(s.vol / 20_000))));
  const quotes: Quote[] = [];
  const nbbo: Nbbo[] = [];
  const book = new Map<string, Quote>();
  // Pre-open quotes seed the NBBO; in the session quotes follow the intraday profile.
  const times = Array.from({ length: nQuotes }, () => (rng.chance(0.1) ? rng.uniform(start, open) : uShapedTime(rng, open, close + 300))).sort((a, b) => a - b);
  let qseq = 1000;
  for (const t of times) {
    const mid = midAt(t);
    const half = Math.max(0.005, mid * rng.uniform(0.0002, 0.002));
    const q: Quote = {
      t: nanos(t), ex: rng.pick(venues), bid: tick(mid - half - 0.01 * rng.int(0, 2)), bidsiz: rng.int(1, 20),
      ask: tick(mid + half + 0.01 * rng.int(0, 2)), asksiz: rng.int(1, 20), cond: t < open ? 'O' : 'R', cancel: null, natbbo: '0', seq: qseq++,
    };
    if (rng.chance(0.01)) q.cancel = 'B';
    else if (rng.chance(0.005)) [q.bid, q.ask] = [q.ask + 0.02, q.bid];
    else if (rng.chance(0.01)) {
      q.bid = 0;
      q.bidsiz = 0;
    } else if (rng.chance(0.01)) q.cond = 'Y';
    quotes.push(q);
    if (q.cancel !== null || q.bid > q.ask) continue;
    book.set(q.ex, q);
    // Venues whose standing quote the new one locks or crosses pull it (stale quotes do not linger).
    for (const [ex, other] of book) {
      if (ex !== q.ex && ((q.bidsiz > 0 && other.ask <= q.bid) || (other.bidsiz > 0 && other.bid >= q.ask))) book.delete(ex);
    }
    const best = bestOf(book);
    const prev = nbbo[nbbo.length - 1];
    if (best === null || (prev !== undefined && prev.bid === best.bid && prev.ask === best.ask && prev.bidsiz === best.bidsiz && prev.asksiz === best.asksiz)) continue;
    nbbo.push({ t: q.t, ...best });
    const selfCarried = q.bid === best.bid && q.ask === best.ask && q.bidsiz === best.bidsiz && q.asksiz === best.asksiz;
    q.natbbo = selfCarried ? (s.exchcd === 3 ? '4' : '1') : '2';
  }
  const trades: Trade[] = [];
  const nTrades = Math.round(k * Math.min(400, Math.max(30, Math.round(s.vol / 8_000))));
  const tradeTimes = Array.from({ length: nTrades }, () => (rng.chance(0.04) ? rng.uniform(close, close + 3600) : uShapedTime(rng, open, close))).sort((a, b) => a - b);
  let tseq = 5000;
  for (const t of tradeTimes) {
    const mid = midAt(t);
    const outside = t >= close;
    trades.push({
      t: nanos(t), ex: rng.pick(venues), cond: outside ? 'T' : rng.pick(['@', '@', '@', '@F', '@I', 'F', '@FI', 'E']),
      size: rng.chance(0.3) ? rng.int(1, 99) : 100 * rng.int(1, 10), price: tick(mid + (rng.chance(0.5) ? 1 : -1) * mid * rng.uniform(0, 0.001)),
      corr: rng.chance(0.01) ? rng.pick(['01', '12']) : '00', seq: tseq++,
    });
  }
  return { trades, quotes, nbbo };
}

function bestOf(book: Map<string, Quote>): { bid: number; bidsiz: number; ask: number; asksiz: number } | null {
  let bid = 0;
  let bidsiz = 0;
  let ask = Number.POSITIVE_INFINITY;
  let asksiz = 0;
  for (const q of book.values()) {
    if (q.bidsiz > 0 && q.bid > bid) [bid, bidsiz] = [q.bid, q.bidsiz];
    if (q.asksiz > 0 && q.ask > 0 && q.ask < ask) [ask, asksiz] = [q.ask, q.asksiz];
  }
  return bid > 0 && Number.isFinite(ask) ? { bid, bidsiz, ask, asksiz } : null;
}

function stamp(day: string, ns: number): [string, string, number] {
  return [day, hms(ns), ns % 1000];
}

/** ctm_ rows of `symbols` on `day`. */
export function* tradeRows(seed: number, day: string, symbols: readonly TaqSymbol[]): Generator<Cell[]> {
  for (const s of symbols) {
    for (const tr of simulateSymbolDay(seed, day, s).trades) {
      yield [...stamp(day, tr.t), tr.ex, s.symRoot, null, tr.cond, tr.size, tr.price, 'N', tr.corr, tr.seq, s.exchcd === 3 ? 'N' : 'C', null];
    }
  }
}

/** cqm_ rows of `symbols` on `day`. */
export function* quoteRows(seed: number, day: string, symbols: readonly TaqSymbol[]): Generator<Cell[]> {
  for (const s of symbols) {
    for (const q of simulateSymbolDay(seed, day, s).quotes) {
      yield [...stamp(day, q.t), q.ex, s.symRoot, null, q.bid, q.bidsiz, q.ask, q.asksiz, q.cond, q.seq, q.natbbo, q.cancel, s.exchcd === 3 ? 'N' : 'C'];
    }
  }
}

/** complete_nbbo_ rows of `symbols` on `day` (sizes in shares). */
export function* nbboRows(seed: number, day: string, symbols: readonly TaqSymbol[]): Generator<Cell[]> {
  for (const s of symbols) {
    for (const n of simulateSymbolDay(seed, day, s).nbbo) {
      yield [...stamp(day, n.t), s.symRoot, null, 'R', '2', s.exchcd === 3 ? 'N' : 'C', 'R', round(n.bid, 4), n.bidsiz * 100, round(n.ask, 4), n.asksiz * 100];
    }
  }
}

/** mastm_ rows: one per symbol. */
export function* masterRows(day: string, symbols: readonly TaqSymbol[]): Generator<Cell[]> {
  for (const s of symbols) {
    const listed = s.exchcd === 1 ? 'N' : s.exchcd === 2 ? 'A' : s.exchcd === 3 ? 'Q' : 'P';
    yield [day, s.symRoot, null, s.symRoot, s.cusip, s.exchcd === 3 ? 'C' : s.exchcd === 1 ? 'A' : 'B', 100, 100, 'A', listed];
  }
}
