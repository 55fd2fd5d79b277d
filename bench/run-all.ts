/**
 * Run every benchmark, each in its own node process (a fresh heap and no shared caches), then
 * print one summary table of their figures, baselines and ratios.
 *
 *   npm run bench                     # build, then every benchmark in full
 *   node dist/bench/run-all.js --quick --only append,query
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { nowMs, parseCli, renderTable, say, type BenchRow } from './harness.js';

const BENCHES = ['append', 'asof', 'query', 'provider', 'verify', 'cli', 'taq'] as const;

const USAGE = `usage: node dist/bench/run-all.js [options]
  --quick        pass --quick to every benchmark (a smoke run of a minute or so)
  --only LIST    comma-separated subset of: ${BENCHES.join(', ')}
  --keep         keep each benchmark's temporary directory
  --summary F    also write every row as JSON to F`;

const optionsSchema = z.object({
  only: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(BENCHES)))
    .optional(),
});

const benchRowSchema = z.object({
  bench: z.string(),
  metric: z.string(),
  value: z.number(),
  unit: z.string(),
  baseline: z.number().nullable(),
  ratioLabel: z.string().nullable(),
  ratio: z.number().nullable(),
  goal: z.string().nullable(),
  ok: z.boolean().nullable(),
});

/** Run one benchmark script as a child process; returns its rows, or null if it failed. */
function runOne(name: string, flags: readonly string[]): BenchRow[] | null {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const summary = join(tmpdir(), `wh-bench-${name}-${process.pid}.json`);
  const t0 = nowMs();
  say(`\n=== ${name} ===`);
  const res = spawnSync(process.execPath, [script, ...flags, '--summary', summary], { stdio: 'inherit' });
  say(`=== ${name}: ${res.status === 0 ? 'done' : `FAILED (exit ${res.status ?? res.signal})`} in ${((nowMs() - t0) / 1000).toFixed(1)} s ===`);
  if (res.status !== 0 || !existsSync(summary)) return null;
  try {
    return z.array(benchRowSchema).parse(JSON.parse(readFileSync(summary, 'utf8')));
  } finally {
    rmSync(summary, { force: true });
  }
}

const options = parseCli(process.argv.slice(2), { only: { type: 'string' } }, optionsSchema, USAGE);
const flags = [...(options.quick ? ['--quick'] : []), ...(options.keep ? ['--keep'] : [])];
const rows: BenchRow[] = [];
const failed: string[] = [];
for (const name of options.only ?? BENCHES) {
  const r = runOne(name, flags);
  if (r === null) failed.push(name);
  else rows.push(...r);
}
say(`\n=== summary (${new Date().toISOString().slice(0, 10)}, node ${process.version}${options.quick ? ', --quick' : ''}) ===`);
say(renderTable(rows));
if (options.summary !== undefined) writeFileSync(options.summary, JSON.stringify(rows, null, 2));
if (failed.length > 0) {
  say(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
