/**
 * The engine reads the common column types straight from DuckDB's vectors into Arrow's layout
 * (engine/columnar.ts). Every value, NULL and type must come out as the reference path makes them
 * — each value read as a JS value, then Arrow's builders — on real DuckDB results of every type,
 * across chunk boundaries, and survive an IPC round trip. A NULL's slot holds zero, so a result
 * always gives the same bytes.
 */
import fc from 'fast-check';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../src/engine/index.js';
import { toArrow } from '../../src/query/index.js';

const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });

/** A decimal literal of `digits` digits at `scale`. */
const decimal = (width: number, scale: number) =>
  fc.bigInt({ min: -(10n ** BigInt(width)) + 1n, max: 10n ** BigInt(width) - 1n }).map((m) => {
    const s = (m < 0n ? -m : m).toString().padStart(scale + 1, '0');
    return `${m < 0n ? '-' : ''}${scale === 0 ? s : `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`}`;
  });
const text = (v: string) => `'${v.replaceAll("'", "''")}'`;
const double = (v: number) => (Number.isNaN(v) ? "'nan'" : v === Infinity ? "'inf'" : v === -Infinity ? "'-inf'" : Object.is(v, -0) ? "'-0.0'" : `'${v}'`);

/** Each column: its type and a generator of SQL literals of it. The last two are read as JS values. */
const COLUMNS: readonly (readonly [string, string, fc.Arbitrary<string>])[] = [
  ['d', 'DOUBLE', fc.double().map(double)],
  ['f', 'FLOAT', fc.float().map(double)],
  ['i', 'INTEGER', fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String)],
  ['si', 'SMALLINT', fc.integer({ min: -32768, max: 32767 }).map(String)],
  ['ti', 'TINYINT', fc.integer({ min: -128, max: 127 }).map(String)],
  ['ui', 'UINTEGER', fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(String)],
  ['us', 'USMALLINT', fc.integer({ min: 0, max: 65535 }).map(String)],
  ['ut', 'UTINYINT', fc.integer({ min: 0, max: 255 }).map(String)],
  ['b', 'BIGINT', fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)],
  ['dec4', 'DECIMAL(4,2)', decimal(4, 2).map(text)],
  ['dec9', 'DECIMAL(9,3)', decimal(9, 3).map(text)],
  ['dec18', 'DECIMAL(18,6)', decimal(18, 6).map(text)],
  ['dec18i', 'DECIMAL(18,0)', decimal(18, 0).map(text)],
  ['day', 'DATE', fc.integer({ min: -800_000, max: 800_000 }).map((d) => `DATE '1970-01-01' + ${d}`)],
  // Microseconds not a multiple of 1000, before 1970 too: milliseconds truncate towards zero.
  ['ts', 'TIMESTAMP', fc.bigInt({ min: -60_000_000_000_000_000n, max: 60_000_000_000_000_000n }).map((us) => `make_timestamp(${us}::BIGINT)`)],
  ['tsz', 'TIMESTAMPTZ', fc.bigInt({ min: -3_000_000_000_000_000n, max: 3_000_000_000_000_000n }).map((us) => `make_timestamp(${us}::BIGINT)::TIMESTAMPTZ`)],
  ['tms', 'TIMESTAMP_MS', fc.bigInt({ min: -3_000_000_000_000_000n, max: 3_000_000_000_000_000n }).map((us) => `make_timestamp(${us}::BIGINT)::TIMESTAMP_MS`)],
  ['tsec', 'TIMESTAMP_S', fc.bigInt({ min: -3_000_000_000_000_000n, max: 3_000_000_000_000_000n }).map((us) => `make_timestamp(${us}::BIGINT)::TIMESTAMP_S`)],
  ['bool', 'BOOLEAN', fc.boolean().map(String)],
  ['s', 'VARCHAR', fc.string({ unit: 'grapheme', maxLength: 20 }).map(text)],
  ['dec38', 'DECIMAL(38,10)', decimal(38, 10).map(text)],
  ['hi', 'HUGEINT', fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }).map(String)],
  ['list', 'INTEGER[]', fc.array(fc.integer(), { maxLength: 3 }).map((a) => `[${a.join(', ')}]`)],
];

