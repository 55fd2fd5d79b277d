import { homedir } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  connectWrds,
  findDatasets,
  parseYears,
  readWarehouseSettings,
  resolvePassword,
  resolveSettings,
  settingsFromEnv,
  syncDatasets,
  syncStatus,
  type DatasetSyncResult,
  type SyncProgress,
} from '../src/sync/index.js';
import { runFrenchLoad } from './french.js';
import { runYahooSync } from './yahoo.js';
import { WarehouseError } from '../src/log/index.js';
import { healthSummaryLine } from '../src/projections/index.js';
import { EXIT, action, emit, exitCodeFor, makeLogger, parseOptions, table, whVersion, withLog, type GlobalOptions } from './context.js';

const optionsSchema = z.object({
  all: z.boolean().optional(),
  full: z.boolean().optional(),
  force: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  status: z.boolean().optional(),
  years: z.string().optional(),
  numeric: z.enum(['float64', 'decimal']).optional(),
  acceptSchemaChange: z.boolean().optional(),
  rateLimit: z.coerce.number().int().positive().optional(),
  lateAfterDays: z.coerce.number().int().positive().optional(),
  concurrency: z.coerce.number().int().min(1).max(3).optional(),
  wrdsHost: z.string().optional(),
  wrdsPort: z.coerce.number().int().min(1).max(65535).optional(),
  wrdsDatabase: z.string().optional(),
  wrdsUser: z.string().optional(),
  wrdsSslmode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
  from: z.string().optional(),
  symbols: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  baseUrl: z.string().optional(),
  allowProduction: z.boolean().optional(),
});

/** A progress line on a TTY; JSON log lines otherwise. */
function progressReporter(g: GlobalOptions, logger: ReturnType<typeof makeLogger>): (p: SyncProgress) => void {
  const tty = process.stderr.isTTY === true && !g.json && !g.quiet;
  const rowsBy = new Map<string, number>();
  return (p) => {
    const rows = (rowsBy.get(p.dataset) ?? 0) + p.rows;
    rowsBy.set(p.dataset, rows);
    const rate = p.elapsedMs > 0 ? Math.round((rows * 1000) / p.elapsedMs) : 0;
    const done = p.index + (p.status === 'started' ? 0 : 1);
    const eta = done > 0 ? Math.round(((p.elapsedMs / done) * (p.total - done)) / 1000) : 0;
    if (tty) {
      process.stderr.write(`\r\x1b[K${p.dataset} ${done}/${p.total} partitions (${p.partition} ${p.status})  ${rows.toLocaleString()} rows  ${rate.toLocaleString()} rows/s  ETA ${eta}s`);
      if (done === p.total && p.status !== 'started') process.stderr.write('\n');
    } else if (p.status !== 'started') {
      logger.info({ dataset: p.dataset, partition: p.partition, status: p.status, rows: p.rows, done, total: p.total, rowsPerSec: rate, etaSec: eta }, 'partition');
    }
  };
}

