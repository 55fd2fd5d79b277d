/**
 * `wh taq`: sync TAQ aggregates and tick samples from WRDS (`wh taq sync`), and read them as of
 * any warehouse point (`wh taq bars|rv|spreads|ticks`). See docs/concepts/taq.md.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { connectWrds, readWarehouseSettings, resolvePassword, resolveSettings, settingsFromEnv, syncTaq, type TaqSymbols } from '../src/sync/index.js';
import { WarehouseError } from '../src/log/index.js';
import { planTaq, taqKinds, type TaqKind } from '../src/providers/index.js';
import { action, emit, makeLogger, parseOptions, table, whVersion, withLog, type GlobalOptions } from './context.js';
import { listOf, outputFlags, outputSchema, withWarehouse, writePlan } from './prices.js';

const syncSchema = z.object({
  symbols: z.string().optional(),
  symbolsFile: z.string().optional(),
  start: z.string(),
  end: z.string(),
  tier: z.enum(['aggregates', 'samples', 'both']).optional(),
  dryRun: z.boolean().optional(),
  full: z.boolean().optional(),
  acceptSchemaChange: z.boolean().optional(),
  rateLimit: z.coerce.number().int().positive().optional(),
  threads: z.coerce.number().int().min(1).max(256).optional(),
  wrdsHost: z.string().optional(),
  wrdsPort: z.coerce.number().int().min(1).max(65535).optional(),
  wrdsDatabase: z.string().optional(),
  wrdsUser: z.string().optional(),
  wrdsSslmode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
});

const querySchema = outputSchema.extend({ symbols: listOf(z.string()), start: z.string(), end: z.string() });

/** --symbols AAPL,MSFT | --symbols sp500 | --symbols-file f (one per line or comma-separated; # comments). */
export function symbolsFrom(o: { symbols?: string; symbolsFile?: string }): TaqSymbols {
  if ((o.symbols === undefined) === (o.symbolsFile === undefined)) {
    throw new WarehouseError('INVALID_ARGUMENT', 'give exactly one of --symbols and --symbols-file', { suggestion: 'e.g. --symbols AAPL,MSFT, --symbols sp500 or --symbols-file tickers.txt' });
  }
  if (o.symbols?.trim().toLowerCase() === 'sp500') return { kind: 'sp500' };
  let text = o.symbols ?? '';
  if (o.symbolsFile !== undefined) {
    try {
      text = readFileSync(o.symbolsFile, 'utf8');
    } catch (e) {
      throw new WarehouseError('INVALID_ARGUMENT', `cannot read --symbols-file ${o.symbolsFile}: ${(e as Error).message}`, { suggestion: 'give a readable file with one symbol per line' });
    }
  }
  const symbols = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '')).join(',').split(/[,\s]+/).map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  const bad = symbols.filter((s) => !/^[A-Z0-9][A-Z0-9./-]{0,15}$/.test(s));
  if (bad.length > 0 || symbols.length === 0) {
    throw new WarehouseError('INVALID_ARGUMENT', symbols.length === 0 ? 'no symbols given' : `not a TAQ symbol: ${bad.slice(0, 5).join(', ')}`, { suggestion: 'symbols are letters and digits with an optional .SUFFIX, e.g. AAPL, BRK.B' });
  }
  return { kind: 'list', symbols };
}

async function runSync(g: GlobalOptions, raw: unknown): Promise<void> {
  const o = parseOptions(syncSchema, raw);
  const symbols = symbolsFrom(o);
  const settings = resolveSettings(
    { host: o.wrdsHost, port: o.wrdsPort, database: o.wrdsDatabase, user: o.wrdsUser, sslmode: o.wrdsSslmode },
    settingsFromEnv(process.env),
    readWarehouseSettings(g.warehouse),
  );
  const password = resolvePassword(settings, process.env, homedir());
  const logger = makeLogger(g, { level: g.quiet ? 'error' : 'info' });
  const tty = process.stderr.isTTY === true && !g.json && !g.quiet;
  await withLog(g, async (log) => {
    const source = await connectWrds({ settings, password, queriesPerMinute: o.rateLimit, logger });
    try {
      const started = Date.now();
      const r = await syncTaq({
        dir: g.warehouse, log, source, symbols, start: o.start, end: o.end, tier: o.tier, dryRun: o.dryRun, full: o.full,
        acceptDrift: o.acceptSchemaChange, threads: o.threads, whVersion: whVersion(), logger,
        onProgress: (p) => {
          const rate = Math.round((p.rows * 1000) / Math.max(1, Date.now() - started));
          if (tty) process.stderr.write(`\r\x1b[Ktaq ${p.index}/${p.total} days (${p.day} ${p.status})  ${p.rows.toLocaleString()} rows  ${rate.toLocaleString()} rows/s${p.index === p.total ? '\n' : ''}`);
          else logger.info({ day: p.day, status: p.status, done: p.index, total: p.total, rows: p.rows }, 'taq day');
        },
      });
      emit(g, r, () =>
        table(r.days.filter((d) => d.status !== 'missing').map((d) => ({ day: d.day, status: d.status, symbols: d.symbols, ...Object.fromEntries(Object.entries(d.datasets).map(([k, v]) => [k, `${v.status} ${v.rows}`])) }))) +
        `\n${r.status}: ${r.rows} rows in ${(r.durationMs / 1000).toFixed(1)} s; ${r.days.filter((d) => d.status === 'missing').length} day(s) without TAQ tables at the source`,
      );
    } finally {
      await source.close();
    }
  });
}

