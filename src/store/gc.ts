/**
 * Garbage collection: objects no event names (orphans of a crash between rename and commit) and
 * leftover temporaries. Runs under the warehouse lease, so no writer can be mid-write; dry run by
 * default. Objects of superseded partitions are kept: they are what time travel reads.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withLease, type EventLog } from '../log/index.js';
import { manifestHistory } from '../projections/index.js';
import { warehousePaths } from './layout.js';
import { fsyncPath } from './fsync.js';
import { liveOwner } from './owned-temp.js';
import { quarantineDirs, type QuarantineDir } from './quarantine.js';

export interface GcPlan {
  readonly orphans: { readonly hash: string; readonly path: string; readonly bytes: number }[];
  readonly temporaries: { readonly path: string; readonly bytes: number }[];
  /** Temporaries kept because the process staging into them still runs. */
  readonly inUse: { readonly path: string; readonly host: string; readonly pid: number }[];
  /** Quarantine directories past their retention, recorded or not (src/store/quarantine.ts). */
  readonly quarantine: QuarantineDir[];
  readonly bytes: number;
}

/** Bytes under `path` (a file, or a directory's files). */
function sizeOf(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((s, f) => s + sizeOf(join(path, f)), 0);
}

/** An object's file name: its content address. */
const OBJECT_FILE = /^([0-9a-f]{64})\.parquet$/;

/** What `wh gc` would remove. */
export function planGc(dir: string, log: EventLog): GcPlan {
  const paths = warehousePaths(dir);
  const named = new Set(manifestHistory(log).map((r) => r.value.object));
  const orphans: GcPlan['orphans'] = [];
  const temporaries: GcPlan['temporaries'] = [];
  if (existsSync(paths.objects)) {
    for (const shard of readdirSync(paths.objects)) {
      const shardDir = join(paths.objects, shard);
      if (!statSync(shardDir).isDirectory()) continue;
      for (const f of readdirSync(shardDir)) {
        const path = join(shardDir, f);
        const hash = OBJECT_FILE.exec(f)?.[1];
        // Anything else is a temporary left by a killed restore or repair (`.<hash>.restoring-<pid>`):
        // no writer can be mid-way here, since repair holds the lease and a restore's log comes last.
        if (hash === undefined) temporaries.push({ path, bytes: sizeOf(path) });
        else if (!named.has(hash)) orphans.push({ hash, path, bytes: statSync(path).size });
      }
    }
  }
  const inUse: GcPlan['inUse'] = [];
  for (const f of existsSync(paths.tmp) ? readdirSync(paths.tmp) : []) {
    const path = join(paths.tmp, f);
    const owner = liveOwner(path);
    if (owner !== null) inUse.push({ path, ...owner });
    else temporaries.push({ path, bytes: sizeOf(path) });
  }
  const quarantine = quarantineDirs(dir, log).filter((q) => q.expired);
  const bytes = [...orphans, ...temporaries, ...quarantine].reduce((s, o) => s + o.bytes, 0);
  return { orphans, temporaries, inUse, quarantine, bytes };
}

/** Remove what `planGc` found, under the warehouse lease, and record ObjectsCollected. */
export async function applyGc(dir: string, log: EventLog): Promise<GcPlan> {
  return withLease(log, 'warehouse', { purpose: 'gc' }, async (lease) => {
    const plan = planGc(dir, log);
    if (plan.orphans.length === 0 && plan.temporaries.length === 0 && plan.quarantine.length === 0) return plan;
    for (const o of plan.orphans) await rm(o.path, { force: true });
    for (const t of plan.temporaries) await rm(t.path, { force: true, recursive: true });
    for (const q of plan.quarantine) await rm(q.path, { force: true, recursive: true });
    const paths = warehousePaths(dir);
    // The directories that lost a name: object shards, and tmp/.
    const dirs = new Set([...plan.orphans, ...plan.temporaries].map((o) => dirname(o.path)));
    if (existsSync(paths.tmp)) dirs.add(paths.tmp);
    for (const d of dirs) await fsyncPath(d);
    log.append(
      [
        { type: 'ObjectsCollected', data: { objects: plan.orphans.map((o) => o.hash), bytes: plan.bytes, temporaries: plan.temporaries.length } },
        ...plan.quarantine.filter((q) => q.recorded).map((q) => ({ type: 'QuarantineCleared' as const, data: { id: q.id, reason: 'collected by gc after the retention' } })),
      ],
      lease,
    );
    return plan;
  });
}
