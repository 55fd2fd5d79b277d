/**
 * `wh backup drill`: the monthly restore drill, automated. Restore the newest backup into a
 * temporary directory, verify it, and compare it with the live warehouse as of the backup's head:
 * the same objects per dataset (checksums) and the same query answers (row count and a hash of
 * every row, per dataset). Records RestoreDrillPassed or RestoreDrillFailed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDuck } from '../engine/index.js';
import type { EventLog } from '../log/index.js';
import { manifestAt, type ManifestEntry } from '../projections/index.js';
import { viewStatements } from '../store/index.js';
import { openWarehouseLog } from '../store/index.js';
import { warehousePaths } from '../store/index.js';
import { verifyWarehouse } from '../store/index.js';
import type { BackupKey } from './crypto.js';
import { restoreBackup } from './restore.js';
import type { BackupTarget } from './target.js';

export interface DrillResult {
  readonly passed: boolean;
  readonly backupId: string | null;
  readonly headSeq: number;
  readonly objects: number;
  readonly datasets: number;
  readonly problems: readonly string[];
  readonly durationMs: number;
}

/** Row count and an order-independent hash of every row, per dataset. */
async function answers(dir: string, entries: readonly ManifestEntry[]): Promise<Map<string, string>> {
  const duck = await openDuck({ threads: 2 });
  try {
    const out = new Map<string, string>();
    for (const stmt of viewStatements(dir, entries)) await duck.run(stmt);
    for (const d of [...new Set(entries.map((e) => e.dataset))].sort()) {
      const r = (await duck.all(`SELECT count(*) AS n, coalesce(sum(hash(t)), 0)::VARCHAR AS h FROM "${d}" t`)).rows[0]!;
      out.set(d, `${String(r['n'])}:${String(r['h'])}`);
    }
    return out;
  } finally {
    duck.close();
  }
}

export async function runDrill(dir: string, log: EventLog, target: BackupTarget, key: BackupKey, name: string, scratchBase?: string): Promise<DrillResult> {
  const started = Date.now();
  const scratch = mkdtempSync(join(scratchBase ?? warehousePaths(dir).tmp, 'drill-'));
  const problems: string[] = [];
  let backupId: string | null = null;
  let headSeq = 0;
  let objects = 0;
  let datasets = 0;
  try {
    const restored = await restoreBackup({ target, key, out: join(scratch, 'wh') });
    backupId = restored.backupId;
    headSeq = restored.headSeq;
    objects = restored.objects;
    const rlog = openWarehouseLog(restored.dir, { readonly: true });
    try {
      const report = await verifyWarehouse(restored.dir, rlog, { record: false });
      if (!report.ok) problems.push(`restored warehouse fails verification: ${report.damaged.length} damaged object(s), ${report.chain.length} chain problem(s)`);
      const live = manifestAt(log, headSeq);
      const back = manifestAt(rlog, headSeq);
      datasets = new Set(back.map((e) => e.dataset)).size;
      const key2 = (e: ManifestEntry) => `${e.dataset}/${e.partition}=${e.object}`;
      const a = new Set(live.map(key2));
      const b = new Set(back.map(key2));
      for (const x of a) if (!b.has(x)) problems.push(`live partition ${x} differs in the backup`);
      for (const x of b) if (!a.has(x)) problems.push(`backup partition ${x} is not in the live warehouse at seq ${headSeq}`);
      if (log.get(headSeq)?.hash !== rlog.head().hash) problems.push(`the live log's event ${headSeq} does not hash as the backup's head: the histories diverged`);
      if (problems.length === 0) {
        const [x, y] = [await answers(dir, live), await answers(restored.dir, back)];
        for (const [d, v] of x) if (y.get(d) !== v) problems.push(`dataset ${d}: live answers ${v}, restored ${y.get(d) ?? 'nothing'}`);
      }
    } finally {
      rlog.close();
    }
  } catch (e) {
    problems.push((e as Error).message);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const durationMs = Date.now() - started;
  const passed = problems.length === 0;
  log.append([
    passed
      ? { type: 'RestoreDrillPassed', data: { name, backupId: backupId ?? '', headSeq, objects, datasets, durationMs } }
      : { type: 'RestoreDrillFailed', data: { name, backupId, problems } },
  ]);
  return { passed, backupId, headSeq, objects, datasets, problems, durationMs };
}