export function register(program: Command): void {
  const taq = program.command('taq').description('TAQ minute bars, realized variance, spreads and tick samples: sync from WRDS and query as of any point');
  taq
    .command('sync')
    .description('pull TAQ days, clean them (Holden–Jacobsen) and write one partition per day per dataset; resumable, idempotent, validated')
    .option('--symbols <list>', 'AAPL,MSFT, or sp500 (the members on each day, from crsp.dsp500list)')
    .option('--symbols-file <file>', 'symbols, one per line or comma-separated (# comments)')
    .requiredOption('--start <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--end <date>', 'last day, YYYY-MM-DD')
    .option('--tier <tier>', 'aggregates (bars, rv, spreads; default) | samples (ticks) | both')
    .option('--dry-run', 'show the days and datasets that would be written; write nothing')
    .option('--full', 'recompute days already written from the same source vintage')
    .option('--accept-schema-change', 'accept a removed column or changed type')
    .option('--rate-limit <n>', 'at most n source queries per minute (default 600)')
    .option('--threads <n>', 'DuckDB threads for the cleaning and aggregation (default: every CPU, up to 16)')
    .option('--wrds-host <host>', 'as `wh sync`: default $WRDS_HOST, wrds.json, else the WRDS server')
    .option('--wrds-port <port>', 'default $WRDS_PORT, else 9737')
    .option('--wrds-database <db>', 'default $WRDS_DATABASE, else wrds')
    .option('--wrds-user <user>', 'default $WRDS_USERNAME or wrds.json')
    .option('--wrds-sslmode <mode>', 'default $WRDS_SSLMODE, else require')
    .addHelpText('after', '\nExamples:\n  wh taq sync --symbols AAPL,MSFT --start 2024-03-01 --end 2024-03-31\n  wh taq sync --symbols sp500 --start 2024-03-01 --end 2024-03-31 --tier aggregates   # nightly; exit 0 ok, 1 error, 2 lease held, 3 validation\n  wh taq sync --symbols-file sample.txt --start 2024-03-15 --end 2024-03-15 --tier samples\n')
    .action(action(async (g, raw: unknown) => runSync(g, raw)));

  const about: Record<TaqKind, string> = {
    bars: '1-minute bars (exchange time; empty minutes have NULL prices and zero volume)',
    rv: 'daily realized variance from 5- and 30-minute sampling',
    spreads: 'quoted, effective, realized spreads and price impact (Lee–Ready, EMO, CLNV)',
    ticks: 'cleaned trades and the complete NBBO of sampled days',
  };
  for (const kind of taqKinds) {
    outputFlags(
      taq
        .command(kind)
        .description(about[kind])
        .requiredOption('--symbols <list...>', 'symbols (repeat or comma-separate)')
        .requiredOption('--start <date>', 'first day, YYYY-MM-DD')
        .requiredOption('--end <date>', 'last day, YYYY-MM-DD'),
    )
      .addHelpText('after', `\nExample:\n  wh taq ${kind} --symbols AAPL --start 2024-03-15 --end 2024-03-15 --as-of paper-v1 --format csv\n`)
      .action(
        action(async (g, raw: unknown) => {
          const o = parseOptions(querySchema, raw);
          await withWarehouse(g, o.asOf, async (wh) => writePlan(g, wh, planTaq(wh.session, kind, { symbols: o.symbols ?? [], start: o.start, end: o.end }), o));
        }),
      );
  }
}
