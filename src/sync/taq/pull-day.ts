/**
 * Pulls one TAQ day's raw rows for chosen symbols from the source (WRDS or the sample) and attaches
 * them to a DuckDB as the raw relations: `COPY (SELECT …) TO STDOUT` streams to a temporary CSV file
 * (bounded memory) whose records are counted on the way and checked against the server's count.
 * Trades, quotes and the NBBO file are attached as views over their files, so the cleaning
 * (clean-day.ts), which reads each once, parses them straight into its cleaned tables: they are
 * never copied into a table of raw rows first (bench/taq.ts measured that copy at more than half
 * of the load). The master and the quote counts, a few hundred rows, are tables.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceUnavailableError, WarehouseError } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { SqlSource } from '../wrds/client.js';
import { RAW_COLUMNS, RAW_TYPES, SYMBOL_SQL } from './clean-day.js';
import { carriesNbboSql, quoteCountSql, type SessionWindow } from './rules.js';

export type RawKind = keyof typeof RAW_COLUMNS;

/** The source relation of each raw table on `day`. */
export function taqRelations(day: string): Record<Exclude<RawKind, 'qcount'>, { schema: string; table: string }> {
  const schema = `taqm_${day.slice(0, 4)}`;
  const ymd = day.replace(/-/g, '');
  return {
    ctm: { schema, table: `ctm_${ymd}` },
    cqm: { schema, table: `cqm_${ymd}` },
    nbbo: { schema, table: `complete_nbbo_${ymd}` },
    master: { schema, table: `mastm_${ymd}` },
  };
}

/** A symbol ('BRK.B') as (sym_root, sym_suffix). */
export function splitSymbol(symbol: string): { root: string; suffix: string | null } {
  const i = symbol.indexOf('.');
  return i < 0 ? { root: symbol, suffix: null } : { root: symbol.slice(0, i), suffix: symbol.slice(i + 1) };
}

/**
 * The SELECT pulling `kind` for exactly `symbols`, given the columns the source relation has. The
 * source filters by root (what its tables are organised by) and then by the whole symbol, so a
 * root's other suffixes (BRK.A when BRK.B was asked for) never travel and the day's files hold
 * only the batch's rows: the cleaning reads them without a filter of its own (a local semi-join
 * on the symbol cost 15 % of a batch, bench/taq.ts). Of the quotes, only those carrying the NBBO
 * travel (nothing else of cqm_ feeds a dataset); `qcount` is the quote counts computed at the
 * source.
 */
export function pullSelect(kind: RawKind, day: string, symbols: readonly string[], present: ReadonlySet<string>, w: SessionWindow): string {
  const roots = [...new Set(symbols.map((s) => splitSymbol(s).root))].sort();
  const exact = [...new Set(symbols)].sort();
  const inSymbols = `sym_root IN (${roots.map(quoteLiteral).join(', ')}) AND (${SYMBOL_SQL}) IN (${exact.map(quoteLiteral).join(', ')})`;
  const rels = taqRelations(day);
  if (kind === 'qcount') return quoteCountSql(`${quoteIdent(rels.cqm.schema)}.${quoteIdent(rels.cqm.table)}`, w, inSymbols);
  const rel = rels[kind];
  const cols = RAW_COLUMNS[kind].map((c) => (present.has(c) ? quoteIdent(c) : `NULL AS ${quoteIdent(c)}`)).join(', ');
  const carrying = kind === 'cqm' ? ` AND ${carriesNbboSql('qu_source', 'natbbo_ind')}` : '';
  return `SELECT ${cols} FROM ${quoteIdent(rel.schema)}.${quoteIdent(rel.table)} WHERE ${inSymbols}${carrying}`;
}

export interface DayPlan {
  readonly day: string;
  /** The SELECTs, in the order ctm, cqm, nbbo, master, qcount. */
  readonly selects: Record<RawKind, string>;
  /** The ctm_ relation's comment and vintage. */
  readonly vintage: string | null;
}

/**
 * Counts the records of CSV text fed in pieces: line feeds outside quoted fields (a doubled quote
 * inside a quoted field toggles twice, so it changes nothing), plus an unterminated last record.
 */
export class CsvRecordCounter {
  private lines = 0;
  private quoted = false;
  private last = 10;

