import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError, tagNameSchema } from '../src/log/index.js';
import { manifestAt, resolvePoint, retentionRefs, tagsAt } from '../src/projections/index.js';
import { assertNotCollected } from '../src/store/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

function checkTag(name: string): string {
  const r = tagNameSchema.safeParse(name);
  if (!r.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${name}" is not a valid tag name: ${r.error.issues[0]?.message}`, {
      suggestion: 'tag names use letters, digits, _ . - (no slashes), e.g. paper-v1 or 2024-q1',
    });
  }
  return name;
}

export function register(program: Command): void {
  const snap = program.command('snapshot').description('name points in the warehouse history (tags) and protect them');
  snap
    .command('tag')
    .description('tag the warehouse as it stands now (or at --at) so analyses can be reproduced by name')
    .argument('<name>', 'tag name, e.g. paper-v1')
    .option('--note <text>', 'what this snapshot is for')
    .option('--at <point>', 'tag an earlier point (seq, ISO date/time or another tag) instead of now')
    .action(
      action(async (g, name: string, raw: unknown) => {
        const opts = parseOptions(z.object({ note: z.string().optional(), at: z.string().optional() }), raw);
        await withLog(g, (log) => {
          checkTag(name);
          const point = resolvePoint(log, opts.at);
          // Checked and appended in one transaction, so gc cannot collect the point in between.
          const [e] = log.transaction((tx) => {
            assertNotCollected(log, point, manifestAt(log, point.seq));
            return tx.append([{ type: 'SnapshotTagged', data: { tag: name, seq: point.seq, note: opts.note ?? null } }]);
          });
          emit(g, { tag: name, seq: point.seq, eventSeq: e!.seq }, () => `tagged ${name} at seq ${point.seq}`);
        });
      }),
    );
  snap
    .command('list')
    .description('list snapshot tags')
    .action(
      action(async (g) => {
        await withLog(g, (log) => {
          const tags = tagsAt(log);
          const refs = retentionRefs(log);
          const rows = tags.map((t) => ({ ...t, heldBy: refs.filter((r) => r.target.kind === 'tag' && r.target.id === t.tag).map((r) => r.ref) }));
          emit(g, rows, () => (rows.length === 0 ? 'no tags' : table(rows.map((r) => ({ tag: r.tag, seq: r.seq, tagged_at: r.taggedAt, note: r.note ?? '', held_by: r.heldBy.join(',') })))));
        }, { readonly: true });
      }),
    );
  snap
    .command('delete')
    .description('delete a tag (refused while a retention reference holds it)')
    .argument('<name>')
    .option('--reason <text>', 'why')
    .action(
      action(async (g, name: string, raw: unknown) => {
        const opts = parseOptions(z.object({ reason: z.string().optional() }), raw);
        await withLog(g, (log) => {
          checkTag(name);
          log.append([{ type: 'SnapshotDeleted', data: { tag: name, reason: opts.reason ?? null } }]);
          emit(g, { deleted: name }, () => `deleted tag ${name}`);
        });
      }),
    );
  snap
    .command('hold')
    .description('add a retention reference that keeps a tag (e.g. one a published backtest used)')
    .argument('<ref>', 'reference name, e.g. backtest-2024-07')
    .requiredOption('--tag <name>', 'the tag to hold')
    .requiredOption('--reason <text>', 'why it must be kept')
    .action(
      action(async (g, ref: string, raw: unknown) => {
        const opts = parseOptions(z.object({ tag: z.string(), reason: z.string().min(1) }), raw);
        await withLog(g, (log) => {
          checkTag(ref);
          if (log.table('snapshots').current(opts.tag) === undefined) {
            throw new WarehouseError('UNKNOWN_TAG', `no snapshot tag "${opts.tag}"`, { suggestion: 'see `wh snapshot list`' });
          }
          log.append([{ type: 'RetentionRefAdded', data: { ref, target: { kind: 'tag', id: opts.tag }, reason: opts.reason } }]);
          emit(g, { ref, tag: opts.tag }, () => `${ref} now holds tag ${opts.tag}`);
        });
      }),
    );
  snap
    .command('unhold')
    .description('remove a retention reference')
    .argument('<ref>')
    .action(
      action(async (g, ref: string) => {
        await withLog(g, (log) => {
          if (log.table('retention').current(ref) === undefined) {
            throw new WarehouseError('INVALID_ARGUMENT', `no retention reference "${ref}"`, { suggestion: 'see `wh snapshot list`' });
          }
          log.append([{ type: 'RetentionRefRemoved', data: { ref } }]);
          emit(g, { removed: ref }, () => `removed retention reference ${ref}`);
        });
      }),
    );
}
