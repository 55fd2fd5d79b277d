/**
 * A DuckDB result read column by column straight into Apache Arrow's memory layout: each result
 * vector's bytes are copied (or widened) into one typed array per column, its validity mask
 * becomes Arrow's validity bitmap (both are least-significant-bit first, bit set = not NULL), and
 * text is copied as UTF-8 bytes with offsets. No JS value is made per row, which is what reading
 * through `getColumnsJS` costs: about 15 times DuckDB's own query time on a million rows
 * (bench/query.ts prints both).
 *
 * The values are exactly those the JS values would give (the same conversions, checked by
 * test/query/arrow.test.ts against Arrow's builders fed with those values; chunks of any size by
 * test/engine/columnar.test.ts): DECIMAL, FLOAT and
 * UINTEGER become doubles, DECIMAL by DuckDB's own formula; small integers widen to 32 bits;
 * TIMESTAMP (microseconds) truncates to milliseconds towards zero. A NULL's slot holds zero, so
 * equal results give equal bytes. Other types, and any value a JS Date cannot hold (which the JS
 * path refuses with its own error), are read as JS values: layout `values`.
 */
import type { DuckDBDecimalType, DuckDBMaterializedResult, DuckDBType } from '@duckdb/node-api';
import type Bindings from '@duckdb/node-bindings';

/** The two DuckDB modules, loaded by duckdb.ts on first use (never at import). */
export interface DuckModules {
  readonly api: typeof import('@duckdb/node-api');
  readonly bindings: typeof Bindings;
}
/** The bindings module (one per process), set by columnsOf before any sink reads a vector. */
let duckdb: DuckModules['bindings'];

/** A column in Arrow's layout. */
export interface DuckBufferColumn {
  readonly layout: 'float64' | 'int32' | 'int64' | 'date-day' | 'timestamp-ms' | 'bool' | 'utf8';
  readonly length: number;
  readonly nullCount: number;
  /** Bit i set when row i is not NULL; null when no row is. */
  readonly validity: Uint8Array | null;
  /** float64: Float64Array; int32, date-day (days): Int32Array; int64, timestamp-ms: BigInt64Array; bool: bits; utf8: the text's bytes. */
  readonly data: Float64Array | Int32Array | BigInt64Array | Uint8Array;
  /** utf8 only: where each row's bytes start (length + 1 entries). */
  readonly offsets?: Int32Array;
}

/** A column of JS values (Date, bigint, number, string, boolean, arrays, objects; null for NULL). */
export interface DuckValuesColumn {
  readonly layout: 'values';
  readonly values: readonly unknown[];
}

export type DuckColumn = DuckBufferColumn | DuckValuesColumn;

/** Thrown inside a sink when a value needs the JS path (the column is then read that way). */
class NeedsValues extends Error {}

/** The days a JS Date holds (±10^8 days around 1970), as DuckDB's JS conversion checks. */
const MAX_DATE_DAYS = 100_000_000;
const MAX_DATE_MS = MAX_DATE_DAYS * 86_400_000;
/** Largest integer a double holds exactly. */
const EXACT = 2 ** 53;
/** Powers of ten as C's literals round them (DECIMAL scales up to 38). */
const POW10 = Array.from({ length: 39 }, (_, i) => Number(`1e${i}`));

/** Fills one column from each chunk's vector in turn (rows `at` .. `at + n`). */
abstract class Sink {
  protected readonly validity: Uint8Array;
  protected nulls = 0;
  constructor(protected readonly total: number) {
    this.validity = new Uint8Array((total + 7) >> 3);
  }

  /** Copy the vector's validity to rows at..at+n; returns the chunk's mask (null: all valid). */
  protected mask(vector: Bindings.Vector, at: number, n: number): Uint8Array | null {
    const bits = duckdb.vector_get_validity(vector, Math.ceil(n / 64) * 8) as Uint8Array | null;
    const out = this.validity;
    if (bits === null || bits === undefined) {
      setRange(out, at, n);
      return null;
    }
    let valid = 0;
    for (let i = 0; i < n; i++) {
      if ((bits[i >> 3]! >> (i & 7)) & 1) {
        out[(at + i) >> 3]! |= 1 << ((at + i) & 7);
        valid++;
      }
    }
    this.nulls += n - valid;
    return valid === n ? null : bits;
  }

  abstract take(vector: Bindings.Vector, at: number, n: number): void;
  abstract finish(): DuckBufferColumn;

