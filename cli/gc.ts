import type { Command } from 'commander';
import { z } from 'zod';
import { applyGc, planGc } from '../src/store/index.js';
import { action, emit, formatBytes, parseOptions, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('gc')
    .description('find objects no event names (crash orphans) and leftover temporaries; --apply deletes them')
    .option('--apply', 'delete them (takes the warehouse lease; records ObjectsCollected)')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ apply: z.boolean().optional() }), raw);
        await withLog(g, async (log) => {
          const plan = opts.apply ? await applyGc(g.warehouse, log) : planGc(g.warehouse, log);
          emit(g, { applied: opts.apply ?? false, ...plan }, () =>
            [
              ...plan.orphans.map((o) => `orphan ${o.hash} (${formatBytes(o.bytes)})`),
              ...plan.temporaries.map((t) => `temporary ${t.path} (${formatBytes(t.bytes)})`),
              ...plan.inUse.map((t) => `kept ${t.path}: staging of a running process (pid ${t.pid} on ${t.host})`),
              `${plan.orphans.length} orphan object(s), ${plan.temporaries.length} temporary file(s), ${formatBytes(plan.bytes)}: ${opts.apply ? 'deleted' : 'dry run; rerun with --apply to delete'}`,
            ].join('\n'),
          );
        });
      }),
    );
}
