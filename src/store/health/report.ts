/**
 * A dataset's health report after a write: the partitions the write changed are examined (against
 * their previous version), unchanged partitions keep the findings of the last report, and the
 * result is recorded as one `HealthReported` event. Runs over the objects through DuckDB; the
 * write itself never fails because of a finding.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { EventData, EventLog, HealthFinding } from '../../log/index.js';
import { quoteIdent, quoteLiteral, type Duck } from '../../engine/index.js';
import { healthAt, manifestAt, schemaOf, type ManifestEntry } from '../../projections/index.js';
import { objectPath } from '../layout.js';
import { healthShape, type HealthShape } from './shape.js';
import { defaultThresholds, duplicateKeys, nullRates, type CheckInput, type HealthThresholds } from './checks.js';
import { lateData } from './price-checks.js';
import { seriesPass, type SeriesFindings } from './series-pass.js';

export type HealthTrigger = EventData<'HealthReported'>['trigger'];
export type HealthReportData = EventData<'HealthReported'>;

export interface HealthOptions {
  readonly dir: string;
  readonly log: EventLog;
  readonly duck: Duck;
  readonly dataset: string;
  readonly trigger: HealthTrigger;
  /** The seq just before the write (the previous version); null: compare with nothing. */
  readonly previousSeq: number | null;
  /** The point the report describes; the head by default. */
  readonly seq?: number;
  /** Examine every partition, not only the changed ones. */
  readonly all?: boolean;
  /** Append the HealthReported event (default true). */
  readonly record?: boolean;
  readonly thresholds?: Partial<HealthThresholds>;
  readonly logger?: Logger;
  /** Rows of the partitions examined together (default 5,000,000): bounds the report's memory. */
  readonly groupRows?: number;
}

let silentLogger: Logger | undefined;
/** Silent by default; pino loads only when a report runs without a logger. */
const silent = (): Logger => (silentLogger ??= (createRequire(import.meta.url)('pino') as typeof import('pino')).pino({ level: 'silent' }));

/**
 * Compute (and by default record) the health report of `dataset`. Returns null when the dataset
 * has no partition at the point.
 */
export async function reportHealth(o: HealthOptions): Promise<HealthReportData | null> {
  const started = performance.now();
  const logger = o.logger ?? silent();
  const seq = o.seq ?? o.log.head().seq;
  const current = manifestAt(o.log, seq, o.dataset).sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
  if (current.length === 0) return null;
  const previous = new Map<string, ManifestEntry>(o.previousSeq === null ? [] : manifestAt(o.log, o.previousSeq, o.dataset).map((m) => [m.partition, m]));
  const last = healthAt(o.log, seq, o.dataset)[0];
  const lastObject = new Map(last?.partitions.map((p) => [p.partition, p.object]) ?? []);
  const schema = schemaOf(o.log, o.dataset, seq);
  const shape = healthShape(schema?.columns ?? [], schema?.key ?? []);
  const t: HealthThresholds = { ...defaultThresholds, ...o.thresholds };

  const carried: HealthFinding[] = [];
  const found: HealthFinding[] = [];
  const partitions: HealthReportData['partitions'] = [];
  const examine: Examined[] = [];
  for (const m of current) {
    const prev = previous.get(m.partition);
    const keep = o.all !== true && lastObject.get(m.partition) === m.object && (prev === undefined || prev.object === m.object);
    partitions.push({ partition: m.partition, object: m.object, rows: m.rows, previousRows: prev?.rows ?? null, checked: !keep });
    if (keep) {
      carried.push(...(last?.findings.filter((f) => f.partition === m.partition) ?? []));
      continue;
    }
    if (prev !== undefined && m.rows < prev.rows) {
      found.push({ kind: 'rows_decreased', partition: m.partition, count: prev.rows - m.rows, message: `rows fell from ${prev.rows.toLocaleString('en-US')} to ${m.rows.toLocaleString('en-US')}`, samples: [{ before: prev.rows, after: m.rows }], windows: [] });
    }
    const path = objectPath(o.dir, m.object);
    if (!existsSync(path)) continue; // verify reports missing objects
    const previousPath = prev !== undefined && prev.object !== m.object && existsSync(objectPath(o.dir, prev.object)) ? objectPath(o.dir, prev.object) : null;
    examine.push({ partition: m.partition, path, previousPath, rows: m.rows });
  }
  // Partitions are examined in groups of at most ~GROUP_ROWS rows: few queries, bounded memory.
  for (const group of groups(examine, (e) => e.rows, o.groupRows ?? GROUP_ROWS)) found.push(...(await examineGroup(o, shape, t, group, logger)));
  // Findings in partition order; within a partition, in the order the checks run.
  const order = new Map(current.map((m, i) => [m.partition, i]));
  const at = (f: HealthFinding) => order.get(f.partition ?? '') ?? -1;
  const findings = [...carried, ...found].map((f, i) => ({ f, i })).sort((a, b) => at(a.f) - at(b.f) || a.i - b.i).map((x) => x.f);
  const report: HealthReportData = {
    dataset: o.dataset,
    trigger: o.trigger,
    seq,
    previousSeq: o.previousSeq,
    partitions,
    findings,
    durationMs: Math.round(performance.now() - started),
  };
  if (o.record !== false) o.log.append([{ type: 'HealthReported', data: report }]);
  return report;
}

