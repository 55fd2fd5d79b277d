/**
 * DuckDB results as Apache Arrow tables. Types map as DuckDB → Arrow: integers up to 32 bits →
 * Int32, BIGINT → Int64, DOUBLE/FLOAT/DECIMAL → Float64, VARCHAR → Utf8, DATE → DateDay,
 * TIMESTAMP → TimestampMillisecond, BOOLEAN → Bool; anything else as its text. The engine reads
 * the common types straight into Arrow's layout (engine/columnar.ts); the rest come as JS values.
 * apache-arrow loads on first use (a command that prints rows never pays for it).
 */
import type { DataType, Table, Vector } from 'apache-arrow';
import type { DuckBufferColumn, DuckColumns } from '../engine/index.js';

type Arrow = typeof import('apache-arrow');
let arrowModule: Promise<Arrow> | undefined;

/** apache-arrow, imported once on first use. */
export function loadArrow(): Promise<Arrow> {
  arrowModule ??= import('apache-arrow');
  return arrowModule;
}

function arrowType(A: Arrow, duckType: string): DataType {
  if (/^(INTEGER|SMALLINT|TINYINT|USMALLINT|UTINYINT)$/.test(duckType)) return new A.Int32();
  if (duckType === 'BIGINT') return new A.Int64();
  if (/^(DOUBLE|FLOAT|DECIMAL.*|HUGEINT|UBIGINT|UINTEGER)$/.test(duckType)) return new A.Float64();
  if (duckType === 'VARCHAR') return new A.Utf8();
  if (duckType === 'DATE') return new A.DateDay();
  if (duckType.startsWith('TIMESTAMP')) return new A.TimestampMillisecond();
  if (duckType === 'BOOLEAN') return new A.Bool();
  return new A.Utf8();
}

function convert(A: Arrow, values: readonly unknown[], type: DataType, duckType: string): unknown[] {
  if (type instanceof A.Float64) return values.map((v) => (v === null || v === undefined ? null : Number(v)));
  if (type instanceof A.Int64) return values.map((v) => (v === null || v === undefined ? null : BigInt(v as bigint)));
  if (type instanceof A.Utf8 && duckType !== 'VARCHAR') return values.map((v) => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) : String(v)));
  return values as unknown[];
}

/** The Arrow type of a column read in Arrow's layout (engine/columnar.ts). */
function layoutType(A: Arrow, layout: DuckBufferColumn['layout']): DataType {
  switch (layout) {
    case 'float64':
      return new A.Float64();
    case 'int32':
      return new A.Int32();
    case 'int64':
      return new A.Int64();
    case 'date-day':
      return new A.DateDay();
    case 'timestamp-ms':
      return new A.TimestampMillisecond();
    case 'bool':
      return new A.Bool();
    case 'utf8':
      return new A.Utf8();
  }
}

/** A column the engine read in Arrow's layout, wrapped without a copy. */
function bufferVector(A: Arrow, c: DuckBufferColumn): Vector {
  const base = { type: layoutType(A, c.layout), length: c.length, nullCount: c.nullCount, nullBitmap: c.validity };
  const data = c.layout === 'utf8' ? A.makeData({ ...base, valueOffsets: c.offsets, data: c.data } as never) : A.makeData({ ...base, data: c.data } as never);
  return A.makeVector(data) as Vector;
}

/**
 * Build an Arrow table from a column-major DuckDB result: the columns the engine read in Arrow's
 * layout are wrapped as they are; columns of JS values (`asValues`, or types the engine leaves as
 * values) go through Arrow's builders, the reference the fast path is tested against.
 */
export async function toArrow(result: DuckColumns): Promise<Table> {
  const A = await loadArrow();
  const vectors: Record<string, Vector> = {};
  result.names.forEach((name, i) => {
    const c = result.columns[i]!;
    if (c.layout !== 'values') vectors[name] = bufferVector(A, c);
    else {
      const duckType = result.types[i] ?? 'VARCHAR';
      const type = arrowType(A, duckType);
      vectors[name] = A.vectorFromArray(convert(A, c.values, type, duckType), type) as Vector;
    }
  });
  return A.makeTable(vectors as never) as unknown as Table;
}
