/**
 * `wh cite <point> [dataset...]`: a SHA-256 digest of exactly the data a study used (datasets,
 * partitions, object hashes) and a citation naming its vintages; `wh cite --check <digest>`: at
 * which points this warehouse holds exactly that data.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError, type EventLog } from '../src/log/index.js';
import { bibtexCitation, citationAt, findDigest, plainCitation, resolvePoint, type CitationContext } from '../src/projections/index.js';
import { EXIT, action, emit, parseOptions, table, whVersion, withLog, type GlobalOptions } from './context.js';

const optionsSchema = z.object({
  check: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 digest: 64 hex digits').optional(),
  format: z.enum(['all', 'bibtex', 'plain', 'digest']).optional(),
});

function context(log: EventLog, seq: number, label: string): CitationContext {
  const init = log.get(1);
  const at = seq > 0 ? log.get(seq) : undefined;
  return {
    pointLabel: label,
    pointTime: new Date(at?.time ?? init?.time ?? 0).toISOString(),
    warehouseId: init?.type === 'WarehouseInitialized' ? init.data.warehouseId : null,
    whVersion: whVersion(),
  };
}

function check(g: GlobalOptions, log: EventLog, digest: string): void {
  const matches = findDigest(log, digest.toLowerCase());
  emit(g, { digest: digest.toLowerCase(), held: matches.length > 0, matches }, () =>
    matches.length === 0
      ? `this warehouse never held exactly the data of ${digest.toLowerCase()}`
      : `held: ${digest.toLowerCase()}\n` +
        table(matches.map((m) => ({ datasets: m.datasets.join(','), from_seq: m.fromSeq, to_seq: m.current ? `${m.toSeq} (head)` : m.toSeq, tags: m.tags.join(',') }))),
  );
  if (matches.length === 0) process.exitCode = EXIT.validation;
}

export function register(program: Command): void {
  program
    .command('cite')
    .description('a digest and citation (BibTeX, plain) of exactly the data at a point; --check finds where a digest holds')
    .argument('[point]', 'seq, ISO date/time, snapshot tag or head (default head)')
    .argument('[datasets...]', 'the datasets the study used (default: every dataset at the point)')
    .option('--check <digest>', 'say whether, and at which points, this warehouse holds exactly that data (exit 3 if never)')
    .option('--format <kind>', 'all (default), bibtex, plain or digest')
    .addHelpText(
      'after',
      `
The digest covers the datasets, their partitions and the SHA-256 of each partition's object — not
the log's head hash, so unrelated events (tags, leases, other datasets) never change it, and two
warehouses that synced the same vintage cite the same digest.

Examples:
  wh cite paper-v1 crsp_dsf crsp_msf
  wh cite 2024-06-30 --format bibtex
  wh cite --check 5f1c0d…   # exit 0 held (with the points), 3 never held`,
    )
    .action(
      action(async (g, point: string | undefined, datasets: string[], raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        await withLog(g, (log) => {
          if (opts.check !== undefined) {
            if (point !== undefined) throw new WarehouseError('INVALID_ARGUMENT', '--check takes no point or datasets', { suggestion: 'wh cite --check <digest>' });
            return check(g, log, opts.check);
          }
          const p = resolvePoint(log, point);
          const c = citationAt(log, p.seq, datasets);
          if (c.partitions.length === 0) throw new WarehouseError('UNKNOWN_DATASET', `the warehouse holds no data at ${p.label}`, { suggestion: 'sync or ingest first, or cite a later point' });
          const ctx = context(log, p.seq, p.label);
          const bibtex = bibtexCitation(c, ctx);
          const plain = plainCitation(c, ctx);
          const format = opts.format ?? 'all';
          emit(g, { ...c, point: p, bibtex, plain }, () =>
            format === 'digest' ? c.digest : format === 'bibtex' ? bibtex : format === 'plain' ? plain : `${c.digest}\n\n${plain}\n\n${bibtex}`,
          );
        }, { readonly: true });
      }),
    );
}
