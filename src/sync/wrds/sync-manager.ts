/**
 * The sync manager: for each dataset, compare the source's vintage with the last completed sync
 * (unchanged ⇒ nothing at all is written, not even a lease event), then under the dataset's lease
 * and for each partition: fingerprint the source rows server-side, skip the partition if the
 * object already recorded came from identical rows (this is also how a killed sync resumes),
 * otherwise stream COPY → FIFO → DuckDB → sorted Parquet, validate, and commit PartitionWritten
 * with its lineage. Everything is recorded as fenced events: SyncStarted, PartitionWritten,
 * QuarantineAdded, SyncCompleted or SyncFailed.
 */
import { randomUUID } from 'node:crypto';
import { rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { SourceUnavailableError, WarehouseError, isWarehouseError, staleLeasesBrokenBy, withLease, type EventLog, type Lease, type StoredEvent } from '../../log/index.js';
import { manifestAt, syncRunOf, type CompletedRun, type ManifestEntry } from '../../projections/index.js';
import { makeOwnedTempDir } from '../../store/index.js';
import { openDuck, quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import type { SqlSource } from './client.js';
import { pool } from '../worker-pool.js';
import type { StatFs } from '../../store/index.js';
import type { StepHook } from '../../store/index.js';
import { refreshCatalogQuietly, reportHealth, writePartition, type HealthReportData } from '../../store/index.js';
import type { DatasetDef } from './catalogue.js';
import { createFifoFeed, makeFifos } from './fifo-feed.js';
import { Gate } from './gate.js';
import { duckType, type NumericPolicy, type SourceColumn } from './type-map.js';
import { validatePartition } from './validate.js';
import { parseVintage } from './vintage.js';

export interface SyncProgress {
  readonly dataset: string;
  readonly partition: string;
  readonly index: number;
  readonly total: number;
  readonly status: 'started' | 'written' | 'unchanged' | 'skipped' | 'failed';
  readonly rows: number;
  readonly elapsedMs: number;
}

export interface SyncOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly source: SqlSource;
  readonly datasets: readonly DatasetDef[];
  readonly years?: { from: number; to: number };
  /** Re-pull every partition even if its source rows are unchanged. */
  readonly full?: boolean;
  /** Run even if the source vintage has not changed. */
  readonly force?: boolean;
  /** Plan only: what would be pulled. Writes nothing. */
  readonly dryRun?: boolean;
  readonly numericPolicy?: NumericPolicy;
  /** Accept a removed column or changed type at the source (recorded as accepted drift). */
  readonly acceptDrift?: boolean;
  readonly whVersion: string;
  readonly logger?: Logger;
  readonly onProgress?: (p: SyncProgress) => void;
  readonly statfs?: StatFs;
  readonly onStep?: StepHook;
  readonly leaseTtlMs?: number;
  /** Partitions in flight (1-3; default 2), each with its own one-thread DuckDB. Transfers from the source run one at a
   *  time; the encoding, validation and commit of one partition overlap the transfer of the next. */
  readonly concurrency?: number;
  /** Alert (late_data) when a dataset's source vintage is older than this many days. */
  readonly lateAfterDays?: number;
  /** Duration SLOs (ms): a longer sync records a duration_slo_breach alert. */
  readonly sloMs?: { full: number; incremental: number };
}

export interface PartitionOutcome {
  readonly partition: string;
  readonly status: 'written' | 'unchanged' | 'skipped' | 'planned';
  readonly rows: number;
}

export interface DatasetSyncResult {
  readonly dataset: string;
  readonly status: 'synced' | 'unchanged' | 'planned' | 'failed';
  readonly vintage: string | null;
  readonly partitions: readonly PartitionOutcome[];
  readonly rows: number;
  readonly durationMs: number;
  readonly error?: { code: string; message: string; suggestion?: string };
  /** The health report recorded after the write (absent when nothing was written). */
  readonly health?: HealthReportData | null;
}

const silent = pino({ level: 'silent' });

/** The last completed sync of a dataset, if any (the sync-runs projection: one indexed read). */
export function lastCompleted(log: EventLog, dataset: string): CompletedRun | undefined {
  return syncRunOf(log, dataset)?.lastCompleted ?? undefined;
}

async function partitionsOf(source: SqlSource, def: DatasetDef, years: SyncOptions['years']): Promise<string[]> {
  if (def.yearColumn === undefined) return ['all'];
  const c = quoteIdent(def.yearColumn);
  const [r] = await source.query<{ lo: number | null; hi: number | null }>(
    `SELECT extract(year FROM min(${c}))::int AS lo, extract(year FROM max(${c}))::int AS hi FROM ${quoteIdent(def.schema)}.${quoteIdent(def.table)}`,
  );
  if (r?.lo == null || r.hi == null) return [];
  const out: string[] = [];
  for (let y = Math.max(r.lo, years?.from ?? r.lo); y <= Math.min(r.hi, years?.to ?? r.hi); y++) out.push(String(y));
  return out;
}

/**
 * DuckDB's CSV read buffer. Its default (32 MiB) is allocated per read of a pipe whatever the
 * partition's size; 2 MiB (the longest line DuckDB accepts by default) keeps a sync's peak
 * resident size at scale 10 within 1.15x of scale 1 instead of 1.25x, and costs no speed.
 */
const CSV_BUFFER_BYTES = 2 * 1024 * 1024;

const TEXT_TYPES = new Set(['character varying', 'character', 'text']);

/**
 * The order asked of the source: the sort key, then, unless a key leading the sort key already
 * makes the order total, every other column, so a partition's rows (and so its bytes and hash)
 * are the same on every pull. Text compares bytewise (COLLATE "C"), as DuckDB compares it.
 */
export function sourceOrder(def: DatasetDef, columns: readonly SourceColumn[]): string[] {
  const keyLeads = def.key.length > 0 && def.key.every((k) => def.sortKey.slice(0, def.key.length).includes(k));
  if (keyLeads) return [...def.sortKey];
  return [...def.sortKey, ...columns.map((c) => c.name).filter((n) => !def.sortKey.includes(n))];
}

/** The partition's query: its rows, sorted by the server (so wh streams them instead of sorting). */
export function selectFor(def: DatasetDef, columns: readonly SourceColumn[], partition: string): string {
  const cols = columns.map((c) => quoteIdent(c.name)).join(', ');
  const from = `${quoteIdent(def.schema)}.${quoteIdent(def.table)}`;
  const text = new Set(columns.filter((c) => TEXT_TYPES.has(c.dataType)).map((c) => c.name));
  const order = sourceOrder(def, columns);
  const orderBy = order.length > 0 ? ` ORDER BY ${order.map((n) => (text.has(n) ? `${quoteIdent(n)} COLLATE "C"` : quoteIdent(n))).join(', ')}` : '';
  if (partition === 'all' || def.yearColumn === undefined) return `SELECT ${cols} FROM ${from}${orderBy}`;
  const y = Number(partition);
  const c = quoteIdent(def.yearColumn);
  return `SELECT ${cols} FROM ${from} WHERE ${c} >= '${y}-01-01' AND ${c} < '${y + 1}-01-01'${orderBy}`;
}

/** Sync every dataset in turn; a failing dataset does not stop the others. */
export async function syncDatasets(options: SyncOptions): Promise<DatasetSyncResult[]> {
  const results: DatasetSyncResult[] = [];
  const workers = Math.max(1, Math.min(3, options.concurrency ?? 2));
  // The FIFOs and DuckDB's spill files go to a directory this process owns: `wh gc` (under the
  // warehouse lease, which a sync does not hold) leaves it alone while the sync runs and collects
  // it after a crash.
  const spill = makeOwnedTempDir(options.dir, 'sync');
  // One DuckDB per worker (a connection runs one query at a time), each with bounded memory. They
  // open (about 0.1 s, more when DuckDB's library loads) while the source answers the first
  // questions: credentials, comment, columns and the year range, which scans the table.
  const opening = Array.from({ length: workers }, () => openDuck({ threads: 1, memoryLimit: '128MB', tempDirectory: join(spill, 'duckdb'), returnMemory: true }));
  for (const d of opening) d.catch(() => undefined); // a failure surfaces where a dataset awaits them, not as an unhandled rejection
  const ducks = async (): Promise<Duck[]> => Promise.all(opening);
  try {
    await checkCredentialExpiry(options);
    for (const def of options.datasets) results.push(await syncOne(options, def, ducks, spill));
  } finally {
    for (const d of await Promise.allSettled(opening)) if (d.status === 'fulfilled') d.value.close();
    rmSync(spill, { recursive: true, force: true });
  }
  return results;
}

async function syncOne(o: SyncOptions, def: DatasetDef, openedDucks: () => Promise<readonly Duck[]>, work: string): Promise<DatasetSyncResult> {
  const logger = (o.logger ?? silent).child({ dataset: def.name });
  const started = Date.now();
  const base = { dataset: def.name, partitions: [] as PartitionOutcome[], rows: 0 };
  let vintage: string | null = null;
  try {
    const comment = await o.source.comment(def.schema, def.table);
    vintage = parseVintage(comment);
    const last = lastCompleted(o.log, def.name);
    if (!o.force && !o.full && !o.dryRun && last !== undefined && vintage !== null && last.vintage === vintage) {
      logger.info({ vintage }, 'source vintage unchanged; skipped');
      const ageDays = (Date.now() - Date.parse(`${vintage}T00:00:00Z`)) / 86_400_000;
      if (o.lateAfterDays !== undefined && ageDays > o.lateAfterDays) {
        const message = `${def.schema}.${def.table} has not been updated since ${vintage} (${Math.floor(ageDays)} days; expected within ${o.lateAfterDays})`;
        o.log.append([{ type: 'SyncAlert', data: { alert: 'late_data', dataset: def.name, message } }]);
        logger.warn({ alert: 'late_data', vintage }, message);
      }
      return { ...base, status: 'unchanged', vintage, durationMs: Date.now() - started };
    }
    const srcCols = (await o.source.columns(def.schema, def.table)).filter((c) => !(def.exclude ?? []).includes(c.name));
    if (srcCols.length === 0) {
      throw new SourceUnavailableError(`${def.schema}.${def.table} does not exist on the source (or has no readable columns)`, {
        suggestion: 'check the WRDS subscription covers it, or the dataset definition',
      });
    }
    const parts = await partitionsOf(o.source, def, o.years);
    if (o.dryRun) {
      return { ...base, status: 'planned', vintage, partitions: parts.map((p) => ({ partition: p, status: 'planned' as const, rows: 0 })), durationMs: Date.now() - started };
    }
    const ducks = await openedDucks();
    return await withLease(o.log, `dataset:${def.name}`, { purpose: `sync ${def.name}`, ttlMs: o.leaseTtlMs }, async (lease) => {
      const runId = randomUUID();
      for (const broken of staleLeasesBrokenBy(o.log, lease)) {
        if (broken.type !== 'LeaseBroken') continue;
        const holder = broken.data.previousHolder;
        const message = `took over a stale lease on ${broken.data.scope} (epoch ${broken.data.epoch}, pid ${holder.pid}@${holder.host}): ${broken.data.reason}`;
        o.log.append([{ type: 'SyncAlert', data: { alert: 'stale_lock', dataset: def.name, message } }]);
        logger.warn({ alert: 'stale_lock', holder }, message);
      }
      const before = o.log.head().seq;
      o.log.append([{ type: 'SyncStarted', data: { runId, dataset: def.name, source: `${def.schema}.${def.table}`, vintage, comment, partitions: parts, full: o.full ?? false } }], lease);
      let rows = 0;
      let current = '';
      let done = 0;
      const fifos = makeFifos(join(work, 'fifo'), parts.length);
      const transfer = new Gate();
      try {
        await pool(parts, ducks, async (partition, i, duck) => {
          current = partition;
          const outcome = await syncPartition(o, def, duck, lease, srcCols, fifos[i]!, transfer, partition, vintage, logger, (status, r) =>
            o.onProgress?.({ dataset: def.name, partition, index: status === 'started' ? done : done++, total: parts.length, status, rows: r, elapsedMs: Date.now() - started }),
          );
          base.partitions.push(outcome);
          rows += outcome.rows;
          return outcome;
        });
      } catch (e) {
        const err = isWarehouseError(e) ? e : new WarehouseError('IO_ERROR', (e as Error).message, { cause: e });
        if (base.partitions.some((p) => p.status === 'written')) await refreshCatalogQuietly(o.dir, o.log, logger);
        try {
          o.log.append([{ type: 'SyncFailed', data: { runId, dataset: def.name, partition: current || null, code: err.code, message: err.message } }], lease);
        } catch {
          // Fenced out or log unwritable: the failure is still reported to the caller.
        }
        throw err;
      } finally {
        for (const f of fifos) rmSync(f, { force: true });
        try {
          rmdirSync(join(work, 'fifo'));
        } catch {
          // Already gone.
        }
      }
      base.partitions.sort((a, b) => parts.indexOf(a.partition) - parts.indexOf(b.partition));
      if (base.partitions.some((p) => p.status === 'written')) await refreshCatalogQuietly(o.dir, o.log, logger);
      const durationMs = Date.now() - started;
      const count = (s: PartitionOutcome['status']) => base.partitions.filter((p) => p.status === s).length;
      o.log.append([{ type: 'SyncCompleted', data: { runId, dataset: def.name, vintage, written: count('written'), unchanged: count('unchanged'), skipped: count('skipped'), rows, durationMs } }], lease);
      const slo = o.full ? (o.sloMs?.full ?? 4 * 3600_000) : (o.sloMs?.incremental ?? 3600_000);
      if (durationMs > slo) {
        const message = `sync of ${def.name} took ${(durationMs / 60_000).toFixed(1)} min (SLO ${(slo / 60_000).toFixed(0)} min)`;
        o.log.append([{ type: 'SyncAlert', data: { alert: 'duration_slo_breach', dataset: def.name, message } }]);
        logger.warn({ alert: 'duration_slo_breach', durationMs }, message);
      }
      const health = base.partitions.some((p) => p.status === 'written')
        ? await reportHealth({ dir: o.dir, log: o.log, duck: ducks[0]!, dataset: def.name, trigger: 'sync', previousSeq: before, logger }).catch((e: Error) => {
            logger.warn({ err: e.message }, 'health report failed; the sync itself is committed');
            return null;
          })
        : undefined;
      return { ...base, status: 'synced' as const, vintage, rows, durationMs, ...(health === undefined ? {} : { health }) };
    });
  } catch (e) {
    const err = isWarehouseError(e) ? e : new WarehouseError('IO_ERROR', (e as Error).message, { cause: e });
    logger.error({ code: err.code }, err.message);
    return { ...base, status: 'failed', vintage, durationMs: Date.now() - started, error: { code: err.code, message: err.message, suggestion: err.suggestion } };
  }
}

async function syncPartition(
  o: SyncOptions,
  def: DatasetDef,
  duck: Duck,
  lease: Lease,
  srcCols: readonly SourceColumn[],
  fifo: string,
  transfer: Gate,
  partition: string,
  vintage: string | null,
  logger: Logger,
  progress: (status: SyncProgress['status'], rows: number) => void,
): Promise<PartitionOutcome> {
  const select = selectFor(def, srcCols, partition);
  const current: ManifestEntry | undefined = manifestAt(o.log, undefined, def.name).find((m) => m.partition === partition);
  // Resume and incremental: a partition already pulled from this vintage with the same query is
  // done. Otherwise it is pulled again; identical content writes no event (status 'unchanged').
  if (current !== undefined && !o.full && vintage !== null) {
    const e = o.log.get(current.writtenSeq);
    if (e?.type === 'PartitionWritten' && e.data.lineage.vintage === vintage && e.data.lineage.sql === select) {
      progress('skipped', 0);
      return { partition, status: 'skipped', rows: 0 };
    }
  }
  progress('started', 0);
  // One transfer at a time, as a raw COPY would run: the server plans, scans and sorts a
  // partition, then streams it, while this and the other workers' DuckDB encode, validate and
  // commit what already arrived. Concurrent transfers ran in lockstep instead (all waiting on the
  // server, then all encoding while the server idled): 0.6x of raw COPY vs 0.9x this way.
  let release: (() => void) | undefined;
  const feed = createFifoFeed(
    fifo,
    async () => {
      release = await transfer.acquire();
      return o.source.copyOut(select);
    },
    () => release?.(),
  );
  const columns = srcCols.map((c) => ({ name: c.name, type: duckType(c, o.numericPolicy) }));
  const colSpec = `{${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ')}}`;
  try {
    const res = await writePartition(
      { dir: o.dir, log: o.log, duck, lease, logger, statfs: o.statfs, onStep: o.onStep },
      {
        dataset: def.name,
        partition,
        selectSql: `SELECT * FROM read_csv(${quoteLiteral(feed.path)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, buffer_size = ${CSV_BUFFER_BYTES}, columns = ${colSpec})`,
        columns,
        key: def.key,
        sortKey: def.sortKey,
        estimatedBytes: Math.max(1 << 20, (current?.bytes ?? 0) * 2),
        acceptDrift: o.acceptDrift,
        feed,
        refreshCatalog: false,
        validate: (file, rows) => validatePartition({ duck, file, rows, def, order: sourceOrder(def, srcCols), expectedRows: feed.sourceRows() ?? -1, previousRows: current?.rows }),
        lineage: { kind: 'sync', source: `${def.schema}.${def.table}`, sourceHash: null, sql: select, vintage, whVersion: o.whVersion },
      },
    );
    progress(res.status, res.entry.rows);
    return { partition, status: res.status, rows: res.entry.rows };
  } catch (e) {
    progress('failed', 0);
    throw e;
  } finally {
    release?.();
    feed.dispose();
  }
}

/** Alert (credential_expiry) when the login role expires within 30 days. Best effort: WRDS may hide pg_roles. */
async function checkCredentialExpiry(o: SyncOptions): Promise<void> {
  try {
    const [r] = await o.source.query<{ until: Date | string | null }>('SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = current_user');
    if (r?.until === null || r?.until === undefined) return;
    const days = (new Date(r.until).getTime() - Date.now()) / 86_400_000;
    if (days < 30) {
      const message = `the source login expires in ${Math.max(0, Math.floor(days))} days (${new Date(r.until).toISOString().slice(0, 10)})`;
      o.log.append([{ type: 'SyncAlert', data: { alert: 'credential_expiry', dataset: null, message } }]);
      (o.logger ?? silent).warn({ alert: 'credential_expiry', days: Math.floor(days) }, message);
    }
  } catch {
    // not visible on this server: nothing to check
  }
}