  protected column(layout: DuckBufferColumn['layout'], data: DuckBufferColumn['data'], offsets?: Int32Array): DuckBufferColumn {
    return { layout, length: this.total, nullCount: this.nulls, validity: this.nulls > 0 ? this.validity : null, data, ...(offsets === undefined ? {} : { offsets }) };
  }
}

/** Set bits at..at+n. */
function setRange(out: Uint8Array, at: number, n: number): void {
  let i = at;
  const end = at + n;
  for (; i < end && (i & 7) !== 0; i++) out[i >> 3]! |= 1 << (i & 7);
  for (; i + 8 <= end; i += 8) out[i >> 3] = 0xff;
  for (; i < end; i++) out[i >> 3]! |= 1 << (i & 7);
}

const isNull = (mask: Uint8Array | null, i: number): boolean => mask !== null && ((mask[i >> 3]! >> (i & 7)) & 1) === 0;

type NumericArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
type NumericCtor = { new (b: ArrayBufferLike, off: number, n: number): NumericArray; BYTES_PER_ELEMENT: number };

/** A fixed-width source copied (converting element type) into a Float64Array or Int32Array. */
class CopySink extends Sink {
  private readonly out: Float64Array | Int32Array;
  constructor(
    total: number,
    private readonly layout: 'float64' | 'int32' | 'date-day',
    private readonly src: NumericCtor,
  ) {
    super(total);
    this.out = layout === 'float64' ? new Float64Array(total) : new Int32Array(total);
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const bytes = duckdb.vector_get_data(vector, n * this.src.BYTES_PER_ELEMENT);
    const values = new this.src(bytes.buffer, bytes.byteOffset, n);
    const mask = this.mask(vector, at, n);
    if (this.layout === 'date-day') {
      for (let i = 0; i < n; i++) if (!isNull(mask, i) && Math.abs(values[i]!) > MAX_DATE_DAYS) throw new NeedsValues();
    }
    this.out.set(values, at);
    if (mask !== null) for (let i = 0; i < n; i++) if (isNull(mask, i)) this.out[at + i] = 0;
  }
  finish(): DuckBufferColumn {
    return this.column(this.layout, this.out);
  }
}

/** BIGINT, as it is. */
class Int64Sink extends Sink {
  private readonly out: BigInt64Array;
  constructor(total: number) {
    super(total);
    this.out = new BigInt64Array(total);
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const bytes = duckdb.vector_get_data(vector, n * 8);
    this.out.set(new BigInt64Array(bytes.buffer, bytes.byteOffset, n), at);
    const mask = this.mask(vector, at, n);
    if (mask !== null) for (let i = 0; i < n; i++) if (isNull(mask, i)) this.out[at + i] = 0n;
  }
  finish(): DuckBufferColumn {
    return this.column('int64', this.out);
  }
}

/**
 * DECIMAL as a double, as DuckDB converts it: an integer a double holds exactly (below 2^53)
 * divided by the power of ten, else DuckDB's own function (16+ significant digits, rare). The
 * integer is stored in 2, 4, 8 or 16 bytes by width; wide ones are read as 32-bit words, so no
 * BigInt is made below 2^53.
 */
class DecimalSink extends Sink {
  private readonly out: Float64Array;
  private readonly bytesPer: 2 | 4 | 8 | 16;
  constructor(
    total: number,
    private readonly width: number,
    private readonly scale: number,
  ) {
    super(total);
    this.out = new Float64Array(total);
    this.bytesPer = width <= 4 ? 2 : width <= 9 ? 4 : width <= 18 ? 8 : 16;
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const bytes = duckdb.vector_get_data(vector, n * this.bytesPer);
    const mask = this.mask(vector, at, n);
    const p = POW10[this.scale]!;
    const out = this.out;
    if (this.bytesPer <= 4) {
      const values = this.bytesPer === 2 ? new Int16Array(bytes.buffer, bytes.byteOffset, n) : new Int32Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) out[at + i] = isNull(mask, i) ? 0 : values[i]! / p;
      return;
    }
    const w = new Int32Array(bytes.buffer, bytes.byteOffset, (n * this.bytesPer) / 4);
    const words = this.bytesPer / 4;
    for (let i = 0; i < n; i++) {
      if (isNull(mask, i)) continue;
      const [lo, hi] = [w[words * i]! >>> 0, w[words * i + 1]!];
      // The upper 64 bits of a 128-bit integer only extend the sign of the lower when it is small.
      const small = words === 2 || (w[words * i + 2] === hi >> 31 && w[words * i + 3] === hi >> 31);
      const v = hi * 4294967296 + lo;
      out[at + i] = small && Math.abs(v) < EXACT ? v / p : duckdb.decimal_to_double({ width: this.width, scale: this.scale, value: this.big(w, words * i) });
    }
  }
  private big(w: Int32Array, k: number): bigint {
    let v = 0n;
    for (let j = (this.bytesPer / 4) - 1; j >= 0; j--) v = (v << 32n) | BigInt(w[k + j]! >>> 0);
    return BigInt.asIntN(this.bytesPer * 8, v);
  }
  finish(): DuckBufferColumn {
    return this.column('float64', this.out);
  }
}

