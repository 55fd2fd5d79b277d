/**
 * `wh diff`: what changed between two points of the warehouse's history, per dataset. Partitions
 * are compared by object (content address: same object, same rows), so unchanged partitions cost
 * nothing; the rows of the partitions that differ are joined on the dataset's key in DuckDB, which
 * streams and spills to disk, so two 10M-row partitions diff in bounded memory.
 */
import { rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { openDuck, quoteIdent, quoteLiteral, type Duck } from '../engine/index.js';
import type { EventLog } from '../log/index.js';
import { manifestAt, schemaOf, type ManifestEntry, type Point } from '../projections/index.js';
import { objectPath } from './layout.js';
import { makeOwnedTempDir } from './owned-temp.js';
import { assertNotCollected } from './retention.js';

export interface PartitionChange {
  readonly partition: string;
  readonly change: 'added' | 'removed' | 'replaced';
  readonly rowsA: number;
  readonly rowsB: number;
}

export interface DatasetDiff {
  readonly dataset: string;
  /** Key columns the rows were matched on (empty: whole rows compared). */
  readonly key: readonly string[];
  readonly partitions: { readonly added: number; readonly removed: number; readonly replaced: number; readonly unchanged: number };
  readonly partitionChanges: readonly PartitionChange[];
  readonly rows: { readonly added: number; readonly removed: number; readonly changed: number };
  /** Changed cells per column (keyed datasets only). */
  readonly columns: readonly { readonly column: string; readonly changed: number }[];
  readonly columnsAdded: readonly string[];
  readonly columnsRemoved: readonly string[];
}

export interface DiffSummary {
  readonly a: Point;
  readonly b: Point;
  readonly datasets: readonly DatasetDiff[];
}

/** One changed cell, or an added/removed row. `key` is the row's key as JSON. */
export interface DiffRow {
  readonly dataset: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly key: string;
  readonly column: string | null;
  readonly old: string | null;
  readonly new: string | null;
}

export interface DiffOptions {
  readonly datasets?: readonly string[];
  /** Compare only these value columns (e.g. hml); rows are still matched on the whole key. */
  readonly columns?: readonly string[];
  /** DuckDB memory limit for the join (it spills beyond it). */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

interface Side {
  readonly entries: readonly ManifestEntry[];
  readonly changed: readonly ManifestEntry[];
}

interface DatasetPlan {
  readonly dataset: string;
  readonly key: readonly string[];
  readonly a: Side;
  readonly b: Side;
  readonly partitionChanges: PartitionChange[];
  readonly unchanged: number;
}

function plan(log: EventLog, a: Point, b: Point, datasets?: readonly string[]): DatasetPlan[] {
  const ea = manifestAt(log, a.seq);
  const eb = manifestAt(log, b.seq);
  assertNotCollected(log, a, ea);
  assertNotCollected(log, b, eb);
  const names = [...new Set([...ea, ...eb].map((e) => e.dataset))].filter((d) => datasets === undefined || datasets.length === 0 || datasets.includes(d)).sort();
  return names.map((dataset) => {
    const pa = new Map(ea.filter((e) => e.dataset === dataset).map((e) => [e.partition, e]));
    const pb = new Map(eb.filter((e) => e.dataset === dataset).map((e) => [e.partition, e]));
    const changes: PartitionChange[] = [];
    let unchanged = 0;
    for (const p of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
      const x = pa.get(p);
      const y = pb.get(p);
      if (x !== undefined && y !== undefined && x.object === y.object) unchanged += 1;
      else changes.push({ partition: p, change: x === undefined ? 'added' : y === undefined ? 'removed' : 'replaced', rowsA: x?.rows ?? 0, rowsB: y?.rows ?? 0 });
    }
    const changedParts = new Set(changes.map((c) => c.partition));
    const key = schemaOf(log, dataset, b.seq)?.key ?? schemaOf(log, dataset, a.seq)?.key ?? [];
    return {
      dataset,
      key,
      a: { entries: [...pa.values()], changed: [...pa.values()].filter((e) => changedParts.has(e.partition)) },
      b: { entries: [...pb.values()], changed: [...pb.values()].filter((e) => changedParts.has(e.partition)) },
      partitionChanges: changes,
      unchanged,
    };
  });
}

async function session(dir: string, options: DiffOptions): Promise<Duck> {
  const spill = makeOwnedTempDir(dir, 'diff');
  const duck = await openDuck({ threads: options.threads ?? 2, memoryLimit: options.memoryLimit ?? '1GB', tempDirectory: spill, returnMemory: true });
  return {
    ...duck,
    run: (sql, params) => duck.run(sql, params),
    all: (sql, params) => duck.all(sql, params),
    columns: (sql, params) => duck.columns(sql, params),
    chunks: (sql, params) => duck.chunks(sql, params),
    close: () => {
      duck.close();
      rmSync(spill, { recursive: true, force: true });
    },
  };
}

/** Views `a` and `b` over the changed partitions of each side, and the columns they share. */
async function bindSides(dir: string, duck: Duck, p: DatasetPlan, suffix = ''): Promise<{ common: string[]; onlyA: string[]; onlyB: string[] }> {
  const cols: Record<'a' | 'b', string[]> = { a: [], b: [] };
  for (const side of ['a', 'b'] as const) {
    const files = p[side].changed.map((e) => quoteLiteral(objectPath(dir, e.object)));
    const other = p[side === 'a' ? 'b' : 'a'].changed[0];
    // An empty side reads the other side's schema with no rows, so the join still types.
    const src = files.length > 0 ? `read_parquet([${files.join(', ')}], union_by_name = true)` : `(SELECT * FROM read_parquet(${quoteLiteral(objectPath(dir, other!.object))}) LIMIT 0)`;
    await duck.run(`CREATE OR REPLACE TEMP VIEW ${side}${suffix} AS SELECT * FROM ${src}`);
    cols[side] = (await duck.all(`DESCRIBE ${side}${suffix}`)).rows.map((r) => String(r['column_name']));
  }
  const common = cols.a.filter((c) => cols.b.includes(c));
  return { common, onlyA: cols.a.filter((c) => !cols.b.includes(c)), onlyB: cols.b.filter((c) => !cols.a.includes(c)) };
}

const keyJson = (key: readonly string[], side: string): string => `json_object(${key.map((k) => `${quoteLiteral(k)}, ${side}.${quoteIdent(k)}`).join(', ')})::VARCHAR`;
const joinOn = (key: readonly string[]): string => key.map((k) => `a.${quoteIdent(k)} = b.${quoteIdent(k)}`).join(' AND ');

/** The per-dataset summary of changes between `a` and `b`. */
export async function diffSummary(dir: string, log: EventLog, a: Point, b: Point, options: DiffOptions = {}): Promise<DiffSummary> {
  const plans = plan(log, a, b, options.datasets);
  const out: DatasetDiff[] = [];
  const duck = plans.some((p) => p.partitionChanges.length > 0) ? await session(dir, options) : null;
  try {
    for (const p of plans) {
      const parts = {
        added: p.partitionChanges.filter((c) => c.change === 'added').length,
        removed: p.partitionChanges.filter((c) => c.change === 'removed').length,
        replaced: p.partitionChanges.filter((c) => c.change === 'replaced').length,
        unchanged: p.unchanged,
      };
      if (duck === null || p.partitionChanges.length === 0) {
        out.push({ dataset: p.dataset, key: p.key, partitions: parts, partitionChanges: [], rows: { added: 0, removed: 0, changed: 0 }, columns: [], columnsAdded: [], columnsRemoved: [] });
        continue;
      }
      const { common, onlyA, onlyB } = await bindSides(dir, duck, p);
      const key = p.key.filter((k) => common.includes(k));
      let rows: DatasetDiff['rows'];
      let columns: DatasetDiff['columns'] = [];
      if (key.length > 0 && key.length === p.key.length) {
        const values = common.filter((c) => !key.includes(c) && (options.columns === undefined || options.columns.length === 0 || options.columns.includes(c)));
        const counts = values.map((c, i) => `count(*) FILTER (WHERE a.${quoteIdent(key[0]!)} IS NOT NULL AND b.${quoteIdent(key[0]!)} IS NOT NULL AND a.${quoteIdent(c)} IS DISTINCT FROM b.${quoteIdent(c)}) AS c${i}`);
        const changedRow = values.length === 0 ? 'false' : values.map((c) => `a.${quoteIdent(c)} IS DISTINCT FROM b.${quoteIdent(c)}`).join(' OR ');
        const k0 = quoteIdent(key[0]!);
        const r = (
          await duck.all(
            `SELECT count(*) FILTER (WHERE a.${k0} IS NULL) AS added, count(*) FILTER (WHERE b.${k0} IS NULL) AS removed,
                    count(*) FILTER (WHERE a.${k0} IS NOT NULL AND b.${k0} IS NOT NULL AND (${changedRow})) AS changed${counts.length > 0 ? ', ' + counts.join(', ') : ''}
             FROM a FULL OUTER JOIN b ON ${joinOn(key)}`,
          )
        ).rows[0]!;
        rows = { added: Number(r['added']), removed: Number(r['removed']), changed: Number(r['changed']) };
        columns = values.map((c, i) => ({ column: c, changed: Number(r[`c${i}`]) })).filter((c) => c.changed > 0);
      } else {
        // No key: compare whole rows as multisets.
        const list = common.map(quoteIdent).join(', ');
        const r = (await duck.all(`SELECT (SELECT count(*) FROM (SELECT ${list} FROM b EXCEPT ALL SELECT ${list} FROM a)) AS added, (SELECT count(*) FROM (SELECT ${list} FROM a EXCEPT ALL SELECT ${list} FROM b)) AS removed`)).rows[0]!;
        rows = { added: Number(r['added']), removed: Number(r['removed']), changed: 0 };
      }
      out.push({ dataset: p.dataset, key, partitions: parts, partitionChanges: p.partitionChanges, rows, columns, columnsAdded: onlyB, columnsRemoved: onlyA });
    }
  } finally {
    duck?.close();
  }
  return { a, b, datasets: out };
}

function rowsSql(p: DatasetPlan, common: readonly string[], suffix = '', only?: readonly string[]): string | null {
  const key = p.key;
  if (key.length === 0 || !key.every((k) => common.includes(k))) {
    // No key: whole rows, as multisets; the row itself (as JSON) stands in for the key.
    const list = common.map(quoteIdent).join(', ');
    const ds0 = quoteLiteral(p.dataset);
    return [
      `SELECT ${ds0} AS dataset, 'added' AS change, to_json(x)::VARCHAR AS key, NULL::VARCHAR AS "column", NULL::VARCHAR AS old, NULL::VARCHAR AS new FROM (SELECT ${list} FROM b${suffix} EXCEPT ALL SELECT ${list} FROM a${suffix}) x`,
      `SELECT ${ds0}, 'removed', to_json(x)::VARCHAR, NULL, NULL, NULL FROM (SELECT ${list} FROM a${suffix} EXCEPT ALL SELECT ${list} FROM b${suffix}) x`,
    ].join('\nUNION ALL\n');
  }
  const values = common.filter((c) => !key.includes(c) && (only === undefined || only.length === 0 || only.includes(c)));
  const ds = quoteLiteral(p.dataset);
  const a = `a${suffix} AS a`;
  const b = `b${suffix} AS b`;
  const parts = [
    `SELECT ${ds} AS dataset, 'added' AS change, ${keyJson(key, 'b')} AS key, NULL::VARCHAR AS "column", NULL::VARCHAR AS old, NULL::VARCHAR AS new FROM ${b} ANTI JOIN ${a} ON ${joinOn(key)}`,
    `SELECT ${ds}, 'removed', ${keyJson(key, 'a')}, NULL, NULL, NULL FROM ${a} ANTI JOIN ${b} ON ${joinOn(key)}`,
    ...values.map(
      (c) =>
        `SELECT ${ds}, 'changed', ${keyJson(key, 'a')}, ${quoteLiteral(c)}, a.${quoteIdent(c)}::VARCHAR, b.${quoteIdent(c)}::VARCHAR FROM ${a} JOIN ${b} ON ${joinOn(key)} WHERE a.${quoteIdent(c)} IS DISTINCT FROM b.${quoteIdent(c)}`,
    ),
  ];
  return parts.join('\nUNION ALL\n');
}

/**
 * Stream every added and removed row and every changed cell (keyed datasets), in chunks: memory
 * stays bounded whatever the size of the diff.
 */
export async function* streamDiffRows(dir: string, log: EventLog, a: Point, b: Point, options: DiffOptions = {}): AsyncGenerator<DiffRow[]> {
  const plans = plan(log, a, b, options.datasets).filter((p) => p.partitionChanges.length > 0);
  if (plans.length === 0) return;
  const duck = await session(dir, options);
  try {
    for (const p of plans) {
      const { common } = await bindSides(dir, duck, p);
      const sql = rowsSql(p, common, '', options.columns);
      if (sql === null) continue;
      for await (const chunk of duck.chunks(sql)) if (chunk.rows.length > 0) yield chunk.rows as unknown as DiffRow[];
    }
  } finally {
    duck.close();
  }
}

/** Write the detailed diff to one Parquet file (dataset, change, key, column, old, new). */
export async function writeDiffParquet(dir: string, log: EventLog, a: Point, b: Point, out: string, options: DiffOptions = {}): Promise<number> {
  const plans = plan(log, a, b, options.datasets).filter((p) => p.partitionChanges.length > 0);
  const duck = await session(dir, options);
  try {
    const tmp = `${out}.tmp-${process.pid}`;
    const parts: string[] = [];
    for (const [i, p] of plans.entries()) {
      const { common } = await bindSides(dir, duck, p, String(i));
      const sql = rowsSql(p, common, String(i), options.columns);
      if (sql !== null) parts.push(sql);
    }
    const empty = `SELECT NULL::VARCHAR AS dataset, NULL::VARCHAR AS change, NULL::VARCHAR AS key, NULL::VARCHAR AS "column", NULL::VARCHAR AS old, NULL::VARCHAR AS new LIMIT 0`;
    const res = await duck.all(`COPY (${parts.length === 0 ? empty : parts.join('\nUNION ALL\n')}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    const n = Number(res.rows[0]?.['Count'] ?? 0);
    await rename(tmp, out);
    return n;
  } finally {
    duck.close();
  }
}