function exitFor(results: readonly DatasetSyncResult[]): number {
  const codes = results.filter((r) => r.status === 'failed').map((r) => exitCodeFor(r.error?.code as never));
  if (codes.includes(EXIT.error)) return EXIT.error;
  if (codes.includes(EXIT.validation)) return EXIT.validation;
  if (codes.includes(EXIT.leaseHeld)) return EXIT.leaseHeld;
  return EXIT.ok;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description('pull WRDS datasets into the warehouse (incremental, resumable, validated); cron-friendly exit codes')
    .argument('[datasets...]', 'dataset names (see `wh sync --status` or docs/concepts/wrds-sync.md), or --all')
    .option('--all', 'every dataset in the catalogue')
    .option('--full', 're-pull every partition even if its source rows are unchanged')
    .option('--force', 'run even if the source vintage has not changed')
    .option('--dry-run', 'show what would be pulled; write nothing')
    .option('--years <range>', 'only these years of yearly-partitioned datasets, e.g. 2000-2024')
    .option('--numeric <policy>', 'numeric(p,s) columns as float64 (default) or decimal')
    .option('--accept-schema-change', 'accept a removed column or changed type at the source')
    .option('--rate-limit <n>', 'at most n source queries per minute (default 600)')
    .option('--concurrency <n>', 'partitions in flight, 1-3 (default 2): one transfers while the other encodes and commits')
    .option('--late-after-days <n>', 'alert (late_data) when a source has not been updated for n days')
    .option('--status', 'show the last run of every dataset and any sync in progress')
    .option('--from <file|zip|url>', '`wh sync french`: the Kenneth French file to load')
    .option('--symbols <list>', '`wh sync yahoo`: tickers, e.g. AAPL,MSFT')
    .option('--start <date>', '`wh sync yahoo`: first day')
    .option('--end <date>', '`wh sync yahoo`: last day')
    .option('--base-url <url>', '`wh sync yahoo`: chart API base (a replay server in tests)')
    .option('--allow-production', '`wh sync yahoo`: run even though WH_ENV=production')
    .option('--wrds-host <host>', 'default $WRDS_HOST, wrds.json, else the WRDS server')
    .option('--wrds-port <port>', 'default $WRDS_PORT, else 9737')
    .option('--wrds-database <db>', 'default $WRDS_DATABASE, else wrds')
    .option('--wrds-user <user>', 'default $WRDS_USERNAME or wrds.json')
    .option('--wrds-sslmode <mode>', 'default $WRDS_SSLMODE, else require (required for any non-local host)')
    .addHelpText(
      'after',
      `
The password is read from PGPASSWORD or ~/.pgpass (mode 0600), never from flags or files in the warehouse.

Examples:
  wh sync crsp_dsf crsp_dsenames --years 2000-2024
  wh sync --all                      # nightly from cron; exit 0 ok, 1 error, 2 lease held, 3 validation failure
  wh sync --status
  wh sync french --from F-F_Research_Data_Factors_daily_CSV.zip     # same as: wh french load <file>
  wh sync yahoo --symbols AAPL,MSFT --start 2020-01-01 --end 2020-12-31   # same as: wh yahoo sync`,
    )
    .action(
      action(async (g, names: string[], raw: unknown) => {
        const opts = parseOptions(optionsSchema, raw);
        if (names[0] === 'french' || names[0] === 'yahoo') {
          if (names.length > 1) throw new WarehouseError('INVALID_ARGUMENT', `\`wh sync ${names[0]}\` takes no dataset names`, { suggestion: names[0] === 'french' ? 'use --from <file|zip|url>' : 'use --symbols' });
          if (names[0] === 'french') {
            if (opts.from === undefined) throw new WarehouseError('INVALID_ARGUMENT', '`wh sync french` needs --from <file|zip|url>', { suggestion: 'e.g. wh sync french --from F-F_Research_Data_Factors.CSV' });
            await runFrenchLoad(g, opts.from, { force: opts.force, acceptSchemaChange: opts.acceptSchemaChange });
          } else {
            await runYahooSync(g, { symbols: opts.symbols, start: opts.start, end: opts.end, baseUrl: opts.baseUrl, allowProduction: opts.allowProduction });
          }
          return;
        }
        if (opts.status) {
          await withLog(g, (log) => {
            const rows = syncStatus(log);
            emit(g, rows, () =>
              rows.length === 0
                ? 'no sync has run yet'
                : table(rows.map((r) => ({ dataset: r.dataset, running: r.running === null ? '' : `pid ${r.running.pid} since ${r.running.since}`, last_run: r.lastRun?.outcome ?? '', started: r.lastRun?.startedAt ?? '', vintage: r.lastRun?.vintage ?? '', partitions: r.partitions, rows: r.rows, message: r.lastRun?.message ?? '' }))),
            );
          }, { readonly: true });
          return;
        }
        const defs = findDatasets(names, opts.all ?? false);
        const years = parseYears(opts.years);
        const env = process.env;
        const settings = resolveSettings(
          { host: opts.wrdsHost, port: opts.wrdsPort, database: opts.wrdsDatabase, user: opts.wrdsUser, sslmode: opts.wrdsSslmode },
          settingsFromEnv(env),
          readWarehouseSettings(g.warehouse),
        );
        const password = resolvePassword(settings, env, homedir());
        const logger = makeLogger(g, { level: g.quiet ? 'error' : 'info' });
        await withLog(g, async (log) => {
          const source = await connectWrds({ settings, password, queriesPerMinute: opts.rateLimit, logger });
          try {
            const results = await syncDatasets({
              dir: g.warehouse,
              log,
              source,
              datasets: defs,
              years,
              full: opts.full,
              force: opts.force,
              dryRun: opts.dryRun,
              numericPolicy: opts.numeric,
              acceptDrift: opts.acceptSchemaChange,
              lateAfterDays: opts.lateAfterDays,
              concurrency: opts.concurrency,
              whVersion: whVersion(),
              logger,
              onProgress: progressReporter(g, logger),
            });
            emit(g, results, () =>
              table(
                results.map((r) => ({
                  dataset: r.dataset,
                  status: r.status,
                  vintage: r.vintage ?? '',
                  written: r.partitions.filter((p) => p.status === 'written').length,
                  skipped: r.partitions.filter((p) => p.status === 'skipped' || p.status === 'unchanged').length,
                  planned: r.partitions.filter((p) => p.status === 'planned').length,
                  rows: r.rows,
                  seconds: (r.durationMs / 1000).toFixed(1),
                  error: r.error === undefined ? '' : `${r.error.message}${r.error.suggestion ? ` (fix: ${r.error.suggestion})` : ''}`,
                })),
              ),
            );
            if (!g.json && !g.quiet) for (const r of results) if (r.health != null) process.stdout.write(`${healthSummaryLine(r.health)}\n`);
            process.exitCode = exitFor(results);
          } finally {
            await source.close();
          }
        });
      }),
    );
}
