import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { applyGc, applyRetention, planGc, planRetention, verifyWarehouse } from '../src/store/index.js';
import { action, emit, formatBytes, parseOptions, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('gc')
    .description('find crash orphans, leftover temporaries and versions the retention policy lets go; --apply deletes them')
    .option('--apply', 'delete them (takes the warehouse lease; records ObjectsCollected before unlinking)')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ apply: z.boolean().optional() }), raw);
        await withLog(g, async (log) => {
          if (opts.apply) {
            // An orphan may be the only evidence of an event the log lost: delete nothing unless
            // the log, its anchor, its projections and the live objects all verify.
            const report = await verifyWarehouse(g.warehouse, log, { record: false });
            if (!report.ok) {
              const first = report.chain[0]?.problem ?? report.projections[0]?.problem ?? report.damaged[0]?.problem ?? '';
              throw new WarehouseError('VERIFICATION_FAILED', `gc --apply refused: the warehouse does not verify (${report.chain.length} log, ${report.projections.length} projection, ${report.damaged.length} object problem(s); first: ${first})`, {
                suggestion: 'run `wh audit --verify` and follow docs/runbooks/log-recovery.md or object-recovery.md; nothing was deleted',
              });
            }
          }
          const retention = opts.apply ? await applyRetention(log, g.warehouse) : planRetention(log, g.warehouse);
          const plan = opts.apply ? await applyGc(g.warehouse, log) : planGc(g.warehouse, log);
          emit(g, { applied: opts.apply ?? false, ...plan, retention }, () =>
            [
              ...plan.orphans.map((o) => `orphan ${o.hash} (${formatBytes(o.bytes)})`),
              ...plan.temporaries.map((t) => `temporary ${t.path} (${formatBytes(t.bytes)})`),
              ...plan.quarantine.map((q) => `quarantine/${q.id} older than the retention${q.recorded ? '' : ' (unrecorded)'} (${formatBytes(q.bytes)})`),
              ...plan.inUse.map((t) => `kept ${t.path}: staging of a running process (pid ${t.pid} on ${t.host})`),
              ...retention.objects.map((o) => `superseded ${o.hash.slice(0, 12)} ${o.versions.map((v) => `${v.dataset}/${v.partition}`).join(',')} (${formatBytes(o.bytes)})`),
              ...retention.unreadable.map((u) => `  as-of reads of ${u.dataset} at seq ${u.fromSeq}..${u.toSeq - 1} (${u.fromTime} .. ${u.toTime}) stop being readable`),
              ...(retention.pending.length > 0 ? [`${retention.pending.length} object(s) recorded as collected by an interrupted run${opts.apply ? ': removed' : ': --apply removes them'}`] : []),
              `${plan.orphans.length} orphan object(s), ${plan.temporaries.length} temporary file(s), ${plan.quarantine.length} expired quarantine dir(s), ${formatBytes(plan.bytes)}; ` +
                `${retention.objects.length} superseded object(s) outside the retention window, ${formatBytes(retention.bytes)}: ${opts.apply ? 'deleted' : 'dry run; rerun with --apply to delete'}`,
            ].join('\n'),
          );
        });
      }),
    );
}
