import type { Command } from 'commander';
import { currentLeases } from '../src/log/index.js';
import { backupHealth, backupsState, datasetsAt, manifestAt, quarantineAt, tagsAt } from '../src/projections/index.js';
import { anchorProblems, describeFault, objectFaults, readAnchor, OBJECT_RUNBOOK, QUARANTINE_RETENTION_DAYS, quarantineDirs, recordedDamage, warehousePaths } from '../src/store/index.js';
import { diskUsage } from '../src/store/index.js';
import { action, emit, formatBytes, table, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('datasets, partitions, rows, bytes, lease holders, recent events and disk usage')
    .option('--events <n>', 'how many recent events to show', '5')
    .action(
      action(async (g, opts: { events: string }) => {
        await withLog(g, (log) => {
          const head = log.head();
          const disk = diskUsage(warehousePaths(g.warehouse).root);
          // Missing, resized or recorded-damaged objects (one stat each; `wh audit --verify` re-hashes).
          // The objects current reads use, one stat each (a flat cost whatever the history); superseded versions are re-checked by `wh audit --verify`.
          const damaged = objectFaults(g.warehouse, manifestAt(log), recordedDamage(log));
          // The log against its tail anchor (one small file read): lost events are named here too.
          const lost = anchorProblems(log, readAnchor(g.warehouse));
          const status = {
            warehouse: g.warehouse,
            head: { seq: head.seq, time: head.time > 0 ? new Date(head.time).toISOString() : null },
            datasets: datasetsAt(log),
            leases: currentLeases(log),
            tags: tagsAt(log).length,
            quarantine: quarantineAt(log),
            /** Every quarantine directory on disk, recorded or not (a full disk may have left no room to record one). */
            quarantineDirs: quarantineDirs(g.warehouse, log),
            damaged,
            lostEvents: lost,
            disk,
            backups: [...backupsState(log).values()].map((t) => ({ name: t.name, lastBackup: t.lastCompleted?.at ?? null, lastDrill: t.lastDrill, ...backupHealth(t, log.now(), 24 * 3600_000) })),
            recent: log.read({ reverse: true, limit: Math.max(0, Number(opts.events) || 5) }).map((e) => ({ seq: e.seq, time: new Date(e.time).toISOString(), type: e.type })),
          };
          emit(g, status, () =>
            [
              `warehouse ${g.warehouse}  (log head seq ${head.seq}${status.head.time ? ' at ' + status.head.time : ''})`,
              '',
              status.datasets.length === 0
                ? 'no datasets yet'
                : table(status.datasets.map((d) => ({ dataset: d.dataset, partitions: d.partitions, rows: d.rows, size: formatBytes(d.bytes), last_written: d.lastWrittenAt }))),
              '',
              status.leases.length === 0
                ? 'leases: none held'
                : 'leases:\n' + table(status.leases.map((l) => ({ scope: l.scope, epoch: l.epoch, holder: `${l.holder.writerId.slice(0, 8)} pid ${l.holder.pid}@${l.holder.host}`, since: l.since, expires: l.expiresAt, purpose: l.purpose }))),
              ...(lost.length === 0
                ? []
                : [`LOG LOST EVENTS (${lost.length}): ${lost[0]!.problem}; writes are refused; see docs/runbooks/log-recovery.md`, '']),
              ...(damaged.length === 0
                ? []
                : [`DAMAGED OR MISSING OBJECTS (${damaged.length}); queries over these datasets are refused; see ${OBJECT_RUNBOOK}:`, ...damaged.map((f) => `  ${describeFault(f)}`), '']),
              `snapshot tags: ${status.tags}   quarantined: ${status.quarantineDirs.length} director${status.quarantineDirs.length === 1 ? 'y' : 'ies'} (${status.quarantineDirs.filter((q) => !q.recorded).length} unrecorded; gc removes them after ${QUARANTINE_RETENTION_DAYS} days)`,
              ...status.quarantineDirs.map((q) => `  quarantine/${q.id}  ${formatBytes(q.bytes)}  ${q.recorded ? `${q.entry?.dataset ?? ''}/${q.entry?.partition ?? ''}: ${q.entry?.reason ?? ''}` : 'UNRECORDED (no QuarantineAdded event)'}${q.expired ? '  [expired]' : ''}`),
              `disk: ${(disk.usedFraction * 100).toFixed(1)}% used, ${formatBytes(disk.freeBytes)} free (${disk.level})`,
              ...(status.backups.length === 0
                ? ['backups: none configured (see `wh backup add`)']
                : status.backups.map((b) => `backup ${b.ok ? 'ok' : 'ALERT'}: ${b.message}${b.lastDrill ? `; last drill ${b.lastDrill.passed ? 'passed' : 'FAILED'} ${b.lastDrill.at}` : '; never drilled'}`)),
              '',
              'recent events:\n' + table(status.recent),
            ].join('\n'),
          );
        }, { readonly: true });
      }),
    );
}
