/**
 * Writing to a warehouse from TypeScript: the same operations as `wh snapshot`, `wh ingest`,
 * `wh sync` and `wh audit --verify`, through one handle that owns the log. Every write takes the
 * log's leases exactly as the CLI does, so a library writer and a cron `wh sync` exclude each other.
 */
import type { Logger } from 'pino';
import type { EventLog } from '../log/index.js';
import { initWarehouse, listSnapshots, openWarehouseLog, deleteSnapshot, holdSnapshot, tagSnapshot, unholdSnapshot, verifyWarehouse, recordAnchor, type SnapshotInfo, type VerifyReport } from '../store/index.js';
import {
  connectWrds,
  findDatasets,
  ingestFile,
  readWarehouseSettings,
  resolvePassword,
  resolveSettings,
  settingsFromEnv,
  syncDatasets,
  type DatasetSyncResult,
  type IngestResult,
  type PartialWrdsSettings,
} from '../sync/index.js';
import { libraryVersion } from './version.js';

/** Options of {@link openWriter}. */
export interface WriterOptions {
  /** Create the warehouse if `dir` holds none (default false). */
  readonly create?: boolean;
  /** Recorded in every event's lineage; default this package's version. */
  readonly whVersion?: string;
  /** A pino logger; default silent. */
  readonly logger?: Logger;
}

/** What {@link WarehouseWriter.ingest} needs: one file becomes one partition of a dataset. */
export interface IngestFileOptions {
  readonly dataset: string;
  readonly partition: string;
  /** A CSV or Parquet file. */
  readonly file: string;
  /** Key columns (unique, not null); default the key registered for the dataset. */
  readonly key?: readonly string[];
  /** Accept a removed column or a changed type (recorded as accepted drift). */
  readonly acceptSchemaChange?: boolean;
}

/** What {@link WarehouseWriter.syncWrds} needs. Credentials come from `env` and `home`, never from here. */
export interface SyncWrdsOptions {
  /** Dataset names of the WRDS catalogue (e.g. `crsp_dsf`), or `'all'`. */
  readonly datasets: readonly string[] | 'all';
  /** Connection settings; they override `env` (`WRDS_HOST`, ...) and `<warehouse>/wrds.json`. */
  readonly settings?: PartialWrdsSettings;
  /** Where `PGPASSWORD`/`PGPASSFILE` and `WRDS_*` are read from; default none (then ~/.pgpass under `home`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory holding `.pgpass`; required unless `env.PGPASSWORD` is set. */
  readonly home?: string;
  readonly years?: { readonly from: number; readonly to: number };
  readonly full?: boolean;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly acceptSchemaChange?: boolean;
}

/** A writable warehouse. Close it when done. */
export interface WarehouseWriter {
  readonly dir: string;
  /** Tag the warehouse now, or at `at` (seq, ISO date/time or another tag). */
  tag(name: string, options?: { readonly at?: string; readonly note?: string }): { tag: string; seq: number };
  /** Delete a tag (refused while a hold keeps it). */
  deleteTag(name: string, reason?: string): void;
  /** Keep a tag's data under the retention reference `ref` (e.g. the backtest that used it). */
  hold(ref: string, tag: string, reason: string): void;
  /** Remove a retention reference. */
  unhold(ref: string): void;
  /** Tags with the references holding them. */
  snapshots(): SnapshotInfo[];
  /** Add a CSV or Parquet file as one partition (validated; unchanged content writes nothing). */
  ingest(options: IngestFileOptions): Promise<IngestResult>;
  /** Pull WRDS datasets (incremental, resumable, validated), as `wh sync` does. */
  syncWrds(options: SyncWrdsOptions): Promise<DatasetSyncResult[]>;
  /** Re-walk the hash chain and re-hash every live object; records the result as an event. */
  verify(): Promise<VerifyReport>;
  close(): void;
}

/**
 * Open the warehouse in `dir` for writing.
 *
 * @example
 * ```ts
 * const w = openWriter('/data/wh', { create: true });
 * await w.ingest({ dataset: 'prices', partition: '2024', file: 'prices-2024.csv', key: ['permno', 'date'] });
 * w.tag('paper-v1', { note: 'data behind the submitted draft' });
 * w.close();
 * ```
 * @throws WarehouseError `NOT_A_WAREHOUSE` (without `create`), `LOG_CORRUPT`.
 */
export function openWriter(dir: string, options: WriterOptions = {}): WarehouseWriter {
  const whVersion = options.whVersion ?? libraryVersion();
  if (options.create) {
    try {
      initWarehouse(dir, whVersion);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ALREADY_A_WAREHOUSE') throw e;
    }
  }
  const log: EventLog = openWarehouseLog(dir);
  const logger = options.logger;
  // After each write, record the log's head outside the log (the tail anchor), as the CLI does.
  const anchor = (before: number): void => {
    const head = log.head();
    if (head.seq > before) recordAnchor(dir, head);
  };
  const anchored = <T>(fn: () => T): T => {
    const before = log.head().seq;
    try {
      return fn();
    } finally {
      anchor(before);
    }
  };
  const anchoredAsync = async <T>(fn: () => Promise<T>): Promise<T> => {
    const before = log.head().seq;
    try {
      return await fn();
    } finally {
      anchor(before);
    }
  };
  return {
    dir,
    tag: (name, o) => anchored(() => tagSnapshot(log, name, o)),
    deleteTag: (name, reason) => anchored(() => deleteSnapshot(log, name, reason)),
    hold: (ref, tag, reason) => anchored(() => holdSnapshot(log, ref, tag, reason)),
    unhold: (ref) => anchored(() => unholdSnapshot(log, ref)),
    snapshots: () => listSnapshots(log),
    ingest: (o) => anchoredAsync(() => ingestFile({ dir, log, dataset: o.dataset, partition: o.partition, file: o.file, key: o.key, acceptDrift: o.acceptSchemaChange, whVersion, logger })),
    syncWrds: (o) => anchoredAsync(() => syncWrds(o)),
    verify: () => anchoredAsync(() => verifyWarehouse(dir, log)),
    close: () => log.close(),
  };

  async function syncWrds(o: SyncWrdsOptions): Promise<DatasetSyncResult[]> {
    const env = o.env ?? {};
    const settings = resolveSettings(o.settings ?? {}, settingsFromEnv(env), readWarehouseSettings(dir));
    const password = resolvePassword(settings, env, o.home ?? '');
    const source = await connectWrds({ settings, password, logger });
    try {
      return await syncDatasets({
        dir,
        log,
        source,
        datasets: o.datasets === 'all' ? findDatasets([], true) : findDatasets(o.datasets),
        years: o.years,
        full: o.full,
        force: o.force,
        dryRun: o.dryRun,
        acceptDrift: o.acceptSchemaChange,
        whVersion,
        logger,
      });
    } finally {
      await source.close();
    }
  }
}
