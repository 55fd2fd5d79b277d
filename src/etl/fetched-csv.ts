/**
 * Fetched rows (an Arrow table from the unified fetcher) appended to a CSV file the writer's DuckDB
 * reads: columns are taken by name, so the fetcher may add columns (identity, provider) freely.
 * Numbers are written in JavaScript's shortest round-trip form, so DOUBLEs come back bit-exact.
 */
import type { WriteStream } from 'node:fs';
import type { Table } from 'apache-arrow';

/** The columns of the unified prices dataset, in order, with their DuckDB types. */
export const pricesColumns = [
  { name: 'date', type: 'DATE' },
  { name: 'symbol', type: 'VARCHAR' },
  { name: 'series', type: 'VARCHAR' },
  { name: 'permno', type: 'INTEGER' },
  { name: 'exchange', type: 'VARCHAR' },
  { name: 'provider', type: 'VARCHAR' },
  { name: 'open', type: 'DOUBLE' },
  { name: 'high', type: 'DOUBLE' },
  { name: 'low', type: 'DOUBLE' },
  { name: 'close', type: 'DOUBLE' },
  { name: 'adj_close', type: 'DOUBLE' },
  { name: 'volume', type: 'DOUBLE' },
  { name: 'ret', type: 'DOUBLE' },
] as const;

/** The CSV header line plus the request ordinal column `ord` (a later fetch wins a duplicate key). */
export const csvHeader = `${pricesColumns.map((c) => c.name).join(',')},ord\n`;

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function cell(type: string, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (type === 'DATE') return typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
  if (type === 'VARCHAR') return quote(String(v));
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? String(n) : '';
}

/**
 * Append `table`'s rows to `out`; `provider` fills the provider column when the table has none.
 * Returns the number of rows written.
 */
export async function appendRows(out: WriteStream, table: Table, ord: number, servedBy: Readonly<Record<string, string | null>>): Promise<number> {
  const lines: string[] = [];
  const flush = async () => {
    if (lines.length === 0) return;
    const chunk = lines.join('');
    lines.length = 0;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  // Column arrays per record batch (Vector.get per cell is an order of magnitude slower).
  for (const batch of table.batches) {
    const cols = pricesColumns.map((c) => {
      const v = batch.getChild(c.name);
      if (v === null) return { values: null, valid: () => false };
      const values = v.toArray() as ArrayLike<unknown>;
      return { values, valid: v.nullCount === 0 ? () => true : (i: number) => v.isValid(i) };
    });
    const symbols = cols[1]!;
    for (let i = 0; i < batch.numRows; i++) {
      const symbol = symbols.values !== null && symbols.valid(i) ? String(symbols.values[i]) : null;
      let line = '';
      for (let j = 0; j < pricesColumns.length; j++) {
        const c = pricesColumns[j]!;
        const col = cols[j]!;
        const v = col.values !== null && col.valid(i) ? col.values[i] : null;
        let f: string;
        if (v === null && c.name === 'series') f = symbol === null ? '' : quote(symbol);
        else if (v === null && c.name === 'provider') f = symbol === null ? '' : cell('VARCHAR', servedBy[symbol] ?? null);
        else f = cell(c.type, v);
        line += j === 0 ? f : `,${f}`;
      }
      lines.push(`${line},${ord}\n`);
      if (lines.length >= 8192) await flush();
    }
  }
  await flush();
  return table.numRows;
}
