/**
 * The generated Kenneth French file carries -99.99 and -999 cells at every seed; loaded with the
 * real loader and read through the Fama–French provider, each is missing (null), and every other
 * cell is its percent value / 100 — checked row for row against the CSV text parsed here by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FRENCH_INDUSTRIES, writeFrenchSample } from '../../src/dev/wrds-sample/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { famaFrenchFactors } from '../../src/providers/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { loadFrenchFile } from '../../src/sync/index.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);

/** The value-weighted monthly section, parsed by hand: date → industry → decimal or null. */
function expectedVwMonthly(text: string): { date: string; values: (number | null)[] }[] {
  const lines = text.split('\r\n');
  const start = lines.indexOf('  Average Value Weighted Returns -- Monthly') + 2;
  const out: { date: string; values: (number | null)[] }[] = [];
  for (let i = start; lines[i] !== ''; i++) {
    const [ym, ...cells] = lines[i]!.split(',');
    const y = Number(ym!.slice(0, 4));
    const m = Number(ym!.slice(4, 6));
    const date = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    out.push({ date, values: cells.map((c) => (c.trim() === '-99.99' || c.trim() === '-999' ? null : Number(c) / 100)) });
  }
  return out;
}

describe.each([1, 4, 9])('generated French file, seed %i', (seed) => {
  it('has -99.99 and -999 cells, and the provider reads them as missing, row for row', async () => {
    const root = tempDir('wh-french-');
    const file = writeFrenchSample(join(root, 'files'), { seed, fromYear: 2015, toYear: 2017 });
    const text = readFileSync(file, 'utf8');
    const expected = expectedVwMonthly(text);
    expect(expected.some((r) => r.values.includes(null))).toBe(true);
    expect(text).toMatch(/,\s*-99\.99(,|\r)/);
    expect(text).toMatch(/,\s*-999(,|\r)/);
    const dir = join(root, 'wh');
    initWarehouse(dir, 'test');
    const log = openWarehouseLog(dir);
    try {
      await loadFrenchFile({ dir, log, source: file, whVersion: 'test' });
    } finally {
      log.close();
    }
    const wh = await openWarehouse(dir);
    try {
      const r = await famaFrenchFactors(wh.session, { model: 'industry10', frequency: 'monthly', source: 'french' });
      expect(r.vintages).toEqual(['201712']);
      const cols = FRENCH_INDUSTRIES.map((c) => c.trim().toLowerCase());
      const got = r.rows.map((row) => ({ date: row.date, values: cols.map((c) => (row[c] === null ? null : Number(row[c]))) }));
      expect(got.map((g) => g.date)).toEqual(expected.map((e) => e.date));
      got.forEach((g, i) => g.values.forEach((v, j) => {
        const want = expected[i]!.values[j];
        if (want === null || want === undefined) expect(v, `${g.date} ${cols[j]}`).toBeNull();
        else expect(v!, `${g.date} ${cols[j]}`).toBeCloseTo(want, 10);
      }));
    } finally {
      wh.close();
    }
  });
});