  feed(b: Uint8Array): void {
    if (b.length === 0) return;
    const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
    let i = 0;
    while (i < buf.length) {
      const q = buf.indexOf(34, i);
      if (!this.quoted) {
        const end = q < 0 ? buf.length : q;
        for (let n = buf.indexOf(10, i); n >= 0 && n < end; n = buf.indexOf(10, n + 1)) this.lines++;
      }
      if (q < 0) break;
      this.quoted = !this.quoted;
      i = q + 1;
    }
    this.last = buf[buf.length - 1]!;
  }

  get records(): number {
    return this.lines + (this.last === 10 ? 0 : 1);
  }
}

/** Trades, quotes and the NBBO file: read once by the cleaning, so attached as views over their files. */
const STREAMED: ReadonlySet<RawKind> = new Set<RawKind>(['ctm', 'cqm', 'nbbo']);

/** `read_csv` of a raw file in the COPY's CSV dialect, with the kind's columns and types. */
export function readRawCsvSql(kind: RawKind, file: string): string {
  const columns = `{${RAW_COLUMNS[kind].map((c) => `${quoteLiteral(c)}: ${quoteLiteral(RAW_TYPES[c]!)}`).join(', ')}}`;
  return `read_csv(${quoteLiteral(file)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = ${columns})`;
}

/** Drop `names` of the connection's default schema, whether each is a table or a view (or absent). */
export async function dropRelations(duck: Duck, names: readonly string[]): Promise<void> {
  const found = await duck.all(
    `SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (${names.map(quoteLiteral).join(', ')})`,
  );
  const order = (r: Record<string, unknown>) => names.indexOf(String(r['name']));
  for (const r of [...found.rows].sort((a, b) => order(a) - order(b))) await duck.run(`DROP ${r.type === 'VIEW' ? 'VIEW' : 'TABLE'} IF EXISTS ${quoteIdent(String(r.name))}`);
}

/**
 * Attach raw files as the relations `raw_<kind>` (files as pullSelect pulls them: exactly the
 * batch's symbols). The files must stay until the batch is cleaned. No temporary tables: DuckDB
 * kept the memory of dropped ones (day-batches.ts).
 */
export async function attachRawFiles(duck: Duck, files: Partial<Record<RawKind, string>>): Promise<void> {
  const kinds = Object.keys(files) as RawKind[];
  await dropRelations(duck, kinds.map((k) => `raw_${k}`));
  for (const kind of kinds) await duck.run(`CREATE ${STREAMED.has(kind) ? 'VIEW' : 'TABLE'} raw_${kind} AS SELECT * FROM ${readRawCsvSql(kind, files[kind]!)}`);
}

/** A batch's raw files, pulled and counted; `release` deletes them. */
export interface PulledBatch {
  readonly files: Record<RawKind, string>;
  readonly rows: Record<RawKind, number>;
  release(): Promise<void>;
}

/**
 * Pulls a batch's rows of the day into temporary files named by `tag` (unique among the batches
 * alive at once), checking each table's record count against the server's. Touches no DuckDB, so
 * the next batch can be pulled while one is cleaned; attach the files with attachRawFiles.
 */
export async function pullBatch(source: SqlSource, plan: DayPlan, tmpDir: string, tag: string): Promise<PulledBatch> {
  const rows = {} as Record<RawKind, number>;
  const files = {} as Record<RawKind, string>;
  const release = async () => {
    for (const f of Object.values(files)) await rm(f, { force: true });
  };
  try {
    for (const kind of Object.keys(RAW_COLUMNS) as RawKind[]) {
      const file = join(tmpDir, `taq-${process.pid}-${plan.day}-${tag}-${kind}.csv`);
      files[kind] = file;
      const stream = await source.copyOut(plan.selects[kind]);
      const counter = new CsvRecordCounter();
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          counter.feed(chunk);
          done(null, chunk);
        },
      });
      await pipeline(stream, count, createWriteStream(file));
      const expected = (stream as { rowCount?: number }).rowCount;
      if (expected !== undefined && expected !== counter.records) {
        throw new SourceUnavailableError(`${plan.selects[kind]}: the server sent ${expected} rows but ${counter.records} arrived`, {
          suggestion: 'the connection was cut mid-transfer; rerun (committed days are kept)',
        });
      }
      rows[kind] = counter.records;
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { files, rows, release };
}
