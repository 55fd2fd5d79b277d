/**
 * `wh taq sync` killed with SIGKILL mid-run resumes where it stopped and ends with exactly the
 * objects of an uninterrupted sync; `audit --verify` is clean after every kill. Also: a source
 * without `time_m_nano` (TAQ before 2018) syncs, with whole microseconds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWrdsSample } from '../../src/dev/wrds-sample/index.js';
import { initWarehouse, openWarehouseLog, verifyWarehouse } from '../../src/store/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { manifestObjects, newSyncWarehouse, wrdsEnv } from '../support/sync-warehouse.js';
import { runWh, spawnWh } from '../support/wh-cli.js';

let db: TestDatabase;
let env: Record<string, string>;
let days: readonly string[];
let args: string[];

beforeAll(async () => {
  db = await createTestDatabase('taq_resume');
  days = (await generateWrdsSample(db.session, { seed: 5, fromYear: 2021, toYear: 2023, taqDays: 3, taqSymbols: 4 })).taqDays;
  const c = db.config;
  env = wrdsEnv(c);
  const t = `taqm_${days[0]!.slice(0, 4)}.mastm_${days[0]!.replace(/-/g, '')}`;
  const symbols = (await db.session.query<{ s: string }>(`SELECT sym_root AS s FROM ${t} ORDER BY 1`)).rows.map((r) => r.s);
  args = ['taq', 'sync', '--symbols', symbols.join(','), '--start', days[0]!, '--end', days.at(-1)!, '--tier', 'both'];
}, 300_000);
afterAll(() => db?.drop());



describe('wh taq sync under SIGKILL', () => {
  it('resumes after kills and ends with the objects of an uninterrupted sync', async () => {
    const reference = newSyncWarehouse('wh-taq-resume-');
    const ref = await runWh([...args, '--json'], { warehouse: reference, env });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = manifestObjects(reference);
    expect(Object.keys(expected)).toHaveLength(4 * days.length);
    let kills = 0;
    for (const [round, delay] of [[0, 0], [1, 150], [2, 400]] as const) {
      const dir = newSyncWarehouse('wh-taq-resume-');
      const p = spawnWh(args, { warehouse: dir, env });
      let seen = false;
      p.child.stderr!.on('data', (d: Buffer) => {
        const text = d.toString();
        if (!seen && text.split('\n').some((l) => l.includes('"msg":"taq day"') && l.includes('"status":"written"'))) {
          seen = true;
          setTimeout(() => p.child.kill('SIGKILL'), delay);
        }
      });
      const r = await p.result;
      if (r.signal === 'SIGKILL') kills++;
      const log = openWarehouseLog(dir);
      try {
        const report = await verifyWarehouse(dir, log, { record: false });
        expect(report.ok, `round ${round}: ${JSON.stringify(report)}`).toBe(true);
        for (const m of manifestAt(log)) expect(m.object).toBe(expected[`${m.dataset}/${m.partition}`]);
      } finally {
        log.close();
      }
      const last = await runWh([...args, '--json'], { warehouse: dir, env });
      expect(last.code, last.stderr).toBe(0);
      expect(manifestObjects(dir)).toEqual(expected);
    }
    expect(kills).toBeGreaterThanOrEqual(2);
  });

  it('syncs a source without time_m_nano (TAQ before 2018): times in whole microseconds', async () => {
    const day = days.at(-1)!;
    const ymd = day.replace(/-/g, '');
    const schema = `taqm_${day.slice(0, 4)}`;
    for (const t of ['ctm', 'cqm', 'complete_nbbo']) await db.session.query(`ALTER TABLE ${schema}.${t}_${ymd} DROP COLUMN time_m_nano`);
    const dir = newSyncWarehouse('wh-taq-resume-');
    const r = await runWh(['taq', 'sync', ...args.slice(2, 4), '--start', day, '--end', day, '--tier', 'both', '--json'], { warehouse: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const q = await runWh(['query', `SELECT count(*)::INT AS n, sum(CASE WHEN nanosecond(ts) % 1000 <> 0 THEN 1 ELSE 0 END)::INT AS sub_us FROM taq_ticks`, '--json'], { warehouse: dir });
    expect(q.code, q.stderr).toBe(0);
    const [row] = q.json();
    expect(row.n).toBeGreaterThan(0);
    expect(row.sub_us).toBe(0);
  });
});
