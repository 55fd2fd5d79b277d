/**
 * `wh cite`: the same WRDS-shaped sample synced into two warehouses from two PostgreSQL databases
 * gives the same object hashes and the same digest; unrelated events do not change it; `--check`
 * finds the stretch of history that holds it, in either warehouse.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { citationDigest, manifestAt } from '../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { runWh } from '../support/wh-cli.js';
import { manifestObjects, newSyncWarehouse, wrdsEnv } from '../support/sync-warehouse.js';
import { loadFixture } from '../sync/wrds-fixture.js';

const dbs: TestDatabase[] = [];

beforeAll(async () => {
  for (const name of ['cite_a', 'cite_b']) {
    const db = await createTestDatabase(name);
    await loadFixture(db.config);
    dbs.push(db);
  }
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
});



describe('wh cite', () => {
  it('two warehouses synced from two servers holding the same vintage cite the same digest', async () => {
    const [a, b] = [newSyncWarehouse('wh-cite-'), newSyncWarehouse('wh-cite-')];
    const ra = await runWh(['sync', 'crsp_msf', 'crsp_dsi', '--json'], { warehouse: a, env: wrdsEnv(dbs[0]!.config) });
    expect(ra.code, ra.stderr).toBe(0);
    expect(ra.json()[0].health).toMatchObject({ dataset: 'crsp_msf', trigger: 'sync', findings: [] });
    // Without --json: the table, then one health summary line per synced dataset.
    const rb = await runWh(['sync', 'crsp_msf', 'crsp_dsi'], { warehouse: b, env: wrdsEnv(dbs[1]!.config) });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('health crsp_msf: 3 partitions (3 checked), 1,440 rows, no findings');
    expect(rb.stdout).toMatch(/health crsp_dsi: 3 partitions \(3 checked\), [\d,]+ rows, no findings/);
    const objA = manifestObjects(a);
    expect(Object.keys(objA)).toHaveLength(6);
    expect(manifestObjects(b)).toEqual(objA);

    const citeA = (await runWh(['cite', 'head', 'crsp_msf', '--json'], { warehouse: a })).json();
    const citeB = (await runWh(['cite', 'head', 'crsp_msf', '--json'], { warehouse: b })).json();
    expect(citeA.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(citeB.digest).toBe(citeA.digest);
    // The digest is exactly the documented function of the partitions and their objects.
    expect(citeA.digest).toBe(citationDigest(Object.entries(objA).filter(([k]) => k.startsWith('crsp_msf/')).map(([k, object]) => ({ dataset: 'crsp_msf', partition: k.split('/')[1]!, object }))));
    expect(citeA.bibtex).toMatch(/^@misc\{wh_[0-9a-f]{12},/);
    expect(citeA.plain).toContain('crsp_msf (crsp.msf; vintage 2024-02-08; 3 partitions');
    expect(citeA.plain).toContain(citeA.digest);
    const both = (await runWh(['cite', 'head', '--format', 'digest'], { warehouse: a })).stdout.trim();
    expect(both).not.toBe(citeA.digest);
    expect((await runWh(['cite', '--format', 'digest'], { warehouse: b })).stdout.trim()).toBe(both);

    // An unrelated event (a tag) moves the log's head hash but not the digest.
    const tagged = await runWh(['snapshot', 'tag', 'paper-v1'], { warehouse: a });
    expect(tagged.code, tagged.stderr).toBe(0);
    const after = (await runWh(['cite', 'paper-v1', 'crsp_msf', '--json'], { warehouse: a })).json();
    expect(after.digest).toBe(citeA.digest);

    // --check: held now (and since the last crsp_msf write), with the tag inside the stretch.
    const check = await runWh(['cite', '--check', citeA.digest, '--json'], { warehouse: a });
    expect(check.code, check.stderr).toBe(0);
    const held = check.json();
    expect(held.held).toBe(true);
    const m = held.matches.find((x: { datasets: string[] }) => x.datasets.join() === 'crsp_msf');
    expect(m).toMatchObject({ current: true, tags: ['paper-v1'] });

    // Changing crsp_msf in b ends the stretch there: held in the past, not now.
    const csv = join(mkdtempSync(join(tmpdir(), 'wh-cite-csv-')), 'x.csv');
    writeFileSync(csv, 'cusip,permno,date,prc,ret,vol,shrout\nX,1,2024-01-31,1.0,0.1,1,1\n');
    const ing = await runWh(['ingest', 'crsp_msf', '--partition', '2024', '--accept-schema-change', csv], { warehouse: b });
    expect(ing.code, ing.stderr).toBe(0);
    const checkB = (await runWh(['cite', '--check', citeA.digest, '--json'], { warehouse: b })).json();
    const mb = checkB.matches.find((x: { datasets: string[] }) => x.datasets.join() === 'crsp_msf');
    expect(mb.current).toBe(false);
    expect(mb.toSeq).toBeGreaterThanOrEqual(mb.fromSeq);

    // A digest never held: exit 3.
    const never = await runWh(['cite', '--check', 'f'.repeat(64)], { warehouse: a });
    expect(never.code).toBe(3);
    expect(never.stdout).toContain('never held');
    // Bad input: named problem, exit 1.
    const bad = await runWh(['cite', 'head', 'nope'], { warehouse: a });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no dataset nope');
  });
});
