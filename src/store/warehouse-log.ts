/**
 * Opening a warehouse's log with every projection materialized and every invariant guarded.
 */
import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  EventLog,
  WarehouseError,
  type AppendGuard,
  type EventLogOptions,
  type RangedProjection,
} from '../log/index.js';
import { manifestProjection, syncRunsProjection } from '../projections/index.js';
import { quarantineProjection, retentionProjection, schemaProjection, snapshotProjection, type RetentionRef } from '../projections/index.js';
import { warehousePaths } from './layout.js';
import { isPointKeyword } from '../projections/index.js';
import { readAnchor } from './anchor.js';

/** Every projection the warehouse materializes (the lease projection is built into the log). */
export const projections: readonly RangedProjection[] = [
  manifestProjection,
  snapshotProjection,
  retentionProjection,
  schemaProjection,
  quarantineProjection,
  syncRunsProjection,
];

/** Invariants checked inside the append transaction. */
const guards: readonly AppendGuard[] = [
  (draft, tx) => {
    if (draft.type === 'SnapshotTagged') {
      if (isPointKeyword(draft.data.tag)) {
        throw new WarehouseError('INVALID_ARGUMENT', `"${draft.data.tag}" cannot be a tag name: it reads as a seq, a date or head`, {
          suggestion: 'pick a name with a letter in it that is not a date, e.g. y2024 or paper-v1',
        });
      }
      if (tx.table(snapshotProjection).current(draft.data.tag) !== undefined) {
        throw new WarehouseError('TAG_EXISTS', `snapshot tag "${draft.data.tag}" already exists`, {
          suggestion: 'pick another name, or delete the old tag first with `wh snapshot delete`',
        });
      }
    }
    if (draft.type === 'SnapshotDeleted') {
      if (tx.table(snapshotProjection).current(draft.data.tag) === undefined) {
        throw new WarehouseError('UNKNOWN_TAG', `no snapshot tag "${draft.data.tag}"`, { suggestion: 'see `wh snapshot list`' });
      }
      const holders = tx
        .table(retentionProjection)
        .at(undefined, 'tag')
        .filter((r) => r.value.target.id === draft.data.tag);
      if (holders.length > 0) {
        throw new WarehouseError('INVALID_ARGUMENT', `snapshot "${draft.data.tag}" is held by retention reference ${holders.map((h) => h.key).join(', ')}`, {
          suggestion: 'remove the retention reference first (`wh snapshot unhold <ref>`) if the analysis it protects is retired',
        });
      }
    }
  },
];

export type OpenLogOptions = Omit<EventLogOptions, 'projections' | 'guards' | 'create'>;

/**
 * Open the log of the warehouse at `dir`.
 * @throws WarehouseError `NOT_A_WAREHOUSE` when `dir` holds no warehouse.
 */
export function openWarehouseLog(dir: string, options: OpenLogOptions = {}): EventLog {
  const paths = warehousePaths(dir);
  if (!existsSync(paths.log)) {
    throw new WarehouseError('NOT_A_WAREHOUSE', `${paths.root} is not a wh warehouse (no wh.log)`, {
      suggestion: 'create one with `wh init <dir>`, or point --warehouse or WH_WAREHOUSE at an existing warehouse',
    });
  }
  // A log that no longer reaches its tail anchor lost committed events: appending would reuse their
  // seqs and bury the evidence, so the first append of this handle checks (one small file read).
  let checked = false;
  let log: EventLog | undefined;
  const tailGuard: AppendGuard = () => {
    if (checked || log === undefined) return;
    const anchor = readAnchor(dir);
    const head = log.head();
    if (anchor !== null && head.seq < anchor.seq) {
      throw new WarehouseError('LOG_CORRUPT', `the log lost events: it ends at seq ${head.seq} but its anchor (written ${anchor.at}) records seq ${anchor.seq}; nothing was written`, {
        suggestion: 'run `wh audit --verify` and follow docs/runbooks/log-recovery.md (restore the log from a backup)',
      });
    }
    checked = true;
  };
  log = EventLog.open(paths.log, { ...options, projections, guards: [tailGuard, ...guards] });
  return log;
}

export interface InitResult {
  readonly root: string;
  readonly warehouseId: string;
  readonly seq: number;
}

/**
 * Create a new warehouse in `dir` (created if missing; must not already hold a warehouse or other files).
 * @throws WarehouseError `ALREADY_A_WAREHOUSE`.
 */
export function initWarehouse(dir: string, whVersion: string, options: OpenLogOptions = {}): InitResult {
  const paths = warehousePaths(dir);
  if (existsSync(paths.log)) {
    throw new WarehouseError('ALREADY_A_WAREHOUSE', `${paths.root} already holds a warehouse`, { suggestion: 'use it as it is, or pick another directory' });
  }
  if (existsSync(paths.root) && readdirSync(paths.root).length > 0) {
    throw new WarehouseError('INVALID_ARGUMENT', `${paths.root} is not empty`, { suggestion: 'initialize a warehouse in a new or empty directory' });
  }
  for (const d of [paths.root, paths.objects, paths.tmp, paths.quarantine]) mkdirSync(d, { recursive: true });
  const log = EventLog.open(paths.log, { ...options, projections, guards, create: true });
  try {
    const warehouseId = randomUUID();
    const [e] = log.append([{ type: 'WarehouseInitialized', data: { warehouseId, formatVersion: 1, whVersion } }]);
    return { root: paths.root, warehouseId, seq: e!.seq };
  } finally {
    log.close();
  }
}
