import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { openWarehouseLog } from '../src/store/index.js';
import { runWrdsDemo } from '../src/dev/index.js';
import { runQuery } from '../src/query/index.js';
import { EXIT, action, emit, makeLogger, parseOptions, table, whVersion } from './context.js';

const EXAMPLES: readonly { title: string; sql: string }[] = [
  { title: 'the daily stock file', sql: 'SELECT count(*) AS rows, count(DISTINCT permno) AS permnos, min(date) AS first, max(date) AS last, count(*) FILTER (WHERE prc < 0) AS midpoint_prices, count(*) FILTER (WHERE ret IS NULL) AS missing_returns FROM crsp_dsf' },
  { title: 'largest firms on the last session (market cap = |prc| x shrout x 1000)', sql: 'SELECT permno, date, abs(prc) AS price, round(abs(prc) * shrout * 1000 / 1e6, 1) AS mcap_musd FROM crsp_dsf WHERE date = (SELECT max(date) FROM crsp_dsf) ORDER BY mcap_musd DESC LIMIT 5' },
  { title: 'Fama–French factors by year (decimals)', sql: 'SELECT year(date) AS year, round(sum(mktrf), 4) AS mktrf, round(sum(smb), 4) AS smb, round(sum(hml), 4) AS hml FROM ff_factors_daily GROUP BY 1 ORDER BY 1 DESC LIMIT 5' },
];

export function register(program: Command): void {
  program
    .command('demo')
    .description("wh's main job on the embedded sample: start a local PostgreSQL with WRDS-shaped data, sync it all into a new warehouse, query, tag and verify it")
    .argument('[dir]', 'new warehouse directory (default: a fresh temporary directory)')
    .option('--seed <n>', 'sample seed (same seed, same data)', '1')
    .option('--scale <n>', 'sample size: 50 x scale securities, 2015-2024', '1')
    .action(
      action(async (g, dir: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ seed: z.coerce.number().int(), scale: z.coerce.number().min(1).max(2000) }), raw);
        const root = dir === undefined ? join(mkdtempSync(join(tmpdir(), 'wh-demo-')), 'warehouse') : resolve(dir);
        const say = (s: string) => {
          if (!g.json) process.stdout.write(s + '\n');
        };
        const res = await runWrdsDemo({ dir: root, seed: opts.seed, scale: opts.scale, whVersion: whVersion(), logger: makeLogger(g), say });
        const log = openWarehouseLog(root, { readonly: true });
        const examples: { title: string; sql: string; rows: readonly Record<string, unknown>[] }[] = [];
        try {
          for (const ex of EXAMPLES) {
            const q = await runQuery(root, log, ex.sql);
            examples.push({ ...ex, rows: q.rows });
            say(`\n-- ${ex.title}\nwh query "${ex.sql}"\n${table(q.rows)}`);
          }
        } finally {
          log.close();
        }
        say(
          [
            '',
            `The warehouse is in ${root}. Try:`,
            `  export WH_WAREHOUSE=${root}`,
            '  wh status                                   # datasets, leases, disk, recent events',
            '  wh query "SELECT * FROM crsp_msf LIMIT 5"   # every dataset is a view',
            `  wh replay --until ${res.tag} --out /tmp/replay   # a DuckDB file reproducing this state`,
            '  wh audit crsp_dsf                           # lineage: source SQL, vintage, lease, event',
            `  duckdb -readonly ${root}/catalog.duckdb      # any DuckDB client`,
          ].join('\n'),
        );
        emit(g, { warehouse: root, sourceRows: res.sourceRows, generateMs: res.generateMs, syncMs: res.syncMs, tag: res.tag, verified: res.verify.ok, datasets: res.results.map((r) => ({ dataset: r.dataset, status: r.status, rows: r.rows, error: r.error })), examples }, () => '');
        const failed = res.results.filter((r) => r.status === 'failed');
        if (failed.length > 0 || !res.verify.ok) {
          process.stderr.write(`wh: demo finished with problems: ${failed.map((f) => `${f.dataset}: ${f.error?.message}`).join('; ') || 'verification failed'}\n`);
          process.exitCode = EXIT.error;
        }
      }),
    );
}
