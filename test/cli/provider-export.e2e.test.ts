/**
 * The provider commands' file output goes through wh's sandboxed export: `--format parquet --out`
 * writes a complete file (the provider session itself cannot write anything), and `wh fetch`'s
 * Arrow result likewise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { P, buildCrspFixture, type CrspFixture } from '../support/crsp-fixture.js';
import { cleanupTempDirs, ensureBuilt, runWh, tempDir } from '../support/wh-cli.js';

let fx: CrspFixture;

beforeAll(async () => {
  ensureBuilt();
  fx = await buildCrspFixture();
  fx.log.close();
});
afterAll(() => cleanupTempDirs());

async function countRows(file: string): Promise<number> {
  const r = await runWh(['query', `SELECT count(*)::INT AS n FROM read_parquet('${file}')`, '--allow-read', file, '--json'], { warehouse: fx.dir });
  expect(r.code, r.stderr).toBe(0);
  return r.json<{ n: number }[]>()[0]!.n;
}

describe('provider commands write Parquet through the export', () => {
  it('wh prices --format parquet --out and wh fetch --format parquet --out write complete files and leave no temporary', async () => {
    const out = tempDir('wh-export-');
    const prices = join(out, 'prices.parquet');
    const p = await runWh(['prices', '--permno', String(P.NEG), '--start', '2020-01-01', '--end', '2020-12-31', '--format', 'parquet', '--out', prices], { warehouse: fx.dir });
    expect(p.code, p.stderr).toBe(0);
    const csv = await runWh(['prices', '--permno', String(P.NEG), '--start', '2020-01-01', '--end', '2020-12-31', '--format', 'csv'], { warehouse: fx.dir });
    expect(await countRows(prices)).toBe(csv.stdout.trim().split('\n').length - 1);

    const fetched = join(out, 'fetch.parquet');
    const f = await runWh(['fetch', '--symbols', String(P.NEG), '--start', '2020-01-01', '--end', '2020-12-31', '--format', 'parquet', '--out', fetched], { warehouse: fx.dir });
    expect(f.code, f.stderr).toBe(0);
    expect(await countRows(fetched)).toBeGreaterThan(0);
    expect(readdirSync(dirname(prices)).sort()).toEqual(['fetch.parquet', 'prices.parquet']);
    expect(existsSync(prices)).toBe(true);
  });
});
