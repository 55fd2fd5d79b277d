import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError, eventCatalog } from '../src/log/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

const optionsSchema = z.object({
  tail: z.coerce.number().int().positive().optional(),
  type: z.array(z.string()).optional(),
  from: z.coerce.number().int().nonnegative().optional(),
});

export function register(program: Command): void {
  program
    .command('log')
    .description('show the operation log')
    .option('-n, --tail <n>', 'only the last n events (default 20)')
    .option('-t, --type <type...>', `only these event types (${eventCatalog().eventTypes.join(', ')})`)
    .option('--from <seq>', 'from this seq onwards (instead of --tail)')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        for (const t of opts.type ?? []) {
          if (!(eventCatalog().eventTypes as string[]).includes(t)) {
            throw new WarehouseError('INVALID_ARGUMENT', `unknown event type ${t}`, { suggestion: `one of: ${eventCatalog().eventTypes.join(', ')}` });
          }
        }
        await withLog(g, (log) => {
          const events =
            opts.from !== undefined
              ? log.read({ fromSeq: opts.from, types: opts.type, limit: opts.tail })
              : log.read({ types: opts.type, reverse: true, limit: opts.tail ?? 20 }).reverse();
          emit(g, events, () =>
            table(
              events.map((e) => ({
                seq: e.seq,
                time: new Date(e.time).toISOString(),
                type: e.type,
                lease: e.lease === null ? '' : `${e.lease.scope}#${e.lease.epoch}`,
                by: `${e.actor.writerId.slice(0, 8)}@${e.actor.host}`,
                data: JSON.stringify(e.data),
              })),
            ),
          );
        }, { readonly: true });
      }),
    );
}
