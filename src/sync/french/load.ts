/**
 * Loading a Kenneth French file into the warehouse: every section becomes one partition of the
 * file's dataset, written through the shared write path under the dataset's lease, with the
 * file's CRSP vintage in its lineage. The whole file is parsed and staged before the lease is
 * taken, so a malformed file records nothing at all.
 *
 * Datasets are wide: `date`, one DOUBLE column per series, then `period` (the date as the file
 * writes it), `section` (= the partition key), `frequency`, `unit` and `vintage`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import {
  WarehouseError,
  eventCatalog,
  isWarehouseError,
  withLease,
  type Column,
  type EventLog,
  type Lease,
  type Lineage,
} from '../../log/index.js';
import { manifestAt } from '../../projections/index.js';
import { openDuck, quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { StatFs } from '../../store/index.js';
import type { StepHook } from '../../store/index.js';
import { writePartition } from '../../store/index.js';
import { LineSplitter } from './lines.js';
import { datasetForFile, type FrenchFrequency, type FrenchUnit } from './naming.js';
import { FrenchParser, type FrenchFileInfo } from './parser.js';
import { readFrenchSource, type FrenchSourceRead } from './source.js';
import { FrenchStaging, type StagedSection } from './staging.js';

export interface LoadFrenchOptions {
  readonly dir: string;
  readonly log: EventLog;
  /** A local .CSV or .zip path, or an http(s) URL of either. */
  readonly source: string;
  /** Dataset to write; by default `french_<family>` from the file name (see `datasetForFile`). */
  readonly dataset?: string;
  readonly whVersion: string;
  readonly logger?: Logger;
  /** Accept a removed series or changed type (recorded as accepted drift). */
  readonly acceptDrift?: boolean;
  /** Write even if every partition already came from these exact bytes with this wh version. */
  readonly force?: boolean;
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly statfs?: StatFs;
  readonly onStep?: StepHook;
  readonly leaseTtlMs?: number;
}

export interface FrenchPartitionOutcome {
  readonly partition: string;
  readonly title: string | null;
  readonly frequency: FrenchFrequency;
  readonly unit: FrenchUnit;
  readonly rows: number;
  readonly status: 'written' | 'unchanged';
  readonly object: string;
  /** Seq of the PartitionWritten holding this partition's current version. */
  readonly seq: number;
}

export interface LoadFrenchResult {
  readonly dataset: string;
  /** 'unchanged' when nothing new was written. */
  readonly status: 'loaded' | 'unchanged';
  readonly source: string;
  readonly name: string;
  readonly sourceHash: string;
  readonly vintage: string | null;
  readonly partitions: readonly FrenchPartitionOutcome[];
}

const silent = pino({ level: 'silent' });
const FIXED_TAIL: readonly Column[] = [
  { name: 'period', type: 'INTEGER' },
  { name: 'section', type: 'VARCHAR' },
  { name: 'frequency', type: 'VARCHAR' },
  { name: 'unit', type: 'VARCHAR' },
  { name: 'vintage', type: 'VARCHAR' },
];

/** Parse and stage the whole source; nothing touches the log. */
async function stage(o: LoadFrenchOptions, staging: FrenchStaging): Promise<{ read: FrenchSourceRead; file: FrenchFileInfo }> {
  const parser = new FrenchParser(staging, o.source);
  const lines = new LineSplitter();
  const read = await readFrenchSource(
    o.source,
    async (text) => {
      for (const l of lines.push(text)) parser.line(l);
      await staging.flush();
    },
    { maxBytes: o.maxBytes, timeoutMs: o.timeoutMs },
  );
  for (const l of lines.end()) parser.line(l);
  const file = parser.end();
  await staging.flush();
  return { read, file };
}

function checkDatasetName(name: string): string {
  const r = eventCatalog().datasetNameSchema.safeParse(name);
  if (!r.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${name.slice(0, 80)}" is not a valid dataset name: ${r.error.issues[0]?.message}`, {
      suggestion: 'dataset names are lowercase letters, digits and _ starting with a letter, e.g. french_ff3',
    });
  }
  return name;
}

