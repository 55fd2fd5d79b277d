/**
 * The one write path every producer (ingest, sync) uses: disk check, schema check against the
 * registry, atomic object write, then one fenced commit of the events that name the object.
 */
import { rm, truncate } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import {
  WarehouseError,
  ValidationError,
  type Column,
  type EventDraft,
  type EventLog,
  type Lease,
  type Lineage,
  type StoredEvent,
} from '../log/index.js';
import { manifestAt, manifestHistory, schemaOf, type ManifestEntry } from '../projections/index.js';
import { warehousePaths } from './layout.js';
import type { Duck } from '../engine/index.js';
import { assertRoomFor, diskUsage, isNoSpace, type StatFs } from './disk.js';
import { ObjectValidationError, ObjectWriteError, quarantineFile, writeObject, type Feed, type StepHook, type ValidationProblem } from './object-store.js';
import { refreshCatalogFile } from './catalog-file.js';
import { describeDiff, diffSchemas, isBreaking, schemaFingerprint } from './schema-drift.js';

export interface WriteContext {
  readonly dir: string;
  readonly log: EventLog;
  readonly duck: Duck;
  readonly lease: Lease;
  readonly logger?: Logger;
  /** Injected statfs (tests present a nearly full volume); the real one by default. */
  readonly statfs?: StatFs;
  readonly onStep?: StepHook;
}

export interface PartitionWrite {
  readonly dataset: string;
  readonly partition: string;
  /** SELECT producing the rows (sorted by `sortKey`). */
  readonly selectSql: string;
  readonly columns: readonly Column[];
  readonly key: readonly string[];
  readonly sortKey: readonly string[];
  readonly lineage: Lineage;
  readonly estimatedBytes: number;
  /** Accept a breaking schema change (removed column or changed type). */
  readonly acceptDrift?: boolean;
  readonly rowGroupSize?: number;
  readonly feed?: Feed;
  readonly validate?: (tmpPath: string, rows: number) => Promise<ValidationProblem | null>;
  /** Rewrite catalog.duckdb after the commit (default true; a sync does it once per dataset). */
  readonly refreshCatalog?: boolean;
}

export type PartitionWriteResult =
  | { readonly status: 'written'; readonly entry: ManifestEntry; readonly events: StoredEvent[] }
  | { readonly status: 'unchanged'; readonly entry: ManifestEntry };

let silentLogger: Logger | undefined;
/** The default logger: silent, and pino loads only when a write happens without one. */
const silent = (): Logger => (silentLogger ??= (createRequire(import.meta.url)('pino') as typeof import('pino')).pino({ level: 'silent' }));

/**
 * Write one partition.
 * @throws WarehouseError `DISK_*` (nothing recorded but a quarantine entry), `SCHEMA_DRIFT`
 * (a SchemaDriftDetected event is recorded), LeaseLostError (nothing recorded).
 */
