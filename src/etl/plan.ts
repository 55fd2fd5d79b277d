/**
 * Planning an incremental ETL run (pure): for each symbol, only the days outside what the dataset
 * already holds for it — before its first date and after its last — grouped into batched fetches.
 * Symbols of an unfinished earlier run are re-fetched over that run's whole range (a kill may have
 * left some of its years merged and others not); the deterministic merge makes that harmless.
 */
import type { EventLog, StoredEvent } from '../log/index.js';

/** What the dataset holds for one symbol. */
export interface Coverage {
  readonly first: string;
  readonly last: string;
}

/** One fetcher call. */
export interface FetchRequest {
  readonly symbols: readonly string[];
  readonly start: string;
  readonly end: string;
}

/** The request of an ETL run. */
export interface EtlRequest {
  readonly symbols: readonly string[];
  readonly start: string;
  readonly end: string;
}

const DAY = 86_400_000;
/** `iso` plus `days` (UTC calendar days). */
export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/**
 * The fetches that bring `request` up to date given `coverage`, plus `resume` (fetched in full).
 * Deterministic: requests sorted by range, symbols sorted, at most `batch` symbols each.
 */
export function planFetches(request: EtlRequest, coverage: ReadonlyMap<string, Coverage>, resume: EtlRequest | null, batch = 1000): FetchRequest[] {
  const ranges = new Map<string, Set<string>>();
  const add = (symbol: string, start: string, end: string) => {
    if (start > end) return;
    const k = `${start}\t${end}`;
    ranges.set(k, (ranges.get(k) ?? new Set()).add(symbol));
  };
  for (const s of request.symbols) {
    const c = coverage.get(s);
    if (c === undefined) {
      add(s, request.start, request.end);
      continue;
    }
    if (request.start < c.first) add(s, request.start, addDays(c.first, -1));
    if (request.end > c.last) add(s, addDays(c.last, 1), request.end);
  }
  if (resume !== null) for (const s of resume.symbols) add(s, resume.start, resume.end);
  const out: FetchRequest[] = [];
  for (const k of [...ranges.keys()].sort()) {
    const [start, end] = k.split('\t') as [string, string];
    const symbols = [...ranges.get(k)!].sort();
    for (let i = 0; i < symbols.length; i += batch) out.push({ symbols: symbols.slice(i, i + batch), start, end });
  }
  return out;
}

/** The request of the last ETL run of `dataset` that started and never completed (killed or failed), if any. */
export function unfinishedRun(log: EventLog, dataset: string): (EtlRequest & { runId: string }) | null {
  const events = log.read({ types: ['EtlStarted', 'EtlCompleted'], reverse: true, limit: 1000 });
  const mine = events.filter((e): e is Extract<StoredEvent, { type: 'EtlStarted' | 'EtlCompleted' }> => (e.type === 'EtlStarted' || e.type === 'EtlCompleted') && e.data.dataset === dataset);
  const last = mine[0];
  if (last === undefined || last.type !== 'EtlStarted') return null;
  return { runId: last.data.runId, symbols: last.data.symbols, start: last.data.start, end: last.data.end };
}
