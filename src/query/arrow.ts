/**
 * DuckDB results as Apache Arrow tables. Types map as DuckDB → Arrow: integers up to 32 bits →
 * Int32, BIGINT → Int64, DOUBLE/FLOAT/DECIMAL → Float64, VARCHAR → Utf8, DATE → DateDay,
 * TIMESTAMP → TimestampMillisecond, BOOLEAN → Bool; anything else as its text.
 */
import {
  Bool,
  DateDay,
  Float64,
  Int32,
  Int64,
  TimestampMillisecond,
  Utf8,
  makeTable,
  vectorFromArray,
  type DataType,
  type Table,
  type Vector,
} from 'apache-arrow';
import type { DuckColumns } from '../engine/index.js';

function arrowType(duckType: string): DataType {
  if (/^(INTEGER|SMALLINT|TINYINT|USMALLINT|UTINYINT)$/.test(duckType)) return new Int32();
  if (duckType === 'BIGINT') return new Int64();
  if (/^(DOUBLE|FLOAT|DECIMAL.*|HUGEINT|UBIGINT|UINTEGER)$/.test(duckType)) return new Float64();
  if (duckType === 'VARCHAR') return new Utf8();
  if (duckType === 'DATE') return new DateDay();
  if (duckType.startsWith('TIMESTAMP')) return new TimestampMillisecond();
  if (duckType === 'BOOLEAN') return new Bool();
  return new Utf8();
}

function convert(values: readonly unknown[], type: DataType, duckType: string): unknown[] {
  if (type instanceof Float64) return values.map((v) => (v === null || v === undefined ? null : Number(v)));
  if (type instanceof Int64) return values.map((v) => (v === null || v === undefined ? null : BigInt(v as bigint)));
  if (type instanceof Utf8 && duckType !== 'VARCHAR') return values.map((v) => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) : String(v)));
  return values as unknown[];
}

/** Build an Arrow table from a column-major DuckDB result. */
export function toArrow(result: DuckColumns): Table {
  const vectors: Record<string, Vector> = {};
  result.names.forEach((name, i) => {
    const duckType = result.types[i] ?? 'VARCHAR';
    const type = arrowType(duckType);
    vectors[name] = vectorFromArray(convert(result.data[i] ?? [], type, duckType), type) as Vector;
  });
  return makeTable(vectors as never) as unknown as Table;
}
