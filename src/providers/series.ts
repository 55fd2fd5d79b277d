/**
 * Identity of fetched rows: each provider's table gets `series` (the symbol, or `SYMBOL@permno`
 * for each security when a symbol named several within the range — a reused ticker is split into
 * separate series, never spliced into one) and `provider`, with the identity columns `permno` and
 * `exchange` filled (NULL when a provider has none).
 */
import { Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';

/** A symbol that named more than one security within the range: returned as separate series. */
export interface SplitSymbol {
  readonly symbol: string;
  readonly provider: string;
  readonly series: readonly { readonly series: string; readonly permno: number; readonly first: string; readonly last: string }[];
}

const isoDay = (v: unknown): string => (typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : v instanceof Date ? v.toISOString().slice(0, 10) : String(v));

/**
 * A provider's table in the fetched columns: identity columns filled (NULL when the provider has
 * none), `provider`, and `series` — the symbol, or `SYMBOL@permno` for each security when the
 * symbol named several within the range (a reused ticker is split into separate series, never
 * spliced into one; rows are expected ordered by symbol, permno, date).
 */
export function identify(table: Table, provider: string): { table: Table; splits: SplitSymbol[] } {
  const n = table.numRows;
  const values = (name: string): unknown[] => {
    const c = table.getChild(name);
    return c === null ? new Array<unknown>(n).fill(null) : [...c];
  };
  const symbols = values('symbol') as (string | null)[];
  const permnos = values('permno').map((v) => (v === null || v === undefined ? null : Number(v)));
  const dates = values('date');
  const held = new Map<string, Map<number, { first: string; last: string }>>();
  for (let i = 0; i < n; i++) {
    const s = symbols[i];
    const p = permnos[i];
    if (s === null || s === undefined || p === null || p === undefined) continue;
    const bySymbol = held.get(s) ?? new Map<number, { first: string; last: string }>();
    held.set(s, bySymbol);
    const d = isoDay(dates[i]);
    const span = bySymbol.get(p);
    if (span === undefined) bySymbol.set(p, { first: d, last: d });
    else {
      if (d < span.first) span.first = d;
      if (d > span.last) span.last = d;
    }
  }
  const split = new Set([...held].filter(([, m]) => m.size > 1).map(([s]) => s));
  const series = symbols.map((s, i) => (s !== null && split.has(s) && permnos[i] !== null ? `${s}@${permnos[i]}` : s));
  const col = (name: string) => table.getChild(name) ?? vectorFromArray(new Array(n).fill(null), new Float64());
  const out = new Table({
    date: col('date'), symbol: col('symbol'), series: vectorFromArray(series, new Utf8()), provider: vectorFromArray(new Array(n).fill(provider), new Utf8()),
    permno: vectorFromArray(permnos, new Int32()), exchange: vectorFromArray(values('exchange').map((v) => (v === null || v === undefined ? null : String(v))), new Utf8()),
    open: col('open'), high: col('high'), low: col('low'), close: col('close'), adj_close: col('adj_close'), volume: col('volume'), ret: col('ret'),
  });
  const splits = [...split].map((symbol) => ({
    symbol, provider,
    series: [...held.get(symbol)!].map(([permno, span]) => ({ series: `${symbol}@${permno}`, permno, ...span })).sort((a, b) => a.first.localeCompare(b.first)),
  }));
  return { table: out, splits };
}

