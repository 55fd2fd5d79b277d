/**
 * Start-up of whole `wh` processes against baselines run in the same session, interleaved:
 * - `wh --help` vs `node -e "import('commander')"` (goal <= 1.5x);
 * - a one-permno `wh query` on a demo warehouse vs a node script that opens DuckDB and reads the
 *   same object files with read_parquet (goal <= 1.25x);
 * - `wh status` on a 100k-event log, printed beside the same command on a 1k-event log.
 *
 *   node dist/bench/cli.js [--quick] [--warehouse DIR] [--runs N]
 * Without --warehouse it builds one with `wh demo` (needs the embedded PostgreSQL; ~20 s).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { manifestAt } from '../src/projections/index.js';
import { objectPath, openWarehouseLog } from '../src/store/index.js';
import { createSyntheticLog, growSyntheticLog } from './synthetic-log.js';
import { nowMs, parseCli, report, row, say, stats, tempDir, type BenchRow } from './harness.js';

const USAGE = `usage: node dist/bench/cli.js [options]
  --quick            fewer runs
  --runs N           runs of each command (default 15; 5 with --quick)
  --warehouse DIR    an existing demo warehouse (default: build one with wh demo)
  --keep             keep the temporary directory`;

const options = parseCli(process.argv.slice(2), { runs: { type: 'string' }, warehouse: { type: 'string' } }, z.object({ runs: z.coerce.number().int().positive().optional(), warehouse: z.string().optional() }), USAGE);
const runs = options.runs ?? (options.quick ? 5 : 15);
const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const tmp = tempDir('cli', options.keep);

function wall(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = nowMs();
  const r = spawnSync(cmd, [...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const ms = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Median wall time of each command, run interleaved (a, b, a, b, ...) after one warm-up each. */
function interleaved(cmds: readonly (readonly [string, readonly string[]])[]): number[] {
  for (const [c, a] of cmds) wall(c, a);
  const samples: number[][] = cmds.map(() => []);
  for (let i = 0; i < runs; i++) cmds.forEach(([c, a], k) => samples[k]!.push(wall(c, a)));
  return samples.map((s) => stats(s).median);
}

const rows: BenchRow[] = [];
try {
  // 1. --help
  say(`wh --help vs import('commander'), ${runs} runs each`);
  const [help, commander] = interleaved([
    [process.execPath, [main, '--help']],
    [process.execPath, ['-e', "import('commander')"]],
  ]);
  rows.push(row('cli', 'wh --help (wall)', help!, 'ms', commander!, "wh/import('commander')", { text: '<= 1.5', met: (r) => r <= 1.5 }));

  // 2. one-permno query
  const wh = options.warehouse ?? join(tmp.path, 'demo');
  if (options.warehouse === undefined) {
    say('building a demo warehouse (wh demo) ...');
    wall(process.execPath, [main, 'demo', wh]);
  }
  const log = openWarehouseLog(wh, { readonly: true });
  const files = manifestAt(log, undefined, 'crsp_dsf').map((m) => objectPath(wh, m.object));
  log.close();
  const permno = spawnSync(process.execPath, [main, '-w', wh, 'query', 'SELECT min(permno) AS p FROM crsp_dsf', '--format', 'csv'], { encoding: 'utf8' }).stdout.split('\n')[1]!.trim();
  const sql = `SELECT * FROM crsp_dsf WHERE permno = ${permno} AND date >= '2024-12-01' ORDER BY date`;
  const script = join(tmp.path, 'raw-duckdb.mjs');
  const duckdb = fileURLToPath(new URL('../../node_modules/@duckdb/node-api/lib/index.js', import.meta.url));
  writeFileSync(
    script,
    `import { DuckDBInstance } from ${JSON.stringify(duckdb)};
const files = ${JSON.stringify(files)};
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(\`SELECT * FROM read_parquet(\${JSON.stringify(files).replaceAll('"', "'")}) WHERE permno = ${permno} AND date >= '2024-12-01' ORDER BY date\`);
for (const row of r.getRowObjectsJson()) process.stdout.write(JSON.stringify(row) + '\\n');
`,
  );
  say(`one-permno query (permno ${permno}, ${files.length} crsp_dsf objects), ${runs} runs each`);
  const [query, raw] = interleaved([
    [process.execPath, [main, '-w', wh, 'query', sql]],
    [process.execPath, [script]],
  ]);
  rows.push(row('cli', 'wh query, one permno (wall)', query!, 'ms', raw!, 'wh/raw DuckDB script', { text: '<= 1.25', met: (r) => r <= 1.25 }));

  // 3. wh status on long logs
  const small = createSyntheticLog(join(tmp.path, 'small'));
  growSyntheticLog(small, 1_000);
  small.log.close();
  const big = createSyntheticLog(join(tmp.path, 'big'));
  say('growing a 100k-event log ...');
  growSyntheticLog(big, 100_000);
  big.log.close();
  const [status1k, status100k] = interleaved([
    [process.execPath, [main, '-w', small.dir, 'status', '--json']],
    [process.execPath, [main, '-w', big.dir, 'status', '--json']],
  ]);
  rows.push(row('cli', 'wh status, 100k-event log (wall)', status100k!, 'ms', status1k!, '100k/1k events'));
} finally {
  tmp.dispose();
}
report(rows, options);
