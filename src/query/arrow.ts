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

const MS_PER_DAY = 86_400_000;

/**
 * The column's Arrow data built straight into typed arrays (one pass, no per-value builder call)
 * for the types results mostly hold: numbers, integers, dates, timestamps and text. Values come as
 * the DuckDB adapter gives them (numbers, bigints, Dates, strings; null for NULL). Returns null
 * for the other types, which take Arrow's builders. bench/query.ts measures both.
 */
function columnData(A: Arrow, values: readonly unknown[], type: DataType, duckType: string): import('apache-arrow').Data | null {
  const n = values.length;
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  // `put` returns false for a value this path does not take (the column then goes to the builders).
  const each = (put: (v: unknown, i: number) => boolean | void): boolean => {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) nulls++;
      else {
        if (put(v, i) === false) return false;
        bitmap[i >> 3]! |= 1 << (i & 7);
      }
    }
    return true;
  };
  const made = (data: Record<string, unknown>) => A.makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, ...data } as never);
  if (type instanceof A.Float64) {
    const out = new Float64Array(n);
    each((v, i) => void (out[i] = Number(v)));
    return made({ data: out });
  }
  if (type instanceof A.Int32) {
    const out = new Int32Array(n);
    each((v, i) => void (out[i] = Number(v)));
    return made({ data: out });
  }
  if (type instanceof A.Int64) {
    const out = new BigInt64Array(n);
    each((v, i) => void (out[i] = BigInt(v as bigint)));
    return made({ data: out });
  }
  if (type instanceof A.DateDay) {
    const out = new Int32Array(n);
    const ok = each((v, i) => {
      if (!(v instanceof Date)) return false;
      out[i] = Math.floor(v.getTime() / MS_PER_DAY);
    });
    return ok ? made({ data: out }) : null;
  }
  if (type instanceof A.TimestampMillisecond) {
    const out = new BigInt64Array(n);
    const ok = each((v, i) => {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) return false;
      out[i] = BigInt(v.getTime());
    });
    return ok ? made({ data: out }) : null;
  }
  if (type instanceof A.Utf8 && duckType === 'VARCHAR') {
    const offsets = new Int32Array(n + 1);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'string') bytes += Buffer.byteLength(v);
      else if (v !== null && v !== undefined) return null;
      offsets[i + 1] = bytes;
    }
    const text = Buffer.allocUnsafe(bytes);
    each((v, i) => void text.write(v as string, offsets[i]!));
    return made({ valueOffsets: offsets, data: new Uint8Array(text.buffer, text.byteOffset, bytes) });
  }
  return null;
}

/** Build an Arrow table from a column-major DuckDB result. */
export const toArrow = (result: DuckColumns): Promise<Table> => tableOf(result, true);

/** {@link toArrow} through Arrow's builders only: the reference the typed-array path is tested against. */
export const toArrowByBuilders = (result: DuckColumns): Promise<Table> => tableOf(result, false);

async function tableOf(result: DuckColumns, typed: boolean): Promise<Table> {
  const A = await loadArrow();
  const vectors: Record<string, Vector> = {};
  result.names.forEach((name, i) => {
    const duckType = result.types[i] ?? 'VARCHAR';
    const type = arrowType(A, duckType);
    const values = result.data[i] ?? [];
    const data = typed ? columnData(A, values, type, duckType) : null;
    vectors[name] = (data === null ? A.vectorFromArray(convert(A, values, type, duckType), type) : A.makeVector(data)) as Vector;
  });
  return A.makeTable(vectors as never) as unknown as Table;
}
