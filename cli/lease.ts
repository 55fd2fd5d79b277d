import type { Command } from 'commander';
import { z } from 'zod';
import { breakLease, currentLeases, holderInfo } from '../src/log/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

export function register(program: Command): void {
  const lease = program.command('lease').description('inspect and (operator only) break writer leases');
  lease
    .command('list')
    .description('leases currently held')
    .action(
      action(async (g) => {
        await withLog(g, (log) => {
          const rows = currentLeases(log).map(holderInfo);
          emit(g, rows, () => (rows.length === 0 ? 'no leases held' : table(rows)));
        }, { readonly: true });
      }),
    );
  lease
    .command('break')
    .description('break the lease on a scope (records LeaseBroken with your reason); its holder can no longer commit')
    .argument('<scope>', 'warehouse or dataset:<name>')
    .requiredOption('--reason <text>', 'why (recorded in the log)')
    .addHelpText('after', '\nSee docs/runbooks/lease-recovery.md before breaking a lease held on another host.\n')
    .action(
      action(async (g, scope: string, raw: unknown) => {
        const opts = parseOptions(z.object({ reason: z.string().min(1) }), raw);
        await withLog(g, (log) => {
          const broken = breakLease(log, scope, opts.reason);
          emit(g, { broken: holderInfo(broken) }, () => `broke lease ${scope} (epoch ${broken.epoch}, held by ${broken.holder.writerId} pid ${broken.holder.pid}@${broken.holder.host})`);
        });
      }),
    );
}
