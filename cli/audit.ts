import type { Command } from 'commander';
import { z } from 'zod';

import { auditTarget, lineageOf } from '../src/query/index.js';
import { verifyWarehouse } from '../src/store/index.js';
import { EXIT, action, emit, parseOptions, table, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('audit')
    .description('lineage of a dataset, object or tag; --verify re-walks the hash chain and re-hashes every live object')
    .argument('[target]', 'dataset name, object hash or snapshot tag (default: everything current)')
    .option('--verify', 'verify the hash chain and every live object; exit 3 on any mismatch')
    .action(
      action(async (g, target: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ verify: z.boolean().optional() }), raw);
        await withLog(g, async (log) => {
          if (opts.verify) {
            const report = await verifyWarehouse(g.warehouse, log);
            emit(g, report, () =>
              [
                `hash chain: ${report.chain.length === 0 ? 'intact' : 'BROKEN'} (${report.events} events)`,
                ...report.chain.map((p) => `  seq ${p.seq}: ${p.problem}`),
                `projections: ${report.projections.length === 0 ? 'equal to the fold of the log' : `${report.projections.length} difference(s)`}`,
                ...report.projections.slice(0, 50).map((p) => `  proj_${p.projection} ${p.key} (from seq ${p.beginSeq}): ${p.problem}`),
                ...(report.projections.length > 50 ? [`  ... ${report.projections.length - 50} more (--json lists all)`] : []),
                `objects: ${report.objects - report.damaged.length}/${report.objects} intact`,
                ...report.damaged.map((d) => `  ${d.dataset}/${d.partition} ${d.object}: ${d.problem} (${d.path})`),
                report.ok
                  ? 'verified: OK'
                  : `verification FAILED: see ${[...(report.chain.length > 0 || report.projections.length > 0 ? ['docs/runbooks/log-recovery.md (the log)'] : []), ...(report.damaged.length > 0 ? ['docs/runbooks/object-recovery.md (objects)'] : [])].join(' and ')}`,
              ].join('\n'),
            );
            if (!report.ok) process.exitCode = EXIT.validation;
            return;
          }
          const records = lineageOf(log, auditTarget(log, target));
          emit(g, records, () =>
            records.length === 0
              ? 'nothing written yet'
              : table(
                  records.map((r) => ({
                    dataset: r.dataset,
                    partition: r.partition,
                    object: r.object.slice(0, 12),
                    rows: r.rows,
                    seq: r.writtenSeq,
                    written_at: r.writtenAt,
                    by: `${r.writtenBy.writerId.slice(0, 8)} pid ${r.writtenBy.pid}@${r.writtenBy.host}`,
                    lease: r.lease === null ? '' : `${r.lease.scope}#${r.lease.epoch}`,
                    source: `${r.lineage.kind}:${r.lineage.source}`,
                    superseded: r.supersededAt ?? '',
                    tags: r.heldByTags.join(','),
                  })),
                ),
          );
        });
      }),
    );
}