const row = fc.tuple(...COLUMNS.map(([, , g]) => nullable(g)));

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
      expect({ column: f.name, row: i, same: Object.is(u, v) || (typeof u === 'object' && u !== null && String(u) === String(v)) }).toEqual({ column: f.name, row: i, same: true, ...(Object.is(u, v) || String(u) === String(v) ? {} : { u, v }) });
    }
  }
}

let duck: Duck;
beforeAll(async () => {
  duck = await openDuck({ threads: 2 });
});
afterAll(() => duck.close());

/** Load the rows into a table `t` of every column type. */
async function load(rows: readonly (readonly (string | null)[])[]): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE t (${COLUMNS.map(([n, type]) => `${n} ${type}`).join(', ')})`);
  if (rows.length > 0) await duck.run(`INSERT INTO t VALUES ${rows.map((r) => `(${r.map((v, i) => (v === null ? 'NULL' : `CAST(${v} AS ${COLUMNS[i]![1]})`)).join(', ')})`).join(', ')}`);
}

describe('Arrow from DuckDB results', () => {
  it('reads every type as the JS values and Arrow\'s builders do, across chunks, and through IPC', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 30 }), fc.integer({ min: 1, max: 150 }), async (rows, copies) => {
        await load(rows);
        // Copies, with some left out, so the result spans chunks whose sizes are not multiples of 8.
        const sql = `SELECT t.* FROM t, range(${copies}) r(k) WHERE (k * 7 + t.rowid) % 5 <> 0 ORDER BY k, t.rowid`;
        const fast = await toArrow(await duck.columns(sql));
        expectSameTable(fast, await toArrow(await duck.columns(sql, [], { asValues: true })));
        expectSameTable(tableFromIPC(tableToIPC(fast)), fast);
      }),
      { numRuns: 40 },
    );
  });

  it('reads the common types in Arrow\'s layout, and the others as JS values', async () => {
    await load([COLUMNS.map(() => null), COLUMNS.map((c) => fc.sample(c[2], { numRuns: 1, seed: 7 })[0]!)]);
    const r = await duck.columns('SELECT * FROM t');
    const layouts = Object.fromEntries(r.names.map((n, i) => [n, r.columns[i]!.layout]));
    expect(layouts).toMatchObject({ d: 'float64', f: 'float64', dec18: 'float64', i: 'int32', ti: 'int32', b: 'int64', day: 'date-day', ts: 'timestamp-ms', tsec: 'timestamp-ms', bool: 'bool', s: 'utf8' });
    expect([layouts['dec38'], layouts['hi'], layouts['list']]).toEqual(['float64', 'values', 'values']);
  });

  it('leaves zero in a NULL\'s slot, so equal results give equal bytes', async () => {
    await duck.run(`CREATE OR REPLACE TABLE z AS SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 END::DOUBLE AS x, CASE WHEN i % 4 = 0 THEN NULL ELSE i END::BIGINT AS n,
                      CASE WHEN i % 5 = 0 THEN NULL ELSE 'a long string number ' || i END AS s FROM range(5000) r(i)`);
    const r = await duck.columns('SELECT * FROM z');
    for (const c of r.columns) {
      if (c.layout === 'values' || c.validity === null) throw new Error('expected NULLs in Arrow layout');
      for (let i = 0; i < c.length; i++) {
        if ((c.validity[i >> 3]! >> (i & 7)) & 1) continue;
        if (c.layout === 'utf8') expect(c.offsets![i + 1]).toBe(c.offsets![i]);
        else expect(Number(c.data[i])).toBe(0);
      }
    }
    const again = await duck.columns('SELECT * FROM z');
    expect(Buffer.from(tableToIPC(await toArrow(again))).equals(Buffer.from(tableToIPC(await toArrow(r))))).toBe(true);
  });

  it('refuses a date a JS Date cannot hold with the JS path\'s own error', async () => {
    const sql = `SELECT * FROM (VALUES (DATE '2024-01-02'), ('infinity'::DATE)) v(d)`;
    const fast = await duck.columns(sql).then(toArrow).catch((e: Error) => e.message);
    const values = await duck.columns(sql, [], { asValues: true }).then(toArrow).catch((e: Error) => e.message);
    expect(fast).toMatch(/DATE value out of range/);
    expect(fast).toBe(values);
  });
});
