import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError, eventCatalog } from '../src/log/index.js';
import { retentionState } from '../src/projections/index.js';
import { collectedHorizon } from '../src/store/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

const count = z.coerce.number().int().nonnegative();

export function register(program: Command): void {
  const ret = program.command('retention').description('how long superseded versions are kept before `wh gc --apply` collects them');
  ret
    .command('set')
    .description('set the retention policy (the warehouse default, or one dataset\'s with --dataset)')
    .option('--keep-days <n>', 'keep superseded versions for n days after they were replaced (e.g. 90)')
    .option('--keep-last <n>', 'always keep the newest n superseded versions of each partition')
    .option('--dataset <name>', 'a policy for this dataset only (overrides the default)')
    .option('--clear', 'remove the policy: keep every version forever')
    .addHelpText('after', '\nTags and held snapshots are never collected; the log is kept forever.\nExample:\n  wh retention set --keep-days 90 --keep-last 2\n  wh retention set --dataset ff_factors_daily --keep-days 3650\n')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(
          z.object({ keepDays: count.optional(), keepLast: count.optional(), dataset: eventCatalog().datasetNameSchema.optional(), clear: z.boolean().optional() }),
          raw,
        );
        if (opts.clear !== true && opts.keepDays === undefined) {
          throw new WarehouseError('INVALID_ARGUMENT', 'give --keep-days (or --clear to keep everything forever)', { suggestion: 'e.g. wh retention set --keep-days 90' });
        }
        await withLog(g, (log) => {
          const data = { dataset: opts.dataset ?? null, keepDays: opts.clear ? null : opts.keepDays!, keepLast: opts.clear ? null : (opts.keepLast ?? 0) };
          const [e] = log.append([{ type: 'RetentionPolicySet', data }]);
          emit(g, { ...data, seq: e!.seq }, () =>
            opts.clear
              ? `retention policy${data.dataset ? ` of ${data.dataset}` : ''} cleared: versions are kept forever`
              : `retention${data.dataset ? ` of ${data.dataset}` : ''}: keep superseded versions ${data.keepDays} day(s)${data.keepLast ? `, and always the newest ${data.keepLast} per partition` : ''}; \`wh gc\` shows what that frees`,
          );
        });
      }),
    );
  ret
    .command('show')
    .description('the policies in force and the collection horizon')
    .action(
      action(async (g) => {
        await withLog(g, (log) => {
          const state = retentionState(log);
          const policies = [...state.policies.values()].map((p) => ({ dataset: p.dataset ?? '(default)', keepDays: p.keepDays, keepLast: p.keepLast, setAt: p.setAt, seq: p.setSeq }));
          const horizon = collectedHorizon(log);
          emit(g, { policies, horizon }, () =>
            [
              policies.length === 0 ? 'no retention policy: every version is kept forever' : table(policies.map((p) => ({ dataset: p.dataset, keep_days: p.keepDays, keep_last: p.keepLast, set_at: p.setAt }))),
              horizon === null ? 'nothing collected yet: every as-of point is readable' : `collected: as-of reads are complete from seq ${horizon.seq} (${horizon.time}) on; tags and holds stay readable`,
            ].join('\n'),
          );
        }, { readonly: true });
      }),
    );
}