/** The dataset's columns: the union of every section's series, in order of first appearance. */
function columnsOf(sections: readonly StagedSection[]): Column[] {
  const series = [...new Set(sections.flatMap((s) => s.info.columns))];
  return [{ name: 'date', type: 'DATE' }, ...series.map((name) => ({ name, type: 'DOUBLE' })), ...FIXED_TAIL];
}

function selectFor(s: StagedSection, columns: readonly Column[], vintage: string | null): string {
  const spec = [['date', 'DATE'], ['period', 'INTEGER'], ...s.info.columns.map((c) => [c, 'DOUBLE'])].map(([n, t]) => `${quoteLiteral(n!)}: ${quoteLiteral(t!)}`).join(', ');
  const own = new Set(s.info.columns);
  const fixed: Record<string, string> = {
    period: 'period',
    section: quoteLiteral(s.info.key),
    frequency: quoteLiteral(s.info.frequency),
    unit: quoteLiteral(s.info.unit),
    vintage: vintage === null ? 'CAST(NULL AS VARCHAR)' : quoteLiteral(vintage),
  };
  const list = columns.map((c) => {
    if (c.name === 'date') return 'date';
    const f = fixed[c.name];
    if (f !== undefined) return `${f} AS ${quoteIdent(c.name)}`;
    return own.has(c.name) ? quoteIdent(c.name) : `CAST(NULL AS DOUBLE) AS ${quoteIdent(c.name)}`;
  });
  return `SELECT ${list.join(', ')} FROM read_csv(${quoteLiteral(s.path)}, header = false, auto_detect = false, delim = ',', quote = '"', nullstr = '', columns = {${spec}}) ORDER BY date`;
}

/** Every partition of the file already current from these bytes and this wh version? */
function alreadyLoaded(o: LoadFrenchOptions, dataset: string, sections: readonly StagedSection[], sha256: string): FrenchPartitionOutcome[] | null {
  const current = manifestAt(o.log, undefined, dataset);
  const out: FrenchPartitionOutcome[] = [];
  for (const s of sections) {
    const m = current.find((e) => e.partition === s.info.key);
    const e = m === undefined ? undefined : o.log.get(m.writtenSeq);
    if (m === undefined || e?.type !== 'PartitionWritten' || e.data.lineage.sourceHash !== sha256 || e.data.lineage.whVersion !== o.whVersion) return null;
    out.push(outcome(s, 'unchanged', m.object, m.writtenSeq));
  }
  return out;
}

const outcome = (s: StagedSection, status: 'written' | 'unchanged', object: string, seq: number): FrenchPartitionOutcome => ({
  partition: s.info.key,
  title: s.info.title,
  frequency: s.info.frequency,
  unit: s.info.unit,
  rows: s.rows,
  status,
  object,
  seq,
});

interface WriteAll {
  readonly o: LoadFrenchOptions;
  readonly duck: Duck;
  readonly lease: Lease;
  readonly dataset: string;
  readonly staging: FrenchStaging;
  readonly lineage: Lineage;
  readonly logger: Logger;
}

async function writeSections(w: WriteAll): Promise<FrenchPartitionOutcome[]> {
  const columns = columnsOf(w.staging.sections);
  const out: FrenchPartitionOutcome[] = [];
  for (const s of w.staging.sections) {
    const res = await writePartition(
      { dir: w.o.dir, log: w.o.log, duck: w.duck, lease: w.lease, logger: w.logger, statfs: w.o.statfs, onStep: w.o.onStep },
      {
        dataset: w.dataset,
        partition: s.info.key,
        selectSql: selectFor(s, columns, w.lineage.vintage),
        columns,
        key: ['section', 'date'],
        sortKey: ['section', 'date'],
        estimatedBytes: Math.max(1 << 16, await w.staging.bytes(s)),
        acceptDrift: w.o.acceptDrift,
        lineage: w.lineage,
        validate: async (_tmp, rows) => (rows === s.rows ? null : { rule: 'row_count', message: `parsed ${s.rows} rows of section ${s.info.key} but wrote ${rows}` }),
      },
    );
    out.push(outcome(s, res.status, res.entry.object, res.entry.writtenSeq));
  }
  return out;
}

