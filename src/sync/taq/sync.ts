/**
 * `wh taq sync`: for each session day in [start, end], pull the chosen symbols' trades, quotes,
 * NBBO and master rows, clean and aggregate them in DuckDB, and write one partition per day per
 * dataset of the tier through the one write path (disk guard, schema registry, validation gate →
 * quarantine, fenced PartitionWritten with lineage). Under the lease `dataset:taq`; SyncStarted /
 * SyncCompleted / SyncFailed per dataset. A (day, dataset) already written from the same source
 * vintage with the same SQL is skipped, so a killed sync resumes and a rerun over unchanged days
 * writes nothing at all (not even a lease event).
 */
import { createHash, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { isSession, sessionClose, sessions } from '../../calendar/index.js';
import { openDuck } from '../../engine/index.js';
import { WarehouseError, isWarehouseError, withLease, type EventLog, type Lease } from '../../log/index.js';
import { manifestAt } from '../../projections/index.js';
import { assertRoomFor, diskUsage, makeOwnedTempDir, refreshCatalogQuietly, warehousePaths, writePartition, type StatFs } from '../../store/index.js';
import type { SqlSource } from '../wrds/client.js';
import { parseVintage } from '../wrds/vintage.js';
import { TAQ_DATASETS, type TaqDataset } from './aggregates.js';
import { RAW_COLUMNS } from './clean-day.js';
import { accumulatedSelect, aggregateInBatches, batchesOf, DEFAULT_BATCH_SYMBOLS } from './day-batches.js';
import { attachRawFiles, pullBatch, pullSelect, taqRelations, type DayPlan, type PulledBatch, type RawKind } from './pull-day.js';
import { sessionWindow } from './rules.js';
import { sp500On } from './sp500.js';
import { validateTaqPartition } from './validate.js';

/** Bumped when a rule or aggregate changes meaning: every day is then recomputed once. */
export const TAQ_RULES_VERSION = 1;

export type TaqTier = 'aggregates' | 'samples' | 'both';
export type TaqSymbols = { readonly kind: 'list'; readonly symbols: readonly string[] } | { readonly kind: 'sp500' };

export interface TaqSyncOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly source: SqlSource;
  readonly symbols: TaqSymbols;
  readonly start: string;
  readonly end: string;
  readonly tier?: TaqTier;
  readonly dryRun?: boolean;
  /** Recompute days even if already written from the same vintage. */
  readonly full?: boolean;
  readonly acceptDrift?: boolean;
  readonly whVersion: string;
  readonly logger?: Logger;
  readonly statfs?: StatFs;
  readonly leaseTtlMs?: number;
  /** DuckDB threads; default {@link defaultTaqThreads}. */
  readonly threads?: number;
  /** Symbols pulled and aggregated at a time (bounded memory); default {@link DEFAULT_BATCH_SYMBOLS}. */
  readonly batchSymbols?: number;
  readonly onProgress?: (p: { day: string; index: number; total: number; status: 'written' | 'skipped' | 'missing'; rows: number }) => void;
}

export interface TaqDayOutcome {
  readonly day: string;
  readonly status: 'written' | 'unchanged' | 'skipped' | 'missing' | 'planned';
  readonly symbols: number;
  readonly datasets: Record<string, { status: string; rows: number }>;
  /** Where the day's time went (ms): pulling from the source, cleaning + aggregating in DuckDB, the write path. */
  readonly ms?: { readonly pull: number; readonly aggregate: number; readonly write: number };
}

export interface TaqSyncResult {
  readonly status: 'synced' | 'unchanged' | 'planned';
  readonly days: readonly TaqDayOutcome[];
  readonly rows: number;
  readonly durationMs: number;
}

const silent = pino({ level: 'silent' });

export function datasetsOfTier(tier: TaqTier): TaqDataset[] {
  return TAQ_DATASETS.filter((d) => tier === 'both' || d.tier === tier);
}

interface DayWork {
  readonly plan: DayPlan;
  readonly present: Record<RawKind, ReadonlySet<string>>;
  readonly symbols: readonly string[];
  readonly lineageSql: string;
  readonly todo: readonly TaqDataset[];
}

