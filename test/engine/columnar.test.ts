/**
 * engine/columnar.ts over chunks of any size. DuckDB's materialized results come in chunks of
 * 2,048 rows, so every chunk but the last starts on a byte of the validity bitmap; here real
 * DuckDB chunks of random sizes (0-100 rows, so most start mid-byte) are filled with values and
 * NULLs, and every column must read back exactly, NULLs included.
 */
import fc from 'fast-check';
import * as api from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import { describe, expect, it } from 'vitest';
import { columnsOf, type DuckModules } from '../../src/engine/columnar.js';

const m: DuckModules = { api, bindings };
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });

const COLUMNS = [
  { type: api.DOUBLE, gen: nullable(fc.double({ noNaN: true })), write: (v: number) => v, expected: (v: number) => v },
  { type: api.INTEGER, gen: nullable(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), write: (v: number) => v, expected: (v: number) => v },
  { type: api.BIGINT, gen: nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), write: (v: bigint) => v, expected: (v: bigint) => v },
  { type: api.BOOLEAN, gen: nullable(fc.boolean()), write: (v: boolean) => v, expected: (v: boolean) => v },
  { type: api.DATE, gen: nullable(fc.integer({ min: -100_000, max: 100_000 })), write: (d: number) => api.dateValue(d), expected: (d: number) => d },
  { type: api.TIMESTAMP, gen: nullable(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n })), write: (us: bigint) => api.timestampValue(us), expected: (us: bigint) => us / 1000n },
  { type: api.VARCHAR, gen: nullable(fc.string({ unit: 'grapheme', maxLength: 20 })), write: (s: string) => s, expected: (s: string) => s },
] as const;

/** A stand-in for node-api's materialized result over real chunks (the part columnsOf reads). */
function resultOf(chunks: api.DuckDBDataChunk[]): api.DuckDBMaterializedResult {
  return {
    rowCount: chunks.reduce((n, c) => n + c.rowCount, 0),
    chunkCount: chunks.length,
    getChunk: (i: number) => chunks[i]!,
    columnTypes: () => COLUMNS.map((c) => c.type),
  } as unknown as api.DuckDBMaterializedResult;
}

/** Column `c`, row `i` as the test compares it. */
function read(col: ReturnType<typeof columnsOf>[number], i: number): unknown {
  if (col.layout === 'values') throw new Error('expected a buffer column');
  if (col.validity !== null && ((col.validity[i >> 3]! >> (i & 7)) & 1) === 0) return null;
  switch (col.layout) {
    case 'bool':
      return (((col.data as Uint8Array)[i >> 3]! >> (i & 7)) & 1) === 1;
    case 'utf8':
      return Buffer.from(col.data.buffer, col.data.byteOffset + col.offsets![i]!, col.offsets![i + 1]! - col.offsets![i]!).toString('utf8');
    default:
      return col.data[i];
  }
}

describe('columnsOf', () => {
  it('reads chunks of any size, starting anywhere in a bitmap byte, value by value and NULL by NULL', () => {
    const rows = fc.tuple(...COLUMNS.map((c) => c.gen));
    fc.assert(
      fc.property(fc.array(fc.array(rows, { maxLength: 100 }), { minLength: 1, maxLength: 8 }), (chunkRows) => {
        const chunks = chunkRows.map((rs) => {
          const chunk = api.DuckDBDataChunk.create(COLUMNS.map((c) => c.type), rs.length);
          COLUMNS.forEach((c, k) => chunk.setColumnValues(k, rs.map((r) => (r[k] === null ? null : (c.write as (v: unknown) => api.DuckDBValue)(r[k])))));
          return chunk;
        });
        const cols = columnsOf(m, resultOf(chunks));
        const all = chunkRows.flat();
        COLUMNS.forEach((c, k) => {
          const col = cols[k]!;
          expect(col.layout === 'values' ? -1 : col.length).toBe(all.length);
          const got = all.map((_, i) => read(col, i));
          const want = all.map((r) => (r[k] === null ? null : (c.expected as (v: unknown) => unknown)(r[k])));
          expect(got).toEqual(want);
          if (col.layout !== 'values') expect(col.nullCount).toBe(want.filter((v) => v === null).length);
        });
      }),
      { numRuns: 150 },
    );
  });
});
