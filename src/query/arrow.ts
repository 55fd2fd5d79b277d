/**
 * DuckDB results as Apache Arrow tables. Types map as DuckDB → Arrow: integers up to 32 bits →
 * Int32, BIGINT → Int64, DOUBLE/FLOAT/DECIMAL → Float64, VARCHAR → Utf8, DATE → DateDay,
 * TIMESTAMP → TimestampMillisecond, BOOLEAN → Bool; anything else as its text.
 * apache-arrow loads on first use (a command that prints rows never pays for it).
 */
import type { DataType, Table, Vector } from 'apache-arrow';
import type { DuckColumns } from '../engine/index.js';

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

/** Build an Arrow table from a column-major DuckDB result. */
export async function toArrow(result: DuckColumns): Promise<Table> {
  const A = await loadArrow();
  const vectors: Record<string, Vector> = {};
  result.names.forEach((name, i) => {
    const duckType = result.types[i] ?? 'VARCHAR';
    const type = arrowType(A, duckType);
    vectors[name] = A.vectorFromArray(convert(A, result.data[i] ?? [], type, duckType), type) as Vector;
  });
  return A.makeTable(vectors as never) as unknown as Table;
}
