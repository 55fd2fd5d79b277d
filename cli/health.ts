/**
 * `wh health [dataset]`: the latest health report of each dataset as of a point (computed on the
 * spot, without recording, for a dataset no write has reported on yet); `--strict` fails (exit 3)
 * on any finding; `--html <file>` writes a self-contained page with plots.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { WarehouseError, type EventLog } from '../src/log/index.js';
import { datasetsAt, findingCounts, healthAt, healthHistory, resolvePoint, type HealthReport } from '../src/projections/index.js';
import { openDuck } from '../src/engine/index.js';
import { reportHealth } from '../src/store/index.js';
import { EXIT, action, emit, makeLogger, parseOptions, table, withLog, type GlobalOptions } from './context.js';

const optionsSchema = z.object({
  asOf: z.string().optional(),
  strict: z.boolean().optional(),
  html: z.string().min(1).optional(),
  record: z.boolean().optional(),
});

/** Reports of every dataset (or `dataset`) at `seq`: recorded ones, else computed now. */
async function reportsAt(g: GlobalOptions, log: EventLog, seq: number, dataset: string | undefined, record: boolean): Promise<HealthReport[]> {
  const names = datasetsAt(log, seq).map((d) => d.dataset).filter((d) => dataset === undefined || d === dataset);
  if (dataset !== undefined && names.length === 0) {
    throw new WarehouseError('UNKNOWN_DATASET', `no dataset ${dataset} at seq ${seq}`, { suggestion: 'see `wh status` for the datasets' });
  }
  const recorded = new Map(healthAt(log, seq).map((r) => [r.dataset, r]));
  const out: HealthReport[] = [];
  const missing = names.filter((n) => record || !recorded.has(n));
  if (missing.length > 0) {
    // Bounded memory: DuckDB spills to the system's temporary directory beyond the limit.
    const duck = await openDuck({ threads: 2, memoryLimit: '1GB', tempDirectory: join(tmpdir(), 'wh-health-duckdb') });
    try {
      for (const name of missing) {
        const r = await reportHealth({ dir: g.warehouse, log, duck, dataset: name, trigger: 'manual', previousSeq: null, seq, all: true, record, logger: makeLogger(g) });
        if (r !== null) out.push({ ...r, reportSeq: record ? log.head().seq : seq, reportedAt: new Date().toISOString() });
      }
    } finally {
      duck.close();
    }
  }
  for (const n of names) if (!missing.includes(n)) out.push(recorded.get(n)!);
  return out.sort((a, b) => (a.dataset < b.dataset ? -1 : 1));
}

function human(reports: readonly HealthReport[]): string {
  if (reports.length === 0) return 'no datasets';
  const summary = table(reports.map((r) => ({
    dataset: r.dataset,
    partitions: r.partitions.length,
    rows: r.partitions.reduce((n, p) => n + p.rows, 0),
    findings: r.findings.length,
    kinds: Object.entries(findingCounts(r.findings)).map(([k, n]) => `${k}:${n}`).join(' '),
    reported: `${r.trigger} seq ${r.reportSeq}`,
  })));
  const findings = reports.flatMap((r) => r.findings.map((f) => ({ dataset: r.dataset, partition: f.partition ?? '', kind: f.kind, count: f.count, message: f.message })));
  return findings.length === 0 ? `${summary}\n\nno findings` : `${summary}\n\n${table(findings)}`;
}

export function register(program: Command): void {
  program
    .command('health')
    .description('health of each dataset: rows vs previous version, missing NYSE sessions, duplicate keys, null rates, jumps, splits, stale and late data')
    .argument('[dataset]', 'one dataset (default: all)')
    .option('--as-of <point>', 'as the warehouse stood at a seq, ISO date/time or tag (default head)')
    .option('--strict', 'exit 3 when there is any finding (for cron and CI)')
    .option('--html <file>', 'also write a self-contained HTML page with plots (no network needed to view it)')
    .option('--record', 'recompute every partition now and record the report (HealthReported)')
    .addHelpText(
      'after',
      `
Every sync, ingest and ETL records a report (a HealthReported event) and prints a one-line summary.
A dataset no write has reported on is checked on the spot (not recorded unless --record).

Examples:
  wh health                          # every dataset, latest reports
  wh health crsp_dsf --strict        # exit 3 on findings
  wh health --as-of paper-v1 --json
  wh health --html health.html`,
    )
    .action(
      action(async (g, dataset: string | undefined, raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        if (opts.record === true && opts.asOf !== undefined) throw new WarehouseError('INVALID_ARGUMENT', '--record describes the head; it takes no --as-of', { suggestion: 'drop --as-of' });
        await withLog(g, async (log) => {
          const point = resolvePoint(log, opts.asOf);
          const reports = await reportsAt(g, log, point.seq, dataset, opts.record === true);
          if (opts.html !== undefined) {
            const { renderHealthPage } = await import('./health-html.js');
            const file = resolve(opts.html);
            writeFileSync(file, renderHealthPage(reports, { point: point.label, history: (d) => healthHistory(log, d, point.seq), uplotDir: process.env['WH_UPLOT_DIR'] }));
            if (!g.json) process.stderr.write(`wrote ${file}\n`);
          }
          emit(g, { point, reports }, () => human(reports));
          if (opts.strict === true && reports.some((r) => r.findings.length > 0)) process.exitCode = EXIT.validation;
        }, { readonly: opts.record !== true });
      }),
    );
}
