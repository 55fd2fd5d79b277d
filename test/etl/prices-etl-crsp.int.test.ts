/**
 * `runPricesEtl` with `--source crsp` over the CRSP fixture (test/support/crsp-fixture.ts): the
 * universe on a date, rows from the CRSP provider, year partitions across 2019→2020, a health
 * report on the unified dataset with no jump (the fixture's 2:1 split is followed by the price) and
 * no duplicate key, and a rerun that writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPricesEtl } from '../../src/etl/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { buildCrspFixture, type CrspFixture } from '../support/crsp-fixture.js';

let fx: CrspFixture;
beforeAll(async () => {
  fx = await buildCrspFixture();
});
afterAll(() => fx?.close());

describe('wh etl prices --source crsp', () => {
  it('builds the universe’s prices from CRSP, by year, with the provider on every row', async () => {
    const r = await runPricesEtl({ dir: fx.dir, log: fx.log, universe: '2020-01-02', start: '2019-12-02', end: '2020-03-31', source: 'crsp', whVersion: 'test' });
    expect(r.status).toBe('written');
    expect(r.symbols).toBeGreaterThan(3);
    expect(r.partitions.map((p) => p.partition)).toEqual(['2019', '2020']);
    const wh = await openWarehouse(fx.dir);
    try {
      const [row] = await wh.rows(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE provider = 'crsp')::INT AS crsp, count(DISTINCT symbol)::INT AS symbols FROM prices_daily`);
      expect(row!['n']).toBe(r.fetchedRows);
      expect(row!['crsp']).toBe(row!['n']);
      expect(row!['symbols']).toBe(r.symbols - r.unserved.length);
    } finally {
      wh.close();
    }
    const kinds = (r.health?.findings ?? []).map((f) => f.kind);
    expect(kinds).not.toContain('price_jump');
    expect(kinds).not.toContain('duplicate_keys');
    // A rerun: nothing new, no event.
    const head = fx.log.head().seq;
    const again = await runPricesEtl({ dir: fx.dir, log: fx.log, universe: '2020-01-02', start: '2019-12-02', end: '2020-03-31', source: 'crsp', whVersion: 'test' });
    expect(again.status).toBe('unchanged');
    expect(fx.log.head().seq).toBe(head);
  });
});
