/**
 * `wh sync --status`: per dataset, the last run's outcome, its vintage, and whether a sync holds
 * the dataset's lease now — read from the sync-runs and lease projections (no log scan).
 */
import { currentLeases, type EventLog } from '../../log/index.js';
import { datasetsAt, syncRunsAt } from '../../projections/index.js';
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
  const runs = new Map(syncRunsAt(log).map((r) => [r.dataset, r]));
  // The WRDS catalogue in its order, then every other dataset a sync has run for (TAQ, ...).
  const names = [...catalogue.map((d) => d.name), ...[...runs.keys()].filter((n) => !catalogue.some((d) => d.name === n)).sort()];
  return names
    .map((name) => {
      const def = { name };
      const lease = leases.find((l) => l.scope === `dataset:${def.name}` || (def.name.startsWith('taq_') && l.scope === 'dataset:taq'));
      const run = runs.get(def.name);
      const lastRun: DatasetSyncStatus['lastRun'] =
        run === undefined
          ? null
          : {
              runId: run.runId,
              startedAt: new Date(run.startedTime).toISOString(),
              outcome: run.outcome === 'open' ? (lease !== undefined ? 'running' : 'interrupted') : run.outcome,
              vintage: run.vintage,
              endedAt: run.endedTime === null ? null : new Date(run.endedTime).toISOString(),
              message: run.outcome === 'failed' ? run.message : null,
            };
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