/**
 * Load one French file (path, zip or URL) as partitions of a dataset.
 * @throws ValidationError for a malformed file (nothing recorded), SourceUnavailableError when a
 * URL cannot be fetched, LeaseHeldError if another writer holds the dataset, WarehouseError
 * `SCHEMA_DRIFT` when French changed the series (rerun with `acceptDrift`).
 * @example
 * ```ts
 * const res = await loadFrenchFile({ dir, log, source: 'F-F_Research_Data_Factors.CSV', whVersion: '0.1.0' });
 * res.dataset;                                // 'french_ff3'
 * res.partitions.map((p) => p.partition);     // ['monthly', 'annual']
 * res.vintage;                                // '202408'
 * ```
 */
export async function loadFrenchFile(o: LoadFrenchOptions): Promise<LoadFrenchResult> {
  const logger = (o.logger ?? silent).child({ source: o.source });
  if (o.dataset !== undefined) checkDatasetName(o.dataset);
  const staging = new FrenchStaging(o.dir);
  try {
    const { read, file } = await stage(o, staging);
    const dataset = checkDatasetName(o.dataset ?? datasetForFile(read.name));
    const base = { dataset, source: read.source, name: read.name, sourceHash: read.sha256, vintage: file.vintage };
    const skip = o.force ? null : alreadyLoaded(o, dataset, staging.sections, read.sha256);
    if (skip !== null) {
      logger.info({ dataset, vintage: file.vintage }, 'same bytes already loaded; nothing written');
      return { ...base, status: 'unchanged', partitions: skip };
    }
    const partitions = await commit({ o, dataset, staging, read, file, logger });
    for (const p of partitions) logger.info({ dataset, partition: p.partition, status: p.status, rows: p.rows }, 'french section');
    return { ...base, status: partitions.some((p) => p.status === 'written') ? 'loaded' : 'unchanged', partitions };
  } finally {
    await staging.dispose();
  }
}

interface Commit {
  readonly o: LoadFrenchOptions;
  readonly dataset: string;
  readonly staging: FrenchStaging;
  readonly read: FrenchSourceRead;
  readonly file: FrenchFileInfo;
  readonly logger: Logger;
}

/** Under the dataset's lease: SyncStarted, one write per section, then SyncCompleted (or SyncFailed). */
async function commit(c: Commit): Promise<FrenchPartitionOutcome[]> {
  const { o, dataset, file, read } = c;
  const lineage: Lineage = { kind: 'sync', source: read.source, sourceHash: read.sha256, sql: null, vintage: file.vintage, whVersion: o.whVersion };
  const duck = await openDuck({ threads: 2, tempDirectory: join(c.staging.dir, 'duckdb') });
  try {
    return await withLease(o.log, `dataset:${dataset}`, { purpose: `french load ${dataset}`, ttlMs: o.leaseTtlMs }, async (lease) => {
      const runId = randomUUID();
      const started = Date.now();
      const partitions = c.staging.sections.map((s) => s.info.key);
      const comment = file.preamble.split('\n')[0]?.slice(0, 500) ?? null;
      o.log.append([{ type: 'SyncStarted', data: { runId, dataset, source: read.source, vintage: file.vintage, comment, partitions, full: true } }], lease);
      try {
        const out = await writeSections({ o, duck, lease, dataset, staging: c.staging, lineage, logger: c.logger });
        const n = (st: string) => out.filter((p) => p.status === st).length;
        const rows = out.reduce((t, p) => t + p.rows, 0);
        o.log.append([{ type: 'SyncCompleted', data: { runId, dataset, vintage: file.vintage, written: n('written'), unchanged: n('unchanged'), skipped: 0, rows, durationMs: Date.now() - started } }], lease);
        return out;
      } catch (e) {
        throw recordFailure(o.log, lease, runId, dataset, e);
      }
    });
  } finally {
    duck.close();
  }
}

/** Record SyncFailed if the log still takes it; returns the error to rethrow. */
function recordFailure(log: EventLog, lease: Lease, runId: string, dataset: string, e: unknown): WarehouseError {
  const err = isWarehouseError(e) ? e : new WarehouseError('IO_ERROR', (e as Error).message, { cause: e });
  try {
    log.append([{ type: 'SyncFailed', data: { runId, dataset, partition: null, code: err.code, message: err.message } }], lease);
  } catch {
    // Fenced out or log unwritable: the failure still reaches the caller.
  }
  return err;
}