async function planDay(o: TaqSyncOptions, day: string, datasets: readonly TaqDataset[]): Promise<DayWork | null> {
  const rels = taqRelations(day);
  const present = {} as Record<RawKind, Set<string>>;
  for (const kind of Object.keys(rels) as (keyof typeof rels)[]) {
    const cols = await o.source.columns(rels[kind].schema, rels[kind].table);
    if (cols.length === 0) return null;
    present[kind] = new Set(cols.map((c) => c.name));
  }
  present.qcount = present.cqm;
  const win = sessionWindow(sessionClose(day));
  const symbols = o.symbols.kind === 'list' ? [...new Set(o.symbols.symbols)].sort() : await sp500On(o.source, day);
  if (symbols.length === 0) return null;
  const selects = Object.fromEntries((Object.keys(RAW_COLUMNS) as RawKind[]).map((k) => [k, pullSelect(k, day, symbols, present[k], win)])) as Record<RawKind, string>;
  const vintage = parseVintage(await o.source.comment(rels.ctm.schema, rels.ctm.table));
  const lineageSql = `-- wh taq rules v${TAQ_RULES_VERSION}, symbols ${symbols.join(',')}\n${Object.values(selects).join(';\n')}`;
  const todo = datasets.filter((d) => {
    if (o.full) return true;
    const m = manifestAt(o.log, undefined, d.name).find((e) => e.partition === day);
    if (m === undefined || vintage === null) return true;
    const e = o.log.get(m.writtenSeq);
    return !(e?.type === 'PartitionWritten' && e.data.lineage.vintage === vintage && e.data.lineage.sql === lineageSql);
  });
  return { plan: { day, selects, vintage }, present, symbols, lineageSql, todo };
}

