import type { Command } from 'commander';
import { z } from 'zod';
import { ingestFile } from '../src/sync/index.js';
import { healthSummaryLine } from '../src/projections/index.js';
import { action, emit, formatBytes, makeLogger, parseOptions, whVersion, withLog } from './context.js';

const optionsSchema = z.object({
  partition: z.string().min(1),
  key: z
    .string()
    .optional()
    .transform((s) => (s === undefined ? undefined : s.split(',').map((k) => k.trim()).filter((k) => k !== ''))),
  acceptSchemaChange: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command('ingest')
    .description('add your own CSV or Parquet file as one partition of a dataset (same write path as sync)')
    .argument('<dataset>', 'dataset name (lowercase letters, digits, _)')
    .argument('<file>', 'a .csv, .csv.gz or .parquet file')
    .requiredOption('-p, --partition <key>', 'partition key, e.g. 2024 or all')
    .option('-k, --key <cols>', 'comma-separated key columns: must be unique and not null; rows are sorted by them')
    .option('--accept-schema-change', 'accept a removed column or changed type (recorded as accepted drift)')
    .addHelpText('after', '\nExample:\n  wh ingest prices --partition 2024 --key permno,date prices-2024.csv\n')
    .action(
      action(async (g, dataset: string, file: string, raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        await withLog(g, async (log) => {
          const res = await ingestFile({
            dir: g.warehouse,
            log,
            dataset,
            partition: opts.partition,
            file,
            key: opts.key,
            acceptDrift: opts.acceptSchemaChange,
            whVersion: whVersion(),
            logger: makeLogger(g),
          });
          const health = res.health == null ? null : healthSummaryLine(res.health);
          const out = { status: res.status, dataset, partition: opts.partition, object: res.entry.object, rows: res.entry.rows, bytes: res.entry.bytes, seq: res.entry.writtenSeq, health: res.health == null ? null : { summary: health, findings: res.health.findings } };
          emit(g, out, () =>
            res.status === 'unchanged'
              ? `${dataset}/${opts.partition} unchanged (same content as seq ${res.entry.writtenSeq}); nothing recorded`
              : `wrote ${dataset}/${opts.partition}: ${res.entry.rows} rows, ${formatBytes(res.entry.bytes)}, object ${res.entry.object.slice(0, 12)}… (seq ${res.entry.writtenSeq})${health === null ? '' : `\n${health}`}`,
          );
        });
      }),
    );
}