/**
 * TIMESTAMP in microseconds, milliseconds or seconds, to milliseconds truncated towards zero as
 * the JS path does; 64-bit integers read as two 32-bit halves (a BigInt only beyond 2^53).
 */
class TimestampSink extends Sink {
  private readonly out: BigInt64Array;
  constructor(
    total: number,
    private readonly msPerUnit: number,
    private readonly unitsPerMs: number,
  ) {
    super(total);
    this.out = new BigInt64Array(total);
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const bytes = duckdb.vector_get_data(vector, n * 8);
    const halves = new Int32Array(bytes.buffer, bytes.byteOffset, n * 2);
    const mask = this.mask(vector, at, n);
    const { msPerUnit, unitsPerMs } = this;
    const out = new Int32Array(this.out.buffer, this.out.byteOffset + at * 8, n * 2);
    for (let i = 0; i < n; i++) {
      if (isNull(mask, i)) continue;
      const v = halves[2 * i + 1]! * 4294967296 + (halves[2 * i]! >>> 0);
      // Exact below 2^53: v is an integer, and so is v - v % unitsPerMs, a multiple of it.
      const ms =
        Math.abs(v) >= EXACT ? Number(new BigInt64Array(bytes.buffer, bytes.byteOffset + 8 * i, 1)[0]! / BigInt(unitsPerMs)) * msPerUnit
        : unitsPerMs === 1 ? v * msPerUnit
        : (v - (v % unitsPerMs)) / unitsPerMs;
      if (Math.abs(ms) > MAX_DATE_MS) throw new NeedsValues();
      out[2 * i] = ms % 4294967296 | 0;
      out[2 * i + 1] = Math.floor(ms / 4294967296);
    }
  }
  finish(): DuckBufferColumn {
    return this.column('timestamp-ms', this.out);
  }
}

/** BOOLEAN: a byte per value to a bit per value. */
class BoolSink extends Sink {
  private readonly out: Uint8Array;
  constructor(total: number) {
    super(total);
    this.out = new Uint8Array((total + 7) >> 3);
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const bytes = duckdb.vector_get_data(vector, n);
    const mask = this.mask(vector, at, n);
    for (let i = 0; i < n; i++) if (bytes[i] !== 0 && !isNull(mask, i)) this.out[(at + i) >> 3]! |= 1 << ((at + i) & 7);
  }
  finish(): DuckBufferColumn {
    return this.column('bool', this.out);
  }
}

/** VARCHAR: DuckDB's 16-byte strings (up to 12 bytes inline, else a pointer) to UTF-8 bytes and offsets. */
class Utf8Sink extends Sink {
  private readonly offsets: Int32Array;
  private bytes = new Uint8Array(1 << 16);
  private used = 0;
  constructor(total: number) {
    super(total);
    this.offsets = new Int32Array(total + 1);
  }
  private room(more: number): void {
    if (this.used + more <= this.bytes.length) return;
    if (this.used + more > 2 ** 31 - 1) throw new RangeError('a text column of this result holds more than 2 GiB; read it in parts (LIMIT/OFFSET or a narrower query)');
    let size = this.bytes.length * 2;
    while (size < this.used + more) size *= 2;
    const grown = new Uint8Array(Math.min(size, 2 ** 31 - 1));
    grown.set(this.bytes.subarray(0, this.used));
    this.bytes = grown;
  }
  take(vector: Bindings.Vector, at: number, n: number): void {
    const raw = duckdb.vector_get_data(vector, n * 16);
    const view = new DataView(raw.buffer, raw.byteOffset, n * 16);
    const mask = this.mask(vector, at, n);
    for (let i = 0; i < n; i++) {
      if (!isNull(mask, i)) {
        const len = view.getUint32(16 * i, true);
        this.room(len);
        if (len <= 12) {
          // Inline: copied byte by byte (a subarray per value would cost more than the copy).
          const out = this.bytes;
          for (let j = 0, from = 16 * i + 4, to = this.used; j < len; j++) out[to + j] = raw[from + j]!;
        } else this.bytes.set(duckdb.get_data_from_pointer(raw.buffer as ArrayBuffer, raw.byteOffset + 16 * i + 8, len), this.used);
        this.used += len;
      }
      this.offsets[at + i + 1] = this.used;
    }
  }
  finish(): DuckBufferColumn {
    return this.column('utf8', this.bytes.subarray(0, this.used), this.offsets);
  }
}

