import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { resolvePoint } from '../src/projections/index.js';
import { diffSummary, streamDiffRows, writeDiffParquet } from '../src/store/index.js';
import { action, emit, parseOptions, table, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('what changed between two points (seq, date, tag): partitions, rows and cells per dataset')
    .argument('<pointA>', 'the earlier point: seq, ISO date/time, tag or head')
    .argument('<pointB>', 'the later point')
    .argument('[datasets...]', 'only these datasets (default: all)')
    .option('--rows', 'list every added/removed row and changed cell (column, old, new)')
    .option('--columns <columns...>', 'compare only these value columns (rows still match on the whole key)')
    .option('--format <format>', 'with --out: parquet', 'parquet')
    .option('--out <file>', 'write the detailed diff to a Parquet file (for large diffs)')
    .option('--memory-limit <size>', 'DuckDB memory for the join; it spills to disk beyond it', '1GB')
    .addHelpText(
      'after',
      '\nExamples:\n  wh diff ff-202408 ff-202409 french_ff3 --rows --columns hml   # which HML values changed between two vintages\n  wh diff 120 head crsp_dsf --json\n  wh diff y2023 y2024 --out changes.parquet\n',
    )
    .action(
      action(async (g, pointA: string, pointB: string, datasets: string[], raw: unknown) => {
        const opts = parseOptions(
          z.object({ rows: z.boolean().optional(), columns: z.array(z.string()).optional(), format: z.literal('parquet'), out: z.string().optional(), memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'a size like 1GB') }),
          raw,
        );
        await withLog(g, async (log) => {
          const a = resolvePoint(log, pointA);
          const b = resolvePoint(log, pointB);
          const o = { datasets, columns: opts.columns, memoryLimit: opts.memoryLimit };
          const summary = await diffSummary(g.warehouse, log, a, b, o);
          const missing = datasets.filter((d) => !summary.datasets.some((s) => s.dataset === d));
          if (missing.length > 0) {
            throw new WarehouseError('UNKNOWN_DATASET', `no dataset ${missing.join(', ')} at ${a.label} or ${b.label}`, { suggestion: 'see `wh status`, or `wh replay --until <point>` for the datasets at a point' });
          }
          if (opts.out !== undefined) {
            const out = resolve(opts.out);
            const n = await writeDiffParquet(g.warehouse, log, a, b, out, o);
            emit(g, { ...summary, out, rows: n }, () => `${n} diff row(s) written to ${out}`);
            return;
          }
          if (opts.rows) {
            if (g.json) {
              // JSON lines: one changed cell or added/removed row per line, streamed.
              for await (const chunk of streamDiffRows(g.warehouse, log, a, b, o)) process.stdout.write(chunk.map((r) => JSON.stringify(r)).join('\n') + '\n');
              return;
            }
            process.stdout.write(`${a.label} -> ${b.label}\n`);
            let header = true;
            for await (const chunk of streamDiffRows(g.warehouse, log, a, b, o)) {
              const t = table(chunk.map((r) => ({ dataset: r.dataset, change: r.change, key: r.key, column: r.column ?? '', old: r.old ?? '', new: r.new ?? '' })));
              process.stdout.write((header ? t : t.split('\n').slice(2).join('\n')) + '\n');
              header = false;
            }
            if (header) process.stdout.write('no differences\n');
            return;
          }
          emit(g, summary, () =>
            [
              `${a.label} -> ${b.label}`,
              summary.datasets.length === 0
                ? 'no datasets'
                : table(
                    summary.datasets.map((d) => ({
                      dataset: d.dataset,
                      key: d.key.join(',') || '(whole rows)',
                      partitions: `+${d.partitions.added} -${d.partitions.removed} ~${d.partitions.replaced} =${d.partitions.unchanged}`,
                      rows_added: d.rows.added,
                      rows_removed: d.rows.removed,
                      rows_changed: d.rows.changed,
                      cells_changed: d.columns.map((c) => `${c.column}:${c.changed}`).join(' '),
                    })),
                  ),
              ...summary.datasets.flatMap((d) => [
                ...(d.columnsAdded.length > 0 ? [`${d.dataset}: columns added ${d.columnsAdded.join(', ')}`] : []),
                ...(d.columnsRemoved.length > 0 ? [`${d.dataset}: columns removed ${d.columnsRemoved.join(', ')}`] : []),
              ]),
            ].join('\n'),
          );
        }, { readonly: true });
      }),
    );
}
