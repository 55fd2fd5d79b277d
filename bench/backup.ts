/**
 * Backup, restore and diff, each against a baseline in the same run:
 *  - `runBackup` (encrypting, to a directory on the same volume) vs `cp -r` of the same objects and
 *    log: throughput ratio, goal >= 0.7;
 *  - a second backup after one more day's partition: objects and bytes it transfers;
 *  - `restoreBackup` vs `cp -r` back: throughput ratio, goal >= 0.7;
 *  - `wh diff` of two vintages of one partition (--diffRows, default 1M; ~1 % of returns changed):
 *    rows/s and the peak RSS of the diffing process (a child, so the figure is its own).
 *
 * Backup and restore are measured `--reps` times, subject and baseline interleaved (the order
 * alternating), and the medians are reported with their spread: the machine is shared. By default
 * they run on the issue's case, the demo warehouse at `--demo 10` (built by `wh demo`, ~1 min);
 * `--demo 0` measures the synthetic `prices` warehouse instead.
 *
 *   node dist/bench/backup.js [--quick] [--demo N] [--reps N] [--permnos N] [--years N] [--diffRows N] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { openDuck, quoteLiteral } from '../src/engine/index.js';
import { resolvePoint } from '../src/projections/index.js';
import { directoryTarget, loadKey, newKeyText, restoreBackup, runBackup } from '../src/backup/index.js';
import { initWarehouse, openWarehouseLog, warehousePaths, writeDiffParquet, diffSummary } from '../src/store/index.js';
import { ingestFile } from '../src/sync/index.js';
import { fmt, isMain, nowMs, parseCli, report, row, say, stats, tempDir, type BenchRow, type CommonOptions } from './harness.js';
import type { EventLog } from '../src/log/index.js';
import type { BackupKey } from '../src/backup/index.js';

const USAGE = `usage: node dist/bench/backup.js [options]
  --quick          300 permnos x 3 years, a 200k-row diff, demo scale 1, 3 reps
  --demo N         backup/restore ratios on a \`wh demo --scale N\` warehouse (default 10; 0: synthetic)
  --reps N         interleaved backup/restore measurements (default 5)
  --permnos N      securities (default 2000)
  --years N        yearly partitions from 2015 (default 10)
  --diffRows N     rows of each vintage in the diff (default 1000000)
  --keep           keep the temporary directory
  --summary F      also write the result rows as JSON to F`;

const optionsSchema = z.object({
  permnos: z.coerce.number().int().positive().optional(),
  years: z.coerce.number().int().min(1).max(30).optional(),
  diffRows: z.coerce.number().int().positive().optional(),
  demo: z.coerce.number().int().min(0).optional(),
  reps: z.coerce.number().int().positive().optional(),
});

const daily = (permnos: number, from: string, to: string, salt: number): string => `
  SELECT p.permno::INTEGER AS permno, t.d::DATE AS date,
         round(5 + (hash(p.permno, t.d, ${salt}) % 20000) / 100.0, 2) AS prc,
         ((hash(t.d, p.permno) % 2001)::DOUBLE - 1000) / 50000.0 AS ret,
         (hash(p.permno) % 5000000)::BIGINT AS vol
  FROM range(10000, ${10000 + permnos}) p(permno), range(DATE '${from}', DATE '${to}', INTERVAL 1 DAY) t(d)
  WHERE dayofweek(t.d) BETWEEN 1 AND 5`;

function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? bytesUnder(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

function cpR(from: readonly string[], to: string): number {
  const t0 = nowMs();
  const r = spawnSync('cp', ['-r', ...from, to]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  spawnSync('sync');
  return nowMs() - t0;
}

/**
 * Backup and restore of `dir` vs `cp -r` (then `sync`), `reps` times interleaved (the order
 * alternating). Returns each side's MiB/s per rep and prints the medians with the spread.
 */
