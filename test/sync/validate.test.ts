/**
 * The validation gate's streaming pass on real Parquet files written by DuckDB: rows out of the
 * order asked of the source, NULL and duplicate keys, NULL rates, and what passes (ties on a
 * keyless sort key resolved by the other columns, NULLs sorted last).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../src/engine/index.js';
import { datasets, type DatasetDef } from '../../src/sync/wrds/catalogue.js';
import { validatePartition } from '../../src/sync/wrds/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'wh-validate-'));
let duck: Duck;
let n = 0;

beforeAll(async () => {
  duck = await openDuck({ threads: 1 });
});
afterAll(() => duck.close());

/** Write `rows` (permno, date, ret) in the given order to a Parquet file. */
async function file(rows: [number | null, string | null, number | null][]): Promise<string> {
  const path = join(dir, `${++n}.parquet`);
  const values = rows.map(([p, d, r]) => `(${p ?? 'NULL'}, ${d === null ? 'NULL' : `DATE '${d}'`}, ${r ?? 'NULL'})`).join(', ');
  await duck.all(`COPY (SELECT * FROM (VALUES ${values}) t(permno, date, ret)) TO '${path}' (FORMAT parquet)`);
  return path;
}

const keyed: DatasetDef = { name: 'x', schema: 's', table: 't', description: '', key: ['permno', 'date'], sortKey: ['permno', 'date'], rules: { maxNullRate: { ret: 0.4 } } };
const keyless: DatasetDef = { ...keyed, key: [], rules: {} };

async function check(def: DatasetDef, rows: [number | null, string | null, number | null][], order = ['permno', 'date']) {
  return validatePartition({ duck, file: await file(rows), rows: rows.length, def, order, expectedRows: rows.length, previousRows: undefined });
}

describe('validatePartition', () => {
  it('passes rows in key order', async () => {
    expect(await check(keyed, [[1, '2020-01-02', 0.1], [1, '2020-01-03', null], [2, '2020-01-02', 0.2]])).toBeNull();
  });

  it('refuses rows out of the order asked of the source, counting them', async () => {
    const p = await check(keyed, [[1, '2020-01-03', 0.1], [1, '2020-01-02', 0.2], [2, '2020-01-02', 0.3], [1, '2020-01-04', 0.4]]);
    expect(p).toMatchObject({ rule: 'sort_order' });
    expect(p!.message).toMatch(/^2 rows arrived out of the order asked of the source \(permno, date\)/);
  });

  it('refuses a duplicate key, naming one', async () => {
    const p = await check(keyed, [[1, '2020-01-02', 0.1], [2, '2020-01-02', 0.2], [2, '2020-01-02', 0.3]]);
    expect(p).toMatchObject({ rule: 'pk_unique' });
    expect(p!.message).toContain('permno=2');
  });

  it('refuses a NULL in the key', async () => {
    expect(await check(keyed, [[1, '2020-01-02', 0.1], [1, null, 0.2]])).toMatchObject({ rule: 'pk_not_null' });
  });

  it('refuses a NULL rate over its limit', async () => {
    const p = await check(keyed, [[1, '2020-01-02', null], [1, '2020-01-03', null], [2, '2020-01-02', 0.2]]);
    expect(p).toMatchObject({ rule: 'null_rate' });
    expect(p!.message).toContain('66.67%');
  });

  it('keyless: ties on the sort key are ordered by the other columns, NULLs last', async () => {
    const order = ['permno', 'date', 'ret'];
    expect(await check(keyless, [[1, '2020-01-02', 0.1], [1, '2020-01-02', 0.2], [1, '2020-01-02', null], [2, null, 0.1], [null, null, null]], order)).toBeNull();
    expect(await check(keyless, [[1, '2020-01-02', 0.2], [1, '2020-01-02', 0.1]], order)).toMatchObject({ rule: 'sort_order' });
    expect(await check(keyless, [[1, '2020-01-02', null], [1, '2020-01-02', 0.1]], order)).toMatchObject({ rule: 'sort_order' });
  });

  it('every keyed dataset in the catalogue has its key leading its sort key (so a duplicate is adjacent to its twin)', () => {
    for (const d of datasets.filter((x) => x.key.length > 0)) expect(new Set(d.sortKey.slice(0, d.key.length)), d.name).toEqual(new Set(d.key));
  });

  it('checks the row count against the source before reading the file', async () => {
    const path = await file([[1, '2020-01-02', 0.1]]);
    const p = await validatePartition({ duck, file: path, rows: 1, def: keyed, order: ['permno', 'date'], expectedRows: 2, previousRows: undefined });
    expect(p).toMatchObject({ rule: 'row_count' });
  });
});
