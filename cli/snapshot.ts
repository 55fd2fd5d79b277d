import type { Command } from 'commander';
import { z } from 'zod';
import { deleteSnapshot, holdSnapshot, listSnapshots, tagSnapshot, unholdSnapshot } from '../src/store/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

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
          const r = tagSnapshot(log, name, opts);
          emit(g, r, () => `tagged ${name} at seq ${r.seq}`);
        });
      }),
    );
  snap
    .command('list')
    .description('list snapshot tags')
    .action(
      action(async (g) => {
        await withLog(g, (log) => {
          const rows = listSnapshots(log);
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
          deleteSnapshot(log, name, opts.reason);
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
          holdSnapshot(log, ref, opts.tag, opts.reason);
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
          unholdSnapshot(log, ref);
          emit(g, { removed: ref }, () => `removed retention reference ${ref}`);
        });
      }),
    );
}