/**
 * The rows of `files` (partition, path), unioned by column name, with a `wh_part` column. The
 * partition comes from the file's position in the list (DuckDB's `file_index`), an integer per
 * row: naming it from the file name compared a long string per row. One file gets a constant.
 * `wh_pi` is that index (a cheap integer for passes that compare each row with the one before).
 */
function filesRelation(files: readonly (readonly [string, string])[]): string {
  const paths = `[${files.map(([, f]) => quoteLiteral(f)).join(', ')}]`;
  if (files.length === 1) return `(SELECT *, ${quoteLiteral(files[0]![0])} AS wh_part, 0 AS wh_pi FROM read_parquet(${paths}))`;
  const part = `CASE file_index ${files.map(([p], i) => `WHEN ${i} THEN ${quoteLiteral(p)}`).join(' ')} END`;
  return `(SELECT *, ${part} AS wh_part, file_index AS wh_pi FROM read_parquet(${paths}, union_by_name = true))`;
}

const projection = (used: readonly string[]): string => ['wh_part', 'wh_pi', ...used.map(quoteIdent)].join(', ');

interface Examined {
  readonly partition: string;
  readonly path: string;
  readonly previousPath: string | null;
  readonly rows: number;
}

/** Rows per group of partitions examined together (one temporary table; DuckDB spills beyond its memory limit). */
const GROUP_ROWS = 5_000_000;

/** Consecutive groups of `items` whose `size` adds up to at most `limit` (an item larger than `limit` is alone). */
function groups<T>(items: readonly T[], size: (item: T) => number, limit: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    if (current.length > 0 && total + size(item) > limit) {
      out.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += size(item);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Run every check once over the partitions of `group`. A failing check is logged, never thrown. */
async function examineGroup(o: HealthOptions, shape: HealthShape, t: HealthThresholds, group: readonly Examined[], logger: Logger): Promise<HealthFinding[]> {
  const found: HealthFinding[] = [];
  try {
    // Every check reads the Parquet files directly (nothing is decoded into a temporary table): the
    // series pass once, streaming, in stored order; late data as two per-series summaries.
    const files = group.map((e) => [e.partition, e.path] as const);
    const withPrev = group.filter((e) => e.previousPath !== null).map((e) => [e.partition, e.previousPath!] as const);
    const input: CheckInput = {
      rows: `(SELECT ${projection(shape.used)} FROM ${filesRelation(files)})`,
      previous: withPrev.length > 0 ? `(SELECT ${projection(shape.used)} FROM ${filesRelation(withPrev)})` : null,
      allRows: filesRelation(files),
      allPrevious: withPrev.length > 0 ? filesRelation(withPrev) : null,
      files,
      previousFiles: withPrev,
    };
    // One window pass finds the series, calendar and (key (series, date)) duplicate findings; they
    // are reported in the checks' order: duplicates, null rates, calendar, series, late data.
    let pass: SeriesFindings = { duplicates: null, calendar: [], series: [] };
    const checks: [string, () => Promise<HealthFinding[]>][] = [
      ['series_pass', async () => ((pass = await seriesPass(o.duck, shape, input, t)), [])],
      ['duplicate_keys', async () => pass.duplicates ?? (await duplicateKeys(o.duck, shape, input))],
      ['null_rates', () => nullRates(o.duck, shape, input, t)],
      ['calendar', async () => pass.calendar],
      ['series', async () => pass.series],
      ['late', () => lateData(o.duck, shape, input)],
    ];
    for (const [name, run] of checks) {
      const t1 = performance.now();
      found.push(...(await run()));
      logger.debug({ dataset: o.dataset, check: name, ms: Math.round(performance.now() - t1) }, 'health check');
    }
  } catch (e) {
    logger.warn({ dataset: o.dataset, err: (e as Error).message }, 'a health check failed; the partitions are reported without it');
  }
  return found;
}
