/**
 * `wh replay`: the warehouse as it stood at a point (datasets, partitions, objects, leases, tags),
 * and optionally a DuckDB database file whose views read exactly those objects.
 */
import { existsSync, mkdirSync, rmSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDuck } from '../engine/index.js';
import { WarehouseError, leaseProjection, type EventLog, type LeaseState } from '../log/index.js';
import { datasetsAt, manifestAt, resolvePoint, tagsAt, type DatasetSummary, type ManifestEntry, type Point, type TagEntry } from '../projections/index.js';
import { viewStatements } from '../store/index.js';

export interface ReplayState {
  readonly point: Point;
  readonly time: string | null;
  readonly datasets: readonly DatasetSummary[];
  readonly partitions: readonly ManifestEntry[];
  readonly leases: readonly LeaseState[];
  readonly tags: readonly TagEntry[];
}

export function replayState(log: EventLog, spec: string): ReplayState {
  const point = resolvePoint(log, spec);
  const e = point.seq > 0 ? log.get(point.seq) : undefined;
  return {
    point,
    time: e === undefined ? null : new Date(e.time).toISOString(),
    datasets: datasetsAt(log, point.seq),
    partitions: manifestAt(log, point.seq),
    leases: log.table(leaseProjection).at(point.seq).map((r) => r.value),
    tags: tagsAt(log, point.seq),
  };
}

/**
 * Write `<outDir>/replay.duckdb` whose views read exactly the objects of `state` (absolute paths),
 * plus a `wh_replay` table recording the point. Written to a temporary name and renamed.
 */
export async function writeReplayDatabase(dir: string, state: ReplayState, outDir: string): Promise<string> {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const target = join(out, 'replay.duckdb');
  const tmp = join(out, `.replay-${process.pid}.duckdb`);
  rmSync(tmp, { force: true });
  const duck = await openDuck({ path: tmp });
  try {
    for (const stmt of viewStatements(dir, state.partitions)) await duck.run(stmt);
    await duck.run('CREATE TABLE wh_replay (warehouse VARCHAR, seq BIGINT, label VARCHAR, time VARCHAR)');
    await duck.run('INSERT INTO wh_replay VALUES ($1, $2, $3, $4)', [resolve(dir), state.point.seq, state.point.label, state.time]);
    await duck.run('CHECKPOINT');
  } catch (e) {
    duck.close();
    rmSync(tmp, { force: true });
    throw new WarehouseError('IO_ERROR', `cannot write ${target}: ${(e as Error).message}`, { cause: e });
  }
  duck.close();
  if (existsSync(`${tmp}.wal`)) rmSync(`${tmp}.wal`);
  renameSync(tmp, target);
  return target;
}
