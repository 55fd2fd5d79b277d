/**
 * `wh sync --status`: per dataset, the last run's outcome, its vintage, and whether a sync holds
 * the dataset's lease now — all read from the log.
 */
import { currentLeases, type EventLog } from '../../log/index.js';
import { datasetsAt } from '../../projections/index.js';
import { datasets as catalogue } from './catalogue.js';

export interface DatasetSyncStatus {
  readonly dataset: string;
  readonly running: { since: string; pid: number; host: string } | null;
  readonly lastRun: { runId: string; startedAt: string; outcome: 'completed' | 'failed' | 'interrupted' | 'running'; vintage: string | null; endedAt: string | null; message: string | null } | null;
  readonly partitions: number;
  readonly rows: number;
}

export function syncStatus(log: EventLog): DatasetSyncStatus[] {
  const leases = currentLeases(log);
  const summary = new Map(datasetsAt(log).map((d) => [d.dataset, d]));
  const events = log.read({ types: ['SyncStarted', 'SyncCompleted', 'SyncFailed'], reverse: true, limit: 5000 });
  return catalogue
    .map((def) => {
      const lease = leases.find((l) => l.scope === `dataset:${def.name}`);
      const started = events.find((e) => e.type === 'SyncStarted' && e.data.dataset === def.name);
      let lastRun: DatasetSyncStatus['lastRun'] = null;
      if (started?.type === 'SyncStarted') {
        const end = events.find((e) => (e.type === 'SyncCompleted' || e.type === 'SyncFailed') && e.data.runId === started.data.runId);
        const outcome = end?.type === 'SyncCompleted' ? 'completed' : end?.type === 'SyncFailed' ? 'failed' : lease !== undefined ? 'running' : 'interrupted';
        lastRun = {
          runId: started.data.runId,
          startedAt: new Date(started.time).toISOString(),
          outcome,
          vintage: started.data.vintage,
          endedAt: end === undefined ? null : new Date(end.time).toISOString(),
          message: end?.type === 'SyncFailed' ? end.data.message : null,
        };
      }
      const s = summary.get(def.name);
      return {
        dataset: def.name,
        running: lease === undefined ? null : { since: lease.since, pid: lease.holder.pid, host: lease.holder.host },
        lastRun,
        partitions: s?.partitions ?? 0,
        rows: s?.rows ?? 0,
      };
    })
    .filter((d) => d.lastRun !== null || d.partitions > 0 || d.running !== null);
}