export async function writePartition(ctx: WriteContext, w: PartitionWrite): Promise<PartitionWriteResult> {
  const logger = ctx.logger ?? silent();
  checkDisk(ctx, w.estimatedBytes, logger);
  // Refuse (and record) a breaking schema change before spending a write on it.
  schemaEvents(ctx, w, logger, true);

  let obj;
  try {
    obj = await writeObject({ dir: ctx.dir, duck: ctx.duck, selectSql: w.selectSql, rowGroupSize: w.rowGroupSize, onStep: ctx.onStep, feed: w.feed, validate: w.validate });
  } catch (e) {
    if (e instanceof ObjectValidationError) {
      const q = await quarantineFile(ctx.dir, e.tmpPath);
      ctx.log.append(
        [{ type: 'QuarantineAdded', data: { id: q.id, path: q.path, reason: e.problem.message, dataset: w.dataset, partition: w.partition, rule: e.problem.rule } }],
        ctx.lease,
      );
      throw new ValidationError(`${w.dataset}/${w.partition} failed validation (${e.problem.rule}): ${e.problem.message}`, {
        suggestion: `nothing else changed; the rejected file is in quarantine/${q.id}. Inspect it, fix the source or the rule, and rerun`,
        details: { rule: e.problem.rule, quarantine: q.id },
      });
    }
    if (e instanceof ObjectWriteError) {
      if (isNoSpace(e.cause)) throw await diskFullDuringWrite(ctx, w, e.tmpPath, e.cause, logger);
      await rm(e.tmpPath, { force: true });
      // A producer's own typed error (e.g. the source died mid-stream) passes through as it is.
      if (e.cause instanceof WarehouseError) throw e.cause;
      const concise = conciseConversionError(e.message);
      throw new ValidationError(`cannot write ${w.dataset}/${w.partition}: ${concise?.message ?? (e.message.split('\n')[0] ?? e.message)}`, {
        suggestion: concise?.suggestion ?? 'check the input data; nothing was recorded',
        cause: e.cause,
      });
    }
    throw e;
  }

  // Decide the schema events and commit in one transaction: concurrent writers of the same
  // dataset (a sync's partition workers) then register a new schema exactly once.
  const commit = () => ctx.log.transaction((tx) => {
    const schemaDrafts = schemaEvents(ctx, w, logger, false);
    const current = manifestAt(ctx.log, undefined, w.dataset).find((m) => m.partition === w.partition);
    if (current !== undefined && current.object === obj.hash && schemaDrafts.length === 0) return { unchanged: current, events: [] as StoredEvent[] };
    const events = tx.append(
      [
        ...schemaDrafts,
        {
          type: 'PartitionWritten',
          data: {
            dataset: w.dataset,
            partition: w.partition,
            object: obj.hash,
            rows: obj.rows,
            bytes: obj.bytes,
            schemaFingerprint: schemaFingerprint(w.columns),
            sortKey: [...w.sortKey],
            lineage: w.lineage,
          },
        },
      ],
      ctx.lease,
    );
    return { unchanged: undefined, events };
  });
  let committed: ReturnType<typeof commit>;
  try {
    committed = commit();
  } catch (e) {
    // The log itself could not grow: nothing was committed. The object this call created is named
    // by no event: remove it, so that the lease release (an append) has room.
    if (!isNoSpace(e)) throw e;
    const removed = obj.created && manifestHistory(ctx.log).every((r) => r.value.object !== obj.hash) && (await rm(obj.path, { force: true }).then(() => true, () => false));
    throw new WarehouseError('DISK_FULL', `the disk filled up while committing ${w.dataset}/${w.partition}; the partition was not recorded and the previous state is intact`, {
      suggestion: `free space (docs/runbooks/disk-space.md) and rerun${removed ? '' : `; the written object ${obj.hash.slice(0, 12)}… is an orphan that \`wh gc --apply\` removes`}`,
      cause: e,
    });
  }
  if (committed.unchanged !== undefined) {
    // A crash after an earlier commit may have left catalog.duckdb behind: bring it up to date.
    if (w.refreshCatalog !== false) await refreshCatalogQuietly(ctx.dir, ctx.log, logger);
    return { status: 'unchanged', entry: committed.unchanged };
  }
  const events = committed.events;
  const entry = manifestAt(ctx.log, undefined, w.dataset).find((m) => m.partition === w.partition)!;
  logger.info({ dataset: w.dataset, partition: w.partition, rows: obj.rows, bytes: obj.bytes, object: obj.hash }, 'partition written');
  if (w.refreshCatalog !== false) await refreshCatalogQuietly(ctx.dir, ctx.log, logger);
  return { status: 'written', entry, events };
}

/**
 * ENOSPC mid-write. The partial file (a Parquet file without its footer: no evidence worth its
 * space) is emptied first, so the quarantine record and the lease release that follow have room;
 * it is then moved to `quarantine/<id>/`. The error says truthfully whether the quarantine was
 * recorded; an unrecorded quarantine directory is still listed by `wh status` and collected by
 * `wh gc` (src/store/quarantine.ts).
 */
async function diskFullDuringWrite(ctx: WriteContext, w: PartitionWrite, tmpPath: string, cause: unknown, logger: Logger): Promise<WarehouseError> {
  await truncate(tmpPath, 0).catch(() => undefined);
  let q: { id: string; path: string } | undefined;
  try {
    q = await quarantineFile(ctx.dir, tmpPath);
  } catch {
    await rm(tmpPath, { force: true }).catch(() => undefined);
  }
  const recorded =
    q !== undefined &&
    (await recordQuarantine(ctx, { type: 'QuarantineAdded', data: { id: q.id, path: q.path, reason: 'disk full during write', dataset: w.dataset, partition: w.partition, rule: 'ENOSPC' } }, q.path));
  const where =
    q === undefined
      ? 'the partial file was removed (no room to quarantine it)'
      : recorded
        ? `the partial file is in quarantine/${q.id} (recorded as QuarantineAdded)`
        : `the quarantine could not be recorded (no room in the log); the partial file is in quarantine/${q.id}, listed by \`wh status\` and collected by \`wh gc\``;
  return new WarehouseError('DISK_FULL', `the disk filled up while writing ${w.dataset}/${w.partition}; the partition was not recorded and the previous state is intact`, {
    suggestion: `free space (docs/runbooks/disk-space.md) and rerun; ${where}`,
    cause,
    details: { quarantine: q?.id ?? null, quarantineRecorded: recorded },
  });
}

/**
 * Record a quarantine entry after ENOSPC. The partial file may hold the very space the log needs
 * for the record: then it is truncated (the record is the evidence; a partial Parquet file without
 * its footer is not) and the append retried once. Returns false if it still could not be recorded.
 */
async function recordQuarantine(ctx: WriteContext, draft: EventDraft, partialPath: string): Promise<boolean> {
  try {
    ctx.log.append([draft], ctx.lease);
    return true;
  } catch (e) {
    if (!isNoSpace(e)) throw e;
  }
  await truncate(partialPath, 0).catch(() => undefined);
  try {
    ctx.log.append([draft], ctx.lease);
    return true;
  } catch (e) {
    if (!isNoSpace(e)) throw e;
    return false;
  }
}

function checkDisk(ctx: WriteContext, estimatedBytes: number, logger: Logger): void {
  const usage = diskUsage(warehousePaths(ctx.dir).root, ctx.statfs);
  if (usage.level !== 'ok') {
    ctx.log.append([{ type: 'DiskWatermarkCrossed', data: { level: usage.level, usedFraction: usage.usedFraction, freeBytes: usage.freeBytes, path: usage.path } }]);
    const line = { alert: `disk_${usage.level}`, usedFraction: usage.usedFraction, freeBytes: usage.freeBytes };
    if (usage.level === 'warning') logger.warn(line, 'disk usage above the warning watermark');
    else logger.error(line, `disk usage at the ${usage.level} watermark`);
  }
  assertRoomFor(usage, estimatedBytes);
}

/**
 * The schema events this write needs, or throw if it breaks the schema. With `record`, a refused
 * drift is recorded as SchemaDriftDetected first (not inside another transaction).
 */
function schemaEvents(ctx: WriteContext, w: PartitionWrite, logger: Logger, record: boolean): EventDraft[] {
  const fingerprint = schemaFingerprint(w.columns);
  const registered = schemaOf(ctx.log, w.dataset);
  const register: EventDraft = { type: 'SchemaRegistered', data: { dataset: w.dataset, fingerprint, columns: [...w.columns], key: [...w.key] } };
  if (registered === undefined) return [register];
  if (registered.fingerprint === fingerprint) {
    return registered.key.join(',') === w.key.join(',') ? [] : [register];
  }
  const diff = diffSchemas(registered.columns, w.columns);
  const breaking = isBreaking(diff);
  const accepted = !breaking || w.acceptDrift === true;
  const drift: EventDraft = {
    type: 'SchemaDriftDetected',
    data: { dataset: w.dataset, expected: registered.fingerprint, actual: fingerprint, ...diff, accepted },
  };
  if (!accepted) {
    if (record) ctx.log.append([drift], ctx.lease);
    throw new WarehouseError('SCHEMA_DRIFT', `schema of ${w.dataset} changed: ${describeDiff(diff)}`, {
      suggestion: 'if the change is deliberate, rerun with --accept-schema-change (older partitions keep their columns; queries see NULL for missing ones)',
      details: { ...diff },
    });
  }
  if (!record) logger.warn({ dataset: w.dataset, drift: describeDiff(diff) }, 'schema changed; accepted');
  return [drift, register];
}

/** Refresh catalog.duckdb; a failure is logged, never fails the (already committed) write. */
export async function refreshCatalogQuietly(dir: string, log: EventLog, logger: Logger): Promise<void> {
  try {
    await refreshCatalogFile(dir, log);
  } catch (e) {
    logger.warn({ err: (e as Error).message }, 'could not refresh catalog.duckdb; run `wh catalog --refresh`');
  }
}

/**
 * DuckDB's CSV conversion error runs to some 30 lines of reader settings; name the line, column,
 * value and type instead. Null when `message` is not one.
 */
export function conciseConversionError(message: string): { message: string; suggestion: string } | null {
  const conv = /Could not convert string "([^"]*)" to '([^']+)'/.exec(message);
  if (conv === null) return null;
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const column = /converting column "([^"]+)"/.exec(message)?.[1];
  const sample = /sample_size = (\d+)/.exec(message)?.[1];
  const value = conv[1]!.length > 40 ? `${conv[1]!.slice(0, 40)}...` : conv[1]!;
  return {
    message: `${line !== undefined ? `line ${line}: ` : ''}${column !== undefined ? `column "${column}" ` : ''}value "${value}" is not a ${conv[2]}${sample !== undefined ? ` (the type was detected from the first ${sample} rows)` : ''}`,
    suggestion: 'fix or remove that value in the file and rerun (nothing was recorded); if the column really holds text, quote it or convert the file to Parquet with the type you want',
  };
}