/** Sync TAQ days. A failing day stops the run (committed days stay; the next run resumes). */
export async function syncTaq(o: TaqSyncOptions): Promise<TaqSyncResult> {
  const started = Date.now();
  const logger = o.logger ?? silent;
  const datasets = datasetsOfTier(o.tier ?? 'aggregates');
  const days = sessions(o.start, o.end).filter((d) => isSession(d));
  if (days.length === 0) {
    throw new WarehouseError('INVALID_ARGUMENT', `no NYSE session between ${o.start} and ${o.end}`, { suggestion: 'give --start and --end spanning at least one trading day' });
  }
  const outcomes: TaqDayOutcome[] = [];
  const work: DayWork[] = [];
  for (const day of days) {
    const w = await planDay(o, day, datasets);
    if (w === null) {
      logger.info({ day }, 'no TAQ tables (or no symbols) for this day at the source; skipped');
      outcomes.push({ day, status: 'missing', symbols: 0, datasets: {} });
      o.onProgress?.({ day, index: outcomes.length, total: days.length, status: 'missing', rows: 0 });
    } else if (w.todo.length === 0) {
      outcomes.push({ day, status: 'skipped', symbols: w.symbols.length, datasets: {} });
    } else work.push(w);
  }
  if (o.dryRun || work.length === 0) {
    for (const w of work) outcomes.push({ day: w.plan.day, status: 'planned', symbols: w.symbols.length, datasets: Object.fromEntries(w.todo.map((d) => [d.name, { status: 'planned', rows: 0 }])) });
    outcomes.sort((a, b) => a.day.localeCompare(b.day));
    return { status: o.dryRun && work.length > 0 ? 'planned' : 'unchanged', days: outcomes, rows: 0, durationMs: Date.now() - started };
  }
  // The 2x disk estimate before starting: each day's partitions about as large as the last ones written.
  const paths = warehousePaths(o.dir);
  const perDay = datasets.reduce((s, d) => s + Math.max(1 << 20, manifestAt(o.log, undefined, d.name).at(-1)?.bytes ?? 0), 0);
  assertRoomFor(diskUsage(paths.root, o.statfs), perDay * work.length);

  return withLeases(o.log, datasets.map((d) => d.name), { purpose: `taq sync ${o.start}..${o.end}`, ttlMs: o.leaseTtlMs }, async (leases) => {
    const runId = randomUUID();
    const vintage = work.map((w) => w.plan.vintage).filter((v): v is string => v !== null).sort().at(-1) ?? null;
    for (const d of datasets) {
      o.log.append([{ type: 'SyncStarted', data: { runId, dataset: d.name, source: `taqm (${o.start}..${o.end})`, vintage, comment: null, partitions: work.map((w) => w.plan.day), full: o.full ?? false } }], leases.get(d.name));
    }
    let rows = 0;
    // Pulled files, result parts and DuckDB's spill files live in a temporary directory this
    // process owns: `wh gc` leaves it alone while the sync runs (the sync holds dataset leases,
    // not the warehouse lease gc takes) and collects it if the process dies.
    const tmp = makeOwnedTempDir(o.dir, 'taq');
    const tally = new Map<string, { written: number; unchanged: number; rows: number }>(datasets.map((d) => [d.name, { written: 0, unchanged: 0, rows: 0 }]));
    try {
      for (const w of work) {
        const out = await syncDay(o, w, leases, tmp, logger);
        for (const [name, r] of Object.entries(out.datasets)) {
          const t = tally.get(name)!;
          if (r.status === 'written') t.written++;
          else t.unchanged++;
          t.rows += r.rows;
          rows += r.rows;
        }
        outcomes.push(out);
        o.onProgress?.({ day: w.plan.day, index: outcomes.length, total: days.length, status: 'written', rows });
      }
    } catch (e) {
      const err = isWarehouseError(e) ? e : new WarehouseError('IO_ERROR', (e as Error).message, { cause: e });
      await refreshCatalogQuietly(o.dir, o.log, logger);
      try {
        const partition = work.find((w) => !outcomes.some((x) => x.day === w.plan.day))?.plan.day ?? null;
        for (const d of datasets) o.log.append([{ type: 'SyncFailed', data: { runId, dataset: d.name, partition, code: err.code, message: err.message } }], leases.get(d.name));
      } catch {
        // fenced out: still reported to the caller
      }
      throw err;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    await refreshCatalogQuietly(o.dir, o.log, logger);
    const durationMs = Date.now() - started;
    const skipped = outcomes.filter((d) => d.status === 'skipped').length;
    for (const d of datasets) {
      const t = tally.get(d.name)!;
      o.log.append([{ type: 'SyncCompleted', data: { runId, dataset: d.name, vintage, written: t.written, unchanged: t.unchanged, skipped, rows: t.rows, durationMs } }], leases.get(d.name));
    }
    outcomes.sort((a, b) => a.day.localeCompare(b.day));
    return { status: 'synced' as const, days: outcomes, rows, durationMs };
  });
}

/** Hold `dataset:<name>` for every dataset (acquired in order, released in reverse) while `fn` runs. */
async function withLeases<T>(log: EventLog, names: readonly string[], opts: { purpose: string; ttlMs?: number }, fn: (leases: ReadonlyMap<string, Lease>) => Promise<T>, held = new Map<string, Lease>()): Promise<T> {
  const [first, ...rest] = names;
  if (first === undefined) return fn(held);
  return withLease(log, `dataset:${first}`, opts, (lease) => withLeases(log, rest, opts, fn, new Map([...held, [first, lease]])));
}

/** DuckDB threads of a TAQ sync unless told: every CPU, up to 16 (the sorts and joins scale with them). */
export function defaultTaqThreads(): number {
  return Math.max(1, Math.min(16, availableParallelism()));
}

async function syncDay(o: TaqSyncOptions, w: DayWork, leases: ReadonlyMap<string, Lease>, tmp: string, logger: Logger): Promise<TaqDayOutcome> {
  const { day } = w.plan;
  const win = sessionWindow(sessionClose(day));
  // returnMemory: DuckDB's default keeps up to 128 MB freed by one statement for the next, which
  // made the aggregation 20-25 % faster here but let the resident size climb with the batches of a
  // day (peak RSS at 10x the symbols 1.35x, bench/taq.ts --quick); a flat resident size wins.
  const duck = await openDuck({ threads: o.threads ?? defaultTaqThreads(), memoryLimit: '1GB', tempDirectory: join(tmp, 'duckdb'), returnMemory: true });
  try {
    const kinds = Object.keys(RAW_COLUMNS) as RawKind[];
    // Pulled and aggregated a batch of symbols at a time; the lineage records the day's query.
    // Batches are pulled one after another (one COPY at a time on the source), each as soon as the
    // one before has arrived, while DuckDB cleans those already here; `pull` is the time spent
    // waiting for the source. A failed pull stops the ones queued after it.
    const batches = batchesOf(w.symbols, o.batchSymbols ?? DEFAULT_BATCH_SYMBOLS);
    const pulls: Promise<PulledBatch>[] = [];
    const taken = new Set<number>();
    let queue: Promise<unknown> = Promise.resolve();
    const pullAt = (i: number): Promise<PulledBatch> | undefined => {
      for (let j = pulls.length; j <= i && j < batches.length; j++) {
        const selects = Object.fromEntries(kinds.map((k) => [k, pullSelect(k, day, batches[j]!, w.present[k], win)])) as Record<RawKind, string>;
        const p = queue.then(() => pullBatch(o.source, { ...w.plan, selects }, tmp, String(j)));
        p.catch(() => undefined); // awaited when its turn comes, or released below
        pulls.push(p);
        queue = p;
      }
      return pulls[i];
    };
    const parts = join(tmp, `parts-${day}`);
    let pull = 0;
    const t0 = Date.now();
    try {
      await aggregateInBatches(
        duck,
        day,
        win,
        w.todo,
        batches.map((_, i) => i),
        async (i, conn) => {
          const p0 = Date.now();
          const pending = pullAt(i)!;
          taken.add(i);
          pullAt(i + 1);
          const pulled = await pending;
          pull += Date.now() - p0;
          try {
            await attachRawFiles(conn, pulled.files);
          } catch (e) {
            await pulled.release();
            throw e;
          }
          return () => pulled.release();
        },
        { partsDir: parts },
      );
    } finally {
      // Batches pulled ahead of a failure: wait for each, then delete its files.
      for (const [i, p] of pulls.entries()) if (!taken.has(i)) await p.then((b) => b.release(), () => undefined);
    }
    const t1 = Date.now();
    const results: TaqDayOutcome['datasets'] = {};
    const rels = taqRelations(day);
    for (const d of w.todo) {
      const current = manifestAt(o.log, undefined, d.name).find((m) => m.partition === day);
      const res = await writePartition(
        { dir: o.dir, log: o.log, duck, lease: leases.get(d.name)!, logger, statfs: o.statfs },
        {
          dataset: d.name,
          partition: day,
          selectSql: accumulatedSelect(d),
          columns: d.columns,
          key: d.key,
          sortKey: d.sortKey,
          estimatedBytes: Math.max(1 << 20, (current?.bytes ?? 0) * 2),
          acceptDrift: o.acceptDrift,
          refreshCatalog: false,
          validate: (file, n) => validateTaqPartition(duck, d, file, n, day, win, w.symbols.length),
          lineage: {
            kind: 'sync',
            source: `${rels.ctm.schema}.${rels.ctm.table}`,
            sourceHash: createHash('sha256').update(w.lineageSql).digest('hex'),
            sql: w.lineageSql,
            vintage: w.plan.vintage,
            whVersion: o.whVersion,
          },
        },
      );
      results[d.name] = { status: res.status, rows: res.entry.rows };
    }
    const anyWritten = Object.values(results).some((r) => r.status === 'written');
    const ms = { pull, aggregate: t1 - t0 - pull, write: Date.now() - t1 };
    logger.info({ day, ...ms }, 'taq day timings');
    return { day, status: anyWritten ? 'written' : 'unchanged', symbols: w.symbols.length, datasets: results, ms };
  } finally {
    duck.close();
    rmSync(join(tmp, `parts-${day}`), { recursive: true, force: true });
  }
}