/** The sink for a column of this type, or null to read it as JS values. */
function sinkFor(DuckDBTypeId: DuckModules['api']['DuckDBTypeId'], type: DuckDBType, total: number): Sink | null {
  switch (type.typeId) {
    case DuckDBTypeId.DOUBLE:
      return new CopySink(total, 'float64', Float64Array);
    case DuckDBTypeId.FLOAT:
      return new CopySink(total, 'float64', Float32Array);
    case DuckDBTypeId.UINTEGER:
      return new CopySink(total, 'float64', Uint32Array);
    case DuckDBTypeId.INTEGER:
      return new CopySink(total, 'int32', Int32Array);
    case DuckDBTypeId.SMALLINT:
      return new CopySink(total, 'int32', Int16Array);
    case DuckDBTypeId.TINYINT:
      return new CopySink(total, 'int32', Int8Array);
    case DuckDBTypeId.USMALLINT:
      return new CopySink(total, 'int32', Uint16Array);
    case DuckDBTypeId.UTINYINT:
      return new CopySink(total, 'int32', Uint8Array);
    case DuckDBTypeId.DATE:
      return new CopySink(total, 'date-day', Int32Array);
    case DuckDBTypeId.BIGINT:
      return new Int64Sink(total);
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as DuckDBDecimalType;
      return new DecimalSink(total, width, scale);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new TimestampSink(total, 1, 1000);
    case DuckDBTypeId.TIMESTAMP_MS:
      return new TimestampSink(total, 1, 1);
    case DuckDBTypeId.TIMESTAMP_S:
      return new TimestampSink(total, 1000, 1);
    case DuckDBTypeId.BOOLEAN:
      return new BoolSink(total);
    case DuckDBTypeId.VARCHAR:
      return type.alias === undefined ? new Utf8Sink(total) : null;
    default:
      return null;
  }
}

/** A column read as JS values, chunk by chunk. */
function valuesOf(m: DuckModules, result: DuckDBMaterializedResult, column: number): DuckValuesColumn {
  const values: unknown[] = [];
  for (let i = 0; i < result.chunkCount; i++) for (const v of result.getChunk(i).convertColumnValues(column, m.api.JSDuckDBValueConverter)) values.push(v);
  return { layout: 'values', values };
}

/**
 * Every column of a materialized result in Arrow's layout (`values` for the rest, or all of them
 * with `asValues`). Chunks are taken one at a time by index (`getChunk`, synchronous: node-api's
 * `fetchChunk` is a round trip through the thread pool per 2,048 rows, which costs more than
 * copying a numeric column: 23–40 ms against about 2 ms per million rows here).
 */
export function columnsOf(m: DuckModules, result: DuckDBMaterializedResult, asValues = false): DuckColumn[] {
  duckdb = m.bindings;
  const types = result.columnTypes();
  const sinks = types.map((type) => (asValues ? null : sinkFor(m.api.DuckDBTypeId, type, result.rowCount)));
  const asJs = new Set<number>();
  let at = 0;
  for (let i = 0; i < result.chunkCount; i++) {
    const chunk = result.getChunk(i);
    const n = chunk.rowCount;
    sinks.forEach((sink, col) => {
      if (sink === null || asJs.has(col)) return;
      try {
        sink.take(duckdb.data_chunk_get_vector(chunk.chunk, col), at, n);
      } catch (e) {
        if (!(e instanceof NeedsValues)) throw e;
        asJs.add(col);
      }
    });
    at += n;
  }
  return sinks.map((sink, col) => (sink === null || asJs.has(col) ? valuesOf(m, result, col) : sink.finish()));
}
