/**
 * The sync-runs projection: per dataset, its latest sync run (started, completed, failed, or
 * still open) and its latest completed run. `wh sync --status`, the vintage check that skips an
 * unchanged source and `wh status` read it in one indexed lookup, however long the log is.
 */
import type { CurrentLookup, RangedOp, RangedProjection, StoredEvent } from '../log/index.js';

/** A completed run, as the vintage check needs it. */
export interface CompletedRun {
  readonly runId: string;
  readonly seq: number;
  readonly vintage: string | null;
  readonly time: number;
  readonly rows: number;
}

/** The value of a sync-runs row (key: the dataset). */
export interface SyncRunState {
  readonly dataset: string;
  readonly runId: string;
  readonly source: string;
  readonly vintage: string | null;
  readonly startedSeq: number;
  readonly startedTime: number;
  /** `open` until the run records its end; a run whose writer died stays open (see its lease). */
  readonly outcome: 'open' | 'completed' | 'failed';
  readonly endedTime: number | null;
  readonly message: string | null;
  readonly code: string | null;
  readonly lastCompleted: CompletedRun | null;
}

export const syncRunsProjection: RangedProjection<SyncRunState> = {
  name: 'sync_runs',
  ops(event: StoredEvent, current: CurrentLookup): RangedOp[] {
    switch (event.type) {
      case 'SyncStarted': {
        const d = event.data;
        const prev = current(d.dataset)?.value as SyncRunState | undefined;
        const value = openRun(d.dataset, d.runId, d.vintage, d.source, event, prev);
        return [{ op: 'open', key: d.dataset, group: 'sync', value }];
      }
      case 'SyncCompleted': {
        const d = event.data;
        const prev = current(d.dataset)?.value as SyncRunState | undefined;
        const done: CompletedRun = { runId: d.runId, seq: event.seq, vintage: d.vintage, time: event.time, rows: d.rows };
        const base: SyncRunState = prev?.runId === d.runId ? prev : openRun(d.dataset, d.runId, d.vintage, prev?.source ?? '', event, prev);
        return [{ op: 'open', key: d.dataset, group: 'sync', value: { ...base, outcome: 'completed', endedTime: event.time, lastCompleted: done } }];
      }
      case 'SyncFailed': {
        const d = event.data;
        const prev = current(d.dataset)?.value as SyncRunState | undefined;
        const base: SyncRunState = prev?.runId === d.runId ? prev : openRun(d.dataset, d.runId, null, prev?.source ?? '', event, prev);
        return [{ op: 'open', key: d.dataset, group: 'sync', value: { ...base, outcome: 'failed', endedTime: event.time, message: d.message, code: d.code } }];
      }
      default:
        return [];
    }
  },
};

/**
 * A run opened at `event`: its start, or an end event whose start the projection never saw (a log
 * written by hand, or out of order). The last completed run carries over.
 */
function openRun(dataset: string, runId: string, vintage: string | null, source: string, event: StoredEvent, prev: SyncRunState | undefined): SyncRunState {
  return {
    dataset,
    runId,
    source,
    vintage,
    startedSeq: event.seq,
    startedTime: event.time,
    outcome: 'open',
    endedTime: null,
    message: null,
    code: null,
    lastCompleted: prev?.lastCompleted ?? null,
  };
}
