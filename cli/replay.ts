import type { Command } from 'commander';
import { z } from 'zod';
import { replayState, writeReplayDatabase } from '../src/query/index.js';
import { assertNotCollected } from '../src/store/index.js';
import { action, emit, formatBytes, parseOptions, table, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('replay')
    .description('show the warehouse as it stood at a point; --out writes a DuckDB file that reproduces it')
    .requiredOption('-u, --until <point>', 'ISO date (end of that UTC day), ISO time, seq or snapshot tag')
    .option('-o, --out <dir>', 'write <dir>/replay.duckdb with one view per dataset over exactly those objects')
    .addHelpText('after', '\nExample:\n  wh replay --until 2024-01-15 --out /tmp/as-of-jan15\n  duckdb -readonly /tmp/as-of-jan15/replay.duckdb "SELECT count(*) FROM prices"\n')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ until: z.string().min(1), out: z.string().optional() }), raw);
        await withLog(g, async (log) => {
          const state = replayState(log, opts.until);
          if (opts.out !== undefined) assertNotCollected(log, state.point, state.partitions);
          const database = opts.out === undefined ? null : await writeReplayDatabase(g.warehouse, state, opts.out);
          emit(g, { ...state, database }, () =>
            [
              `warehouse as of ${state.point.label}${state.time ? ` (${state.time})` : ''}`,
              state.datasets.length === 0
                ? 'no datasets'
                : table(state.datasets.map((d) => ({ dataset: d.dataset, partitions: d.partitions, rows: d.rows, size: formatBytes(d.bytes) }))),
              `partitions: ${state.partitions.length}  objects: ${new Set(state.partitions.map((p) => p.object)).size}  tags: ${state.tags.map((t) => t.tag).join(', ') || 'none'}  leases held: ${state.leases.length}`,
              database === null ? '' : `wrote ${database}`,
            ].join('\n'),
          );
        }, { readonly: true });
      }),
    );
}