async function measure(label: string, dir: string, log: EventLog, key: BackupKey, scratch: string, reps: number): Promise<BenchRow[]> {
  const paths = warehousePaths(dir);
  const size = bytesUnder(paths.objects) + statSync(paths.log).size;
  say(`${label}: ${(size / 1048576).toFixed(1)} MiB of objects and log`);
  const mibs = (ms: number) => size / 1048576 / (ms / 1000);
  const s = { backup: [] as number[], cp: [] as number[], restore: [] as number[], cpBack: [] as number[] };
  for (let rep = 0; rep < reps; rep++) {
    const target = join(scratch, `target-${rep}`);
    const runSubject = async (): Promise<void> => {
      const t0 = nowMs();
      await runBackup({ dir, log, name: 'bench', target: directoryTarget(target), key });
      spawnSync('sync');
      s.backup.push(mibs(nowMs() - t0));
    };
    const runCp = (): void => {
      const to = mkdtempSync(join(scratch, 'cp-'));
      s.cp.push(mibs(cpR([paths.objects, paths.log], to)));
      rmSync(to, { recursive: true, force: true });
    };
    const restoreSubject = async (): Promise<void> => {
      const out = join(scratch, `restored-${rep}`);
      const t0 = nowMs();
      await restoreBackup({ target: directoryTarget(target), key, out });
      spawnSync('sync');
      s.restore.push(mibs(nowMs() - t0));
      rmSync(out, { recursive: true, force: true });
    };
    const restoreCp = (): void => {
      const to = mkdtempSync(join(scratch, 'cpback-'));
      s.cpBack.push(mibs(cpR([target], to)));
      rmSync(to, { recursive: true, force: true });
    };
    if (rep % 2 === 0) {
      await runSubject();
      runCp();
      await restoreSubject();
      restoreCp();
    } else {
      runCp();
      await runSubject();
      restoreCp();
      await restoreSubject();
    }
    rmSync(target, { recursive: true, force: true });
    say(`  rep ${rep + 1}: backup ${fmt(s.backup[rep]!)} vs cp ${fmt(s.cp[rep]!)} MiB/s; restore ${fmt(s.restore[rep]!)} vs cp back ${fmt(s.cpBack[rep]!)} MiB/s`);
  }
  const ratios = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
  const spread = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
  const br = ratios(s.backup, s.cp);
  const rr = ratios(s.restore, s.cpBack);
  say(`${label}: backup/cp median ${fmt(stats(br).median)} (per-rep ratios ${spread(br)}); restore/cp median ${fmt(stats(rr).median)} (${spread(rr)}) over ${reps} reps`);
  return [
    row('backup', `${label}: backup run (AES-256-GCM) throughput, median of ${reps}`, stats(s.backup).median, 'MiB/s', stats(s.cp).median, 'backup/cp -r (higher is better)', { text: '>= 0.7', met: (r) => r >= 0.7 }),
    row('backup', `${label}: restore throughput, median of ${reps}`, stats(s.restore).median, 'MiB/s', stats(s.cpBack).median, 'restore/cp -r (higher is better)', { text: '>= 0.7', met: (r) => r >= 0.7 }),
  ];
}

/** The diff child: diff two points of a warehouse, print {ms, maxRssMiB}. */
async function diffChild(dir: string, a: string, b: string, out: string): Promise<void> {
  const log = openWarehouseLog(dir, { readonly: true });
  const t0 = nowMs();
  const pa = resolvePoint(log, a);
  const pb = resolvePoint(log, b);
  const o = { memoryLimit: '512MB', datasets: ['vintage'] };
  const summary = await diffSummary(dir, log, pa, pb, o);
  const rows = await writeDiffParquet(dir, log, pa, pb, out, o);
  process.stdout.write(JSON.stringify({ ms: nowMs() - t0, rss: process.resourceUsage().maxRSS / 1024, rows, changed: summary.datasets[0]?.rows.changed ?? 0 }) + '\n');
  log.close();
}

