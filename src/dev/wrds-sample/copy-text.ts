/**
 * PostgreSQL COPY text format: one row per line, tab-separated, `\N` for NULL, backslash escapes.
 * Rows are grouped into ~64 KiB chunks so a table streams through COPY with bounded memory.
 */

/** One value as the generator produces it. Numbers must be finite; strings are sent verbatim. */
export type Cell = string | number | boolean | null;

const NEEDS_ESCAPE = /[\\\t\n\r]/;

function escapeText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Encodes one row as a COPY text line (with the trailing newline). */
export function encodeRow(row: readonly Cell[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (i > 0) line += '\t';
    if (value === null || value === undefined) line += '\\N';
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`encodeRow: non-finite number in column ${i}`);
      line += String(value);
    } else if (typeof value === 'boolean') line += value ? 't' : 'f';
    else line += escapeText(value);
  }
  return line + '\n';
}

/** Groups rows into COPY text chunks of about `chunkSize` characters; counts rows into `counter`. */
export function* copyChunks(rows: Iterable<readonly Cell[]>, counter: { rows: number }, chunkSize = 65536): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += encodeRow(row);
    counter.rows++;
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Rounds to `digits` decimals and returns the fixed-point text (exact for numeric(p,s) columns). */
export function fixed(value: number | null, digits: number): string | null {
  if (value === null || !Number.isFinite(value)) return null;
  const text = value.toFixed(digits);
  return text === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : text;
}

/** Rounds to `digits` decimals as a number (for double precision columns). */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(value * f) / f;
  return r === 0 ? 0 : r;
}
