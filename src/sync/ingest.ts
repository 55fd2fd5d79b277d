/**
 * Bring-your-own-data ingest: a CSV or Parquet file becomes one partition of a dataset, through the
 * same write path sync uses. The file is validated first (readable, typed, key unique and not
 * null when a key is declared); a bad file is refused and nothing is recorded.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve, extname } from 'node:path';
import type { Logger } from 'pino';
import {
  ValidationError,
  eventCatalog,
  WarehouseError,
  withLease,
  type Column,
  type EventLog,
} from '../log/index.js';
import { openDuck, quoteIdent, quoteLiteral, type Duck } from '../engine/index.js';
import { schemaOf } from '../projections/index.js';
import type { StatFs } from '../store/index.js';
import { hashFile } from '../store/index.js';
import type { StepHook } from '../store/index.js';
import { writePartition, reportHealth, type PartitionWriteResult, type HealthReportData } from '../store/index.js';

export interface IngestOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly dataset: string;
  readonly partition: string;
  readonly file: string;
  /** Key columns (unique, not null); defaults to the key registered for the dataset. */
  readonly key?: readonly string[];
  readonly acceptDrift?: boolean;
  readonly whVersion: string;
  readonly logger?: Logger;
  readonly statfs?: StatFs;
  readonly onStep?: StepHook;
  readonly leaseTtlMs?: number;
}

export type IngestResult = PartitionWriteResult & { readonly dataset: string; readonly partition: string; readonly health?: HealthReportData | null };

/** Validate a dataset name and partition key (no paths, no SQL). */
export function validateNames(dataset: string, partition: string): void {
  const d = eventCatalog().datasetNameSchema.safeParse(dataset);
  if (!d.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${dataset}" is not a valid dataset name: ${d.error.issues[0]?.message}`, {
      suggestion: 'dataset names are lowercase letters, digits and _ starting with a letter, e.g. crsp_dsf',
    });
  }
  const p = eventCatalog().partitionKeySchema.safeParse(partition);
  if (!p.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${partition}" is not a valid partition key: ${p.error.issues[0]?.message}`, {
      suggestion: 'partition keys are like 2024, 2024-01 or all (letters, digits, _ . -; no slashes)',
    });
  }
}

function readerFor(file: string): string {
  const ext = extname(file.replace(/\.gz$/i, '')).toLowerCase();
  if (ext === '.parquet') return `read_parquet(${quoteLiteral(file)})`;
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') {
    // Pin the delimiter the extension promises and read strictly: left to itself, the sniffer
    // "succeeds" on a ragged file by reading each whole line as one column, or skips the rows
    // before a ragged one as a preamble. Quotes, escapes and types are still detected.
    const delim = ext === '.csv' ? `delim = ',', ` : ext === '.tsv' ? `delim = '\\t', ` : '';
    return `read_csv(${quoteLiteral(file)}, header = true, auto_detect = true, ${delim}skip = 0, strict_mode = true, null_padding = false)`;
  }
  throw new WarehouseError('INVALID_ARGUMENT', `cannot ingest ${file}: unknown file type "${ext}"`, { suggestion: 'give a .csv, .csv.gz or .parquet file' });
}

