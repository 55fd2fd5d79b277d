/**
 * Verification throughput (issue 10): `wh audit --verify` (verifyWarehouse: chain, anchor,
 * projections, re-hash of every live object) and `wh query --verify` (re-hash of the objects the
 * SQL names, then the query) in MiB/s of object bytes, against `sha256sum` of the same files in
 * the same run. The warehouse is bench/query.ts's `prices` (one partition per year).
 *
 *   node dist/bench/verify.js [--quick] [--permnos N] [--years N] [--reps N] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { z } from 'zod';
import { manifestAt } from '../src/projections/index.js';
import { runQuery } from '../src/query/index.js';
import { objectPath, openWarehouseLog, verifyWarehouse } from '../src/store/index.js';
import { isMain, nowMs, parseCli, report, row, say, stats, tempDir, timeAsync, timeSync, type BenchRow, type CommonOptions } from './harness.js';
import { buildWarehouse, generate } from './query.js';

const USAGE = `usage: node dist/bench/verify.js [options]
  --quick        300 permnos x 3 years, 5 repetitions
  --permnos N    securities (default 2000)
  --years N      yearly partitions from 2015 (default 10)
  --reps N       timed repetitions per side (default 10)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F (used by run-all)`;

const optionsSchema = z.object({
  permnos: z.coerce.number().int().positive().optional(),
  years: z.coerce.number().int().min(1).max(30).optional(),
  reps: z.coerce.number().int().positive().optional(),
});
export type VerifyBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const MiB = 1024 * 1024;

export async function runVerifyBench(options: VerifyBenchOptions): Promise<BenchRow[]> {
  const permnos = options.permnos ?? (options.quick ? 300 : 2000);
  const years = options.years ?? (options.quick ? 3 : 10);
  const reps = options.reps ?? (options.quick ? 5 : 10);
  const tmp = tempDir('verify', options.keep);
  const rows: BenchRow[] = [];
  try {
    const t0 = nowMs();
    const dir = await buildWarehouse(tmp.path, await generate(tmp.path, permnos, years));
    const log = openWarehouseLog(dir, { readonly: true });
    const files = manifestAt(log).map((e) => objectPath(dir, e.object));
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    say(`verify: ${files.length} objects, ${(bytes / MiB).toFixed(1)} MiB, built in ${((nowMs() - t0) / 1000).toFixed(1)} s; ${reps} reps per side, interleaved`);
    const sha = (): void => void execFileSync('sha256sum', files, { stdio: ['ignore', 'pipe', 'inherit'] });
    const audit = async (): Promise<void> => {
      const r = await verifyWarehouse(dir, log, { record: false });
      if (!r.ok) throw new Error('the bench warehouse does not verify');
    };
    const query = async (): Promise<void> => void (await runQuery(dir, log, 'SELECT count(*) AS n FROM prices', { verify: true, threads: 2 }));
    sha();
    await audit();
    await query();
    const s: number[] = [];
    const a: number[] = [];
    const q: number[] = [];
    for (let r = 0; r < reps; r++) {
      s.push(timeSync(sha));
      a.push(await timeAsync(audit));
      q.push(await timeAsync(query));
    }
    const rate = (ms: number): number => bytes / MiB / (ms / 1000);
    const [ms, ma, mq] = [stats(s).median, stats(a).median, stats(q).median];
    say(`  sha256sum: median ${ms.toFixed(1)} ms = ${rate(ms).toFixed(0)} MiB/s`);
    say(`  audit --verify (chain + anchor + projections + re-hash): median ${ma.toFixed(1)} ms = ${rate(ma).toFixed(0)} MiB/s; ratio to sha256sum ${(rate(ma) / rate(ms)).toFixed(2)}`);
    say(`  query --verify (re-hash + count(*)): median ${mq.toFixed(1)} ms = ${rate(mq).toFixed(0)} MiB/s; ratio to sha256sum ${(rate(mq) / rate(ms)).toFixed(2)}`);
    rows.push(row('verify', 'sha256sum of the objects', rate(ms), 'MiB/s', null, null));
    rows.push(row('verify', 'audit --verify throughput', rate(ma), 'MiB/s', rate(ms), 'of sha256sum'));
    rows.push(row('verify', 'query --verify throughput', rate(mq), 'MiB/s', rate(ms), 'of sha256sum'));
    log.close();
  } finally {
    tmp.dispose();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const options = parseCli(process.argv.slice(2), { permnos: { type: 'string' }, years: { type: 'string' }, reps: { type: 'string' } }, optionsSchema, USAGE);
  report(await runVerifyBench(options), options);
}
