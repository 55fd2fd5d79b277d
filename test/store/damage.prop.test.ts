/**
 * Issue 10, the random-damage property. A warehouse (datasets t and u, an anchored head) is copied,
 * damaged at random — a byte flipped at a random offset, a truncation, a deleted object, an object
 * replaced by another, an edited or deleted log row (triggers dropped) — and then:
 *   1. verify reports the damage (every damage here is detectable; in particular every one that
 *      changes what a query returns);
 *   2. an object whose size changed, or that is missing, is never read: its dataset's query fails
 *      with OBJECT_DAMAGED/OBJECT_MISSING;
 *   3. once verify has recorded its findings, no query returns data from an object the log knows
 *      is damaged, and every other dataset returns exactly what it returned before the damage.
 * (A WAL truncated after commits is covered by test/store/tail-and-projections.int.test.ts: it
 * needs a second process holding the log open.)
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { chmodSync, closeSync, cpSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError } from '../../src/log/index.js';
import { manifestAt, type ManifestEntry } from '../../src/projections/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { objectPath, openWarehouseLog, recordAnchor, recordedDamage, verifyWarehouse, warehousePaths } from '../../src/store/index.js';
import { twoDatasetWarehouse } from '../support/damage.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);

type Damage =
  | { kind: 'flip'; object: number; at: number }
  | { kind: 'truncate'; object: number; at: number }
  | { kind: 'delete-object'; object: number }
  | { kind: 'replace-object'; object: number; by: number }
  | { kind: 'edit-event'; at: number }
  | { kind: 'delete-tail'; count: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), object: fc.nat(), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('truncate' as const), object: fc.nat(), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.record({ kind: fc.constant('delete-object' as const), object: fc.nat() }),
  fc.record({ kind: fc.constant('replace-object' as const), object: fc.nat(), by: fc.nat() }),
  fc.record({ kind: fc.constant('edit-event' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('delete-tail' as const), count: fc.integer({ min: 1, max: 3 }) }),
);

let base: string;
let entries: ManifestEntry[];
let baseline: Record<string, unknown>;
const DATASETS = ['t', 'u'];
const sql = (d: string) => `SELECT count(*) AS n, round(sum(val), 9) AS s, min(txt) AS lo, max(txt) AS hi FROM ${d}`;

/** Each dataset's result, or the error code its query failed with. */
async function results(dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let wh;
  try {
    wh = await openWarehouse(dir);
  } catch (e) {
    for (const d of DATASETS) out[d] = { error: isWarehouseError(e) ? e.code : String(e) };
    return out;
  }
  try {
    for (const d of DATASETS) out[d] = await wh.rows(sql(d)).then((r) => r[0], (e: unknown) => ({ error: isWarehouseError(e) ? e.code : String(e) }));
  } finally {
    wh.close();
  }
  return out;
}

beforeAll(async () => {
  base = (await twoDatasetWarehouse('wh-prop-')).dir;
  const log = openWarehouseLog(base, { readonly: true });
  entries = manifestAt(log);
  recordAnchor(base, log.head());
  log.close();
  baseline = await results(base);
});

function apply(dir: string, d: Damage): { dataset: string | null; sizeChanged: boolean } {
  const pick = (i: number) => entries[i % entries.length]!;
  const writable = (p: string) => chmodSync(p, 0o644);
  switch (d.kind) {
    case 'flip': {
      const e = pick(d.object);
      const p = objectPath(dir, e.object);
      writable(p);
      const at = Math.min(e.bytes - 1, Math.floor(d.at * e.bytes));
      const fd = openSync(p, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0] = b[0]! ^ 0xff;
      writeSync(fd, b, 0, 1, at);
      closeSync(fd);
      return { dataset: e.dataset, sizeChanged: false };
    }
    case 'truncate': {
      const e = pick(d.object);
      const p = objectPath(dir, e.object);
      writable(p);
      truncateSync(p, Math.floor(d.at * e.bytes));
      return { dataset: e.dataset, sizeChanged: true };
    }
    case 'delete-object': {
      const e = pick(d.object);
      rmSync(objectPath(dir, e.object));
      return { dataset: e.dataset, sizeChanged: true };
    }
    case 'replace-object': {
      const e = pick(d.object);
      const by = pick(d.object + 1 + (d.by % (entries.length - 1)));
      const p = objectPath(dir, e.object);
      writable(p);
      writeFileSync(p, readFileSync(objectPath(dir, by.object)));
      return { dataset: e.dataset, sizeChanged: by.bytes !== e.bytes };
    }
    case 'edit-event': {
      const db = new Database(warehousePaths(dir).log);
      db.exec('DROP TRIGGER events_no_update');
      const head = (db.prepare('SELECT max(seq) AS m FROM events').get() as { m: number }).m;
      const seq = 1 + Math.min(head - 1, Math.floor(d.at * head));
      db.prepare("UPDATE events SET data = json_set(data, '$.tampered', 1) WHERE seq = ?").run(seq);
      db.close();
      return { dataset: null, sizeChanged: false };
    }
    case 'delete-tail': {
      const db = new Database(warehousePaths(dir).log);
      db.exec('DROP TRIGGER events_no_delete');
      db.prepare('DELETE FROM events WHERE seq > (SELECT max(seq) FROM events) - ?').run(d.count);
      db.close();
      return { dataset: null, sizeChanged: false };
    }
  }
}

describe('random damage', () => {
  it('is always reported by verify; changed sizes are never read; recorded damage is never served', async () => {
    await fc.assert(
      fc.asyncProperty(damageArb, async (damage) => {
        const dir = join(tempDir('wh-prop-run-'), 'wh');
        cpSync(base, dir, { recursive: true });
        const { dataset, sizeChanged } = apply(dir, damage);
        const before = await results(dir);
        if (dataset !== null && sizeChanged) {
          expect((before[dataset] as { error?: string }).error, JSON.stringify(damage)).toMatch(/^OBJECT_(DAMAGED|MISSING)$/);
        }
        const log = openWarehouseLog(dir);
        try {
          const report = await verifyWarehouse(dir, log);
          // 1. Every damage is reported (so in particular every one that changed a result).
          expect(report.ok, JSON.stringify(damage)).toBe(false);
          // 3. After verify recorded its findings, nothing known damaged is served.
          const known = recordedDamage(log);
          const after = await results(dir);
          for (const d of DATASETS) {
            const hit = entries.some((e) => e.dataset === d && known.has(e.object));
            if (hit) expect((after[d] as { error?: string }).error, `${d} ${JSON.stringify(damage)}`).toMatch(/^OBJECT_(DAMAGED|MISSING)$/);
            else if (d !== dataset) expect(after[d], `${d} ${JSON.stringify(damage)}`).toEqual(baseline[d]);
          }
        } finally {
          log.close();
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });
});