async function inspect(duck: Duck, file: string, key: readonly string[]): Promise<{ columns: Column[]; rows: number }> {
  let columns: Column[];
  let rows: number;
  try {
    await duck.run(`CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM ${readerFor(file)}`);
    const desc = await duck.all('DESCRIBE src');
    columns = desc.rows.map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
    rows = Number((await duck.all('SELECT count(*) AS n FROM src')).rows[0]?.['n'] ?? 0);
  } catch (e) {
    if (e instanceof WarehouseError) throw e;
    throw new ValidationError(`cannot read ${file}: ${(e as Error).message.split('\n')[0]}`, {
      suggestion: 'check that the file is a well-formed CSV (header row, same number of fields on every line) or Parquet file',
      cause: e,
    });
  }
  if (rows === 0) throw new ValidationError(`${file} has no rows`, { suggestion: 'ingest a file with at least one data row' });
  const only = columns.length === 1 ? columns[0]!.name : undefined;
  if (only !== undefined && /[,;\t|]/.test(only)) {
    // Whole lines read as one column: ragged rows (auto-detected delimiter) or the wrong delimiter for the extension.
    throw new ValidationError(`cannot read ${file}: it parses as a single column named "${only}"`, {
      suggestion: 'give every line the same number of fields; name comma-separated files .csv, tab-separated .tsv, or use .txt to have the delimiter detected',
    });
  }
  const names = new Set(columns.map((c) => c.name));
  const missing = key.filter((k) => !names.has(k));
  if (missing.length > 0) {
    throw new ValidationError(`key column(s) ${missing.join(', ')} not in ${file} (columns: ${[...names].join(', ')})`, {
      suggestion: 'fix --key to name existing columns',
    });
  }
  if (key.length > 0) {
    const k = key.map(quoteIdent).join(', ');
    const nulls = Number((await duck.all(`SELECT count(*) AS n FROM src WHERE ${key.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ')}`)).rows[0]?.['n'] ?? 0);
    if (nulls > 0) throw new ValidationError(`${nulls} row(s) of ${file} have a NULL key (${key.join(', ')})`, { suggestion: 'every row needs a key value; fix the file' });
    const dup = await duck.all(`SELECT ${k}, count(*) AS copies FROM src GROUP BY ${k} HAVING count(*) > 1 ORDER BY copies DESC LIMIT 1`);
    const first = dup.rows[0];
    if (first !== undefined) {
      const shown = key.map((c) => `${c}=${String(first[c])}`).join(', ');
      throw new ValidationError(`duplicate key in ${file}: ${shown} appears ${String(first['copies'])} times`, {
        suggestion: 'each key must be unique within a partition; deduplicate the file or declare a longer --key',
      });
    }
  }
  return { columns, rows };
}

/**
 * Ingest `file` as `dataset/partition` under the dataset's lease.
 * @throws ValidationError for a bad file (nothing recorded), LeaseHeldError if another writer holds the dataset.
 */
export async function ingestFile(options: IngestOptions): Promise<IngestResult> {
  validateNames(options.dataset, options.partition);
  const file = resolve(options.file);
  if (!existsSync(file)) throw new WarehouseError('INVALID_ARGUMENT', `no such file: ${file}`, { suggestion: 'check the path' });
  if (statSync(file).isDirectory()) {
    throw new WarehouseError('INVALID_ARGUMENT', `${file} is a directory, not a file`, { suggestion: 'ingest one .csv, .csv.gz or .parquet file per partition (e.g. a shell loop over the directory)' });
  }
  if (!statSync(file).isFile()) throw new WarehouseError('INVALID_ARGUMENT', `${file} is not a regular file`, { suggestion: 'give a .csv, .csv.gz or .parquet file' });
  const key = options.key ?? schemaOf(options.log, options.dataset)?.key ?? [];
  const duck = await openDuck({ threads: 2 });
  try {
    const { columns } = await inspect(duck, file, key);
    const { hash } = await hashFile(file);
    const order = key.length > 0 ? ` ORDER BY ${key.map(quoteIdent).join(', ')}` : '';
    return await withLease(options.log, `dataset:${options.dataset}`, { purpose: `ingest ${options.dataset}/${options.partition}`, ttlMs: options.leaseTtlMs }, async (lease) => {
      const before = options.log.head().seq;
      const res = await writePartition(
        { dir: options.dir, log: options.log, duck, lease, logger: options.logger, statfs: options.statfs, onStep: options.onStep },
        {
          dataset: options.dataset,
          partition: options.partition,
          selectSql: `SELECT * FROM src${order}`,
          columns,
          key,
          sortKey: key,
          estimatedBytes: statSync(file).size,
          acceptDrift: options.acceptDrift,
          lineage: { kind: 'ingest', source: file, sourceHash: hash, sql: null, vintage: null, whVersion: options.whVersion },
        },
      );
      if (res.status !== 'written') return { ...res, dataset: options.dataset, partition: options.partition };
      const health = await reportHealth({ dir: options.dir, log: options.log, duck, dataset: options.dataset, trigger: 'ingest', previousSeq: before, logger: options.logger }).catch((e: Error) => {
        options.logger?.warn({ err: e.message }, 'health report failed; the ingest itself is committed');
        return null;
      });
      return { ...res, dataset: options.dataset, partition: options.partition, health };
    });
  } finally {
    duck.close();
  }
}
