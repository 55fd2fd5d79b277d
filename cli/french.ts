import type { Command } from 'commander';
import { z } from 'zod';
import { loadFrenchFile, type LoadFrenchResult } from '../src/sync/index.js';
import { action, emit, makeLogger, parseOptions, table, whVersion, withLog, type GlobalOptions } from './context.js';

export const frenchLoadOptionsSchema = z.object({
  dataset: z.string().min(1).optional(),
  acceptSchemaChange: z.boolean().optional(),
  force: z.boolean().optional(),
  timeout: z.coerce.number().int().positive().optional(),
});

function render(res: LoadFrenchResult): string {
  const head =
    res.status === 'unchanged'
      ? `${res.dataset} unchanged: ${res.name} (vintage ${res.vintage ?? 'unknown'}) is already loaded; nothing recorded`
      : `loaded ${res.name} into ${res.dataset} (CRSP vintage ${res.vintage ?? 'unknown'})`;
  const rows = res.partitions.map((p) => ({ partition: p.partition, frequency: p.frequency, unit: p.unit, rows: p.rows, status: p.status, seq: p.seq }));
  return `${head}\n${table(rows)}`;
}

/**
 * The action of `wh french load`, exported so `wh sync french --from <source>` can share it.
 */
export async function runFrenchLoad(g: GlobalOptions, source: string, raw: unknown): Promise<void> {
  const opts = parseOptions(frenchLoadOptionsSchema, raw);
  await withLog(g, async (log) => {
    const res = await loadFrenchFile({
      dir: g.warehouse,
      log,
      source,
      dataset: opts.dataset,
      acceptDrift: opts.acceptSchemaChange,
      force: opts.force,
      timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
      whVersion: whVersion(),
      logger: makeLogger(g),
    });
    emit(g, res, () => render(res));
  });
}

export function register(program: Command): void {
  const french = program.command('french').description('Kenneth French Data Library files: Fama–French factors and portfolios (see docs/concepts/fama-french.md)');
  french
    .command('load')
    .description('load a French CSV (or its zip, or a URL of either): each section becomes a partition, in decimals, with its CRSP vintage')
    .argument('<source>', 'a .CSV or .zip path, or an http(s) URL')
    .option('-d, --dataset <name>', 'dataset to write (default french_<family>: french_ff3, french_ff5, french_mom, french_ind10, ...)')
    .option('--accept-schema-change', 'accept a removed series or changed type (recorded as accepted drift)')
    .option('--force', 'write even if these exact bytes were already loaded by this wh version')
    .option('--timeout <seconds>', 'give up an HTTP download after this long (default 120)')
    .addHelpText(
      'after',
      '\nExamples:\n  wh french load F-F_Research_Data_Factors.CSV\n  wh french load ~/Downloads/F-F_Research_Data_5_Factors_2x3_daily_CSV.zip\n  wh french load https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/ftp/F-F_Research_Data_Factors_CSV.zip\n',
    )
    .action(action(async (g, source: string, raw: unknown) => runFrenchLoad(g, source, raw)));
}
