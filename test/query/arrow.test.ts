/**
 * toArrow builds its common column types straight into typed arrays; every value, NULL and type
 * must come out as Arrow's own builders make them, and survive an IPC round trip. (The IPC bytes
 * differ: the builders' validity buffers carry 64 bytes of padding that the writer copies.) Both
 * run on the values the DuckDB adapter gives.
 */
import fc from 'fast-check';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { openDuck } from '../../src/engine/index.js';
import { toArrow, toArrowByBuilders } from '../../src/query/index.js';
import type { DuckColumns } from '../../src/engine/index.js';

const MS_PER_DAY = 86_400_000;
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const day = fc.integer({ min: -40_000, max: 60_000 }).map((d) => new Date(d * MS_PER_DAY));
const instant = fc.integer({ min: -2_000_000_000_000, max: 4_000_000_000_000 }).map((ms) => new Date(ms));

/** A column of each type the typed-array path takes, and two that keep the builders. */
const columns = (n: number) =>
  fc.record({
    d: fc.array(nullable(fc.double()), { minLength: n, maxLength: n }),
    i: fc.array(nullable(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { minLength: n, maxLength: n }),
    b: fc.array(nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { minLength: n, maxLength: n }),
    day: fc.array(nullable(day), { minLength: n, maxLength: n }),
    ts: fc.array(nullable(instant), { minLength: n, maxLength: n }),
    s: fc.array(nullable(fc.string({ unit: 'grapheme', maxLength: 6 })), { minLength: n, maxLength: n }),
    bool: fc.array(nullable(fc.boolean()), { minLength: n, maxLength: n }),
    list: fc.array(nullable(fc.array(fc.integer(), { maxLength: 3 })), { minLength: n, maxLength: n }),
  });

const result = (c: Record<string, unknown[]>): DuckColumns => ({
  names: ['d', 'i', 'b', 'day', 'ts', 's', 'bool', 'list'],
  types: ['DOUBLE', 'INTEGER', 'BIGINT', 'DATE', 'TIMESTAMP', 'VARCHAR', 'BOOLEAN', 'INTEGER[]'],
  data: [c.d!, c.i!, c.b!, c.day!, c.ts!, c.s!, c.bool!, c.list!],
});

/** Column by column: the type, the NULL count and every value (NaN and -0 included). */
function expectSameTable(a: Table, b: Table): void {
  expect(a.numRows).toBe(b.numRows);
  expect(a.schema.fields.map((f) => f.name)).toEqual(b.schema.fields.map((f) => f.name));
  for (const f of b.schema.fields) {
    const x = a.getChild(f.name)!;
    const y = b.getChild(f.name)!;
    expect(String(x.type)).toBe(String(y.type));
    expect(x.nullCount).toBe(y.nullCount);
    for (let i = 0; i < y.length; i++) {
      const [u, v] = [x.get(i), y.get(i)];
      expect({ column: f.name, row: i, same: Object.is(u, v) || (typeof u === 'object' && u !== null && String(u) === String(v)) }).toEqual({ column: f.name, row: i, same: true });
    }
  }
}

describe('toArrow', () => {
  it('gives the values, NULLs and types of Arrow\'s builders, for any column, through IPC too', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }).chain(columns), async (c) => {
        const r = result(c);
        const fast = await toArrow(r);
        expectSameTable(fast, await toArrowByBuilders(r));
        expectSameTable(tableFromIPC(tableToIPC(fast)), fast);
      }),
      { numRuns: 200 },
    );
  });

  it('converts a real DuckDB result the same both ways (dates, timestamps, text, NULLs)', async () => {
    const duck = await openDuck({ threads: 1 });
    try {
      const r = await duck.columns(
        `SELECT range AS n, range * 1.5 AS x, DATE '1960-01-01' + range::INTEGER AS d, TIMESTAMP '2024-03-15 09:30:00.123' + to_seconds(range) AS ts,
                CASE WHEN range % 3 = 0 THEN NULL ELSE 'é' || range END AS s, range::INTEGER % 7 AS small
         FROM range(1000)`,
      );
      const fast = await toArrow(r);
      expectSameTable(fast, await toArrowByBuilders(r));
      expect(fast.getChild('s')!.nullCount).toBe(334);
      expect(fast.getChild('d')!.get(0)).toBe(Date.UTC(1960, 0, 1));
    } finally {
      duck.close();
    }
  });
});
