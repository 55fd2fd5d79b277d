/**
 * Shared plumbing for the benchmarks: a small CLI parser, timing and statistics, temporary
 * directories, and the result rows every benchmark prints and hands to `run-all`.
 *
 * Every benchmark measures its subject and a baseline in the same run, on the same machine and
 * volume, and prints the ratio. Goals are printed (`ok` / `MISSED`), never asserted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** One measured figure, with its in-run baseline and the ratio `value / baseline`. */
export interface BenchRow {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number | null;
  /** What the ratio means, e.g. `subject/baseline (higher is better)`. */
  readonly ratioLabel: string | null;
  readonly ratio: number | null;
  /** The goal in words, e.g. `>= 0.8`; null for informative figures. */
  readonly goal: string | null;
  readonly ok: boolean | null;
}

/** Options every benchmark understands. */
export const commonOptionsSchema = z.object({
  quick: z.boolean().default(false),
  keep: z.boolean().default(false),
  summary: z.string().optional(),
  help: z.boolean().default(false),
});
export type CommonOptions = z.infer<typeof commonOptionsSchema>;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const commonSpec: OptionSpec = {
  quick: { type: 'boolean' },
  keep: { type: 'boolean' },
  summary: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * Parse `argv` (without node and script) against the common flags plus `extra`, then validate the
 * result with `schema`. Prints `usage` and exits 0 on `--help`; exits 2 on a bad flag.
 */
export function parseCli<S extends z.ZodType>(argv: readonly string[], extra: OptionSpec, schema: S, usage: string): z.infer<S> & CommonOptions {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: { ...commonSpec, ...extra }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  if (values['help'] === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const parsed = commonOptionsSchema.and(schema).safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n\n${usage}\n`);
    process.exit(2);
  }
  return parsed.data as z.infer<S> & CommonOptions;
}

/** True when the module at `importMetaUrl` is the script node was started with. */
export function isMain(importMetaUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === importMetaUrl;
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const nowMs = (): number => performance.now();

/** Summary statistics of a sample (milliseconds or any unit). */
export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile `p` (0..100) of an ascending-sorted array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Median, p99, mean, min and max of `samples`. */
export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    median,
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Time one synchronous call, in milliseconds. */
export function timeSync(fn: () => void): number {
  const t0 = nowMs();
  fn();
  return nowMs() - t0;
}

/** Time one asynchronous call, in milliseconds. */
export async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = nowMs();
  await fn();
  return nowMs() - t0;
}

/** A fresh temporary directory; `dispose` removes it unless `keep`. */
export function tempDir(name: string, keep: boolean): { readonly path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), `wh-bench-${name}-`));
  return {
    path,
    dispose: () => {
      if (keep) process.stdout.write(`kept ${path}\n`);
      else rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Format a number for a table: 3 significant digits below 100, thousands separators above. */
export function fmt(n: number | null, digits = 3): string {
  if (n === null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

/** Build a row, deciding `ok` from the goal comparison when there is one. */
export function row(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  baseline: number | null,
  ratioLabel: string | null,
  goal: { readonly text: string; readonly met: (ratio: number, value: number) => boolean } | null = null,
): BenchRow {
  const ratio = baseline === null || baseline === 0 ? null : value / baseline;
  const ok = goal === null ? null : goal.met(ratio ?? Number.NaN, value);
  return { bench, metric, value, unit, baseline, ratioLabel, ratio, goal: goal?.text ?? null, ok };
}

/** Render rows as a fixed-width text table. */
export function renderTable(rows: readonly BenchRow[]): string {
  const head = ['bench', 'metric', 'value', 'unit', 'baseline', 'ratio', 'goal', ''];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    fmt(r.value),
    r.unit,
    fmt(r.baseline),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.goal ?? '',
    r.ok === null ? '' : r.ok ? 'ok' : 'MISSED',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Print a benchmark's rows and, when `--summary <file>` was given, write them there as JSON. */
export function report(rows: readonly BenchRow[], options: CommonOptions): void {
  process.stdout.write(`\n${renderTable(rows)}\n`);
  if (options.summary !== undefined) writeFileSync(options.summary, JSON.stringify(rows));
}

/** Print a progress line (benchmarks are long; say what is happening). */
export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}