export async function benchBackup(o: z.infer<typeof optionsSchema> & CommonOptions): Promise<BenchRow[]> {
  const permnos = o.permnos ?? (o.quick ? 300 : 2000);
  const years = o.years ?? (o.quick ? 3 : 10);
  const diffRows = o.diffRows ?? (o.quick ? 200_000 : 1_000_000);
  const demoScale = o.demo ?? (o.quick ? 1 : 10);
  const reps = o.reps ?? (o.quick ? 3 : 5);
  const tmp = tempDir('backup', o.keep);
  const rows: BenchRow[] = [];
  try {
    const keyFile = join(tmp.path, 'backup.key');
    writeFileSync(keyFile, newKeyText(), { mode: 0o600 });
    const key = loadKey(keyFile);
    if (demoScale > 0) {
      const demo = join(tmp.path, 'demo');
      say(`building the demo warehouse at scale ${demoScale} (wh demo)...`);
      const t0 = nowMs();
      const r = spawnSync(process.execPath, [fileURLToPath(new URL('../cli/main.js', import.meta.url)), 'demo', demo, '--scale', String(demoScale)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`wh demo failed: ${r.stderr}`);
      say(`  built in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
      const demoLog = openWarehouseLog(demo);
      try {
        rows.push(...(await measure(`demo scale ${demoScale}`, demo, demoLog, key, tmp.path, reps)));
      } finally {
        demoLog.close();
      }
      rmSync(demo, { recursive: true, force: true });
    }
    const dir = join(tmp.path, 'wh');
    initWarehouse(dir, 'bench');
    const log = openWarehouseLog(dir);
    const duck = await openDuck({ threads: 2 });
    const src = join(tmp.path, 'src.parquet');
    try {
      say(`building a warehouse: ${permnos} permnos x ${years} yearly partitions...`);
      for (let y = 2015; y < 2015 + years; y++) {
        await duck.run(`COPY (${daily(permnos, `${y}-01-01`, `${y + 1}-01-01`, 0)}) TO ${quoteLiteral(src)} (FORMAT parquet)`);
        await ingestFile({ dir, log, dataset: 'prices', partition: String(y), file: src, key: ['permno', 'date'], whVersion: 'bench' });
      }

      if (demoScale === 0) rows.push(...(await measure(`synthetic ${permnos}x${years}`, dir, log, key, tmp.path, reps)));
      const target = join(tmp.path, 'target');
      const first = await runBackup({ dir, log, name: 'bench', target: directoryTarget(target), key });

      // One more day: a new partition of one trading day.
      await duck.run(`COPY (${daily(permnos, `${2015 + years}-01-02`, `${2015 + years}-01-03`, 0)}) TO ${quoteLiteral(src)} (FORMAT parquet)`);
      await ingestFile({ dir, log, dataset: 'prices', partition: `${2015 + years}`, file: src, key: ['permno', 'date'], whVersion: 'bench' });
      const second = await runBackup({ dir, log, name: 'bench', target: directoryTarget(target), key });
      say(`second backup: ${second.uploadedObjects} of ${second.objects} objects uploaded, ${second.uploadedBytes} bytes (incl. the log copy)`);
      rows.push(row('backup', 'second backup: bytes transferred', second.uploadedBytes, 'B', first.uploadedBytes, 'second/first'));
      rows.push(row('backup', 'second backup: objects transferred', second.uploadedObjects, 'objects', first.uploadedObjects, 'second/first', { text: '== 1', met: (_r, v) => v === 1 }));

      // Two vintages of one partition for the diff.
      const days = Math.ceil(diffRows / permnos / 0.72) + 1;
      const end = new Date(Date.UTC(2000, 0, 3) + days * 86400000).toISOString().slice(0, 10);
      await duck.run(`COPY (SELECT * FROM (${daily(permnos, '2000-01-03', end, 0)}) LIMIT ${diffRows}) TO ${quoteLiteral(src)} (FORMAT parquet)`);
      await ingestFile({ dir, log, dataset: 'vintage', partition: 'all', file: src, key: ['permno', 'date'], whVersion: 'bench' });
      const a = log.head().seq;
      await duck.run(`COPY (SELECT permno, date, prc, CASE WHEN hash(permno, date) % 100 = 0 THEN ret + 0.0001 ELSE ret END AS ret, vol FROM (${daily(permnos, '2000-01-03', end, 0)}) LIMIT ${diffRows}) TO ${quoteLiteral(src)} (FORMAT parquet)`);
      await ingestFile({ dir, log, dataset: 'vintage', partition: 'all', file: src, key: ['permno', 'date'], whVersion: 'bench' });
      log.close();
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--diff-child', dir, String(a), 'head', join(tmp.path, 'diff.parquet')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`diff child failed: ${r.stderr}`);
      const d = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rss: number; rows: number; changed: number };
      say(`diff of two ${diffRows.toLocaleString()}-row vintages: ${d.changed} rows changed, ${d.rows} diff rows, ${(d.ms / 1000).toFixed(2)} s, peak RSS ${d.rss.toFixed(0)} MiB`);
      rows.push(row('backup', `diff ${diffRows.toLocaleString()}-row vintages: rows compared/s`, diffRows / (d.ms / 1000), 'rows/s', null, null));
      rows.push(row('backup', 'diff: peak RSS of the diffing process', d.rss, 'MiB', null, null));
    } finally {
      duck.close();
      try {
        log.close();
      } catch {
        // closed before the diff child
      }
    }
  } finally {
    tmp.dispose();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--diff-child') {
    await diffChild(argv[1]!, argv[2]!, argv[3]!, argv[4]!);
  } else {
    const o = parseCli(argv, { permnos: { type: 'string' }, years: { type: 'string' }, diffRows: { type: 'string' }, demo: { type: 'string' }, reps: { type: 'string' } }, optionsSchema, USAGE);
    report(await benchBackup(o), o);
  }
}
