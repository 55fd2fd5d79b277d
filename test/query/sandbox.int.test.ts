/**
 * Issue 10, item 1: no query can damage the warehouse. Real `wh query` processes and the library
 * API try what an attacker (or a typo) would: COPY over the warehouse, the log, an object; ATTACH
 * the catalog read-write; change the configuration; install extensions; read files outside the
 * warehouse. All are refused and every file of the warehouse is byte-for-byte unchanged.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../src/engine/index.js';
import { isWarehouseError } from '../../src/log/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { objectPath, openWarehouseLog, refreshCatalogFile, warehousePaths } from '../../src/store/index.js';
import { fingerprint, twoDatasetWarehouse } from '../support/damage.js';
import { cleanupTempDirs, ensureBuilt, runWh, tempDir } from '../support/wh-cli.js';

let W: string;
let files: string;
let object: string;
let before: Record<string, string>;

beforeAll(async () => {
  ensureBuilt();
  ({ dir: W, files } = await twoDatasetWarehouse('wh-sandbox-'));
  const log = openWarehouseLog(W);
  object = objectPath(W, manifestAt(log).find((e) => e.dataset === 't')!.object);
  await refreshCatalogFile(W, log);
  log.close();
  before = fingerprint(W);
});
afterAll(cleanupTempDirs);

const sumT = 'SELECT count(*) AS n, sum(val) AS s FROM t';

describe('wh query refuses every statement that could write, attach, reconfigure or install', () => {
  const attacks = (): [string, string][] => [
    ['COPY over the whole warehouse', `COPY (SELECT 1 a, 2 b) TO '${W}' (FORMAT parquet, PARTITION_BY (a), OVERWRITE)`],
    ['COPY over the log', `COPY (SELECT 1 a) TO '${W}/wh.log' (FORMAT csv)`],
    ['COPY a same-schema file over a live object', `COPY (SELECT * FROM t) TO '${object}' (FORMAT parquet)`],
    ['ATTACH the catalog read-write', `ATTACH '${W}/catalog.duckdb' AS c`],
    ['a read followed by a COPY', `SELECT 1; COPY (SELECT 1) TO '${W}/x.csv'`],
    ['SET', 'SET enable_external_access = true'],
    ['INSTALL', 'INSTALL httpfs'],
    ['LOAD', 'LOAD httpfs'],
    ['CREATE TABLE', 'CREATE TABLE z AS SELECT 1'],
    ['EXPLAIN ANALYZE of a COPY', `EXPLAIN ANALYZE COPY (SELECT 1) TO '${W}/y.csv'`],
    // DuckDB's query() itself accepts only a SELECT: refused by the engine as a failed query.
    ['query() wrapping a COPY', `SELECT * FROM query('COPY (SELECT 1) TO ''${W}/q.csv''')`],
    ['reading a file outside the warehouse', "SELECT * FROM read_csv('/etc/passwd')"],
    ['reading the log', `SELECT * FROM read_blob('${W}/wh.log')`],
    ['globbing the warehouse', `SELECT * FROM glob('${W}/*')`],
  ];

  it('each is refused by the CLI (exit 1, QUERY_REFUSED) and nothing in the warehouse changes', async () => {
    for (const [what, sql] of attacks()) {
      const r = await runWh(['--json', 'query', sql], { warehouse: W });
      expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.errorJson().code, what).toBe(what.startsWith('query()') ? 'QUERY_FAILED' : 'QUERY_REFUSED');
      expect(fingerprint(W), what).toEqual(before);
    }
    expect(existsSync(join(W, 'x.csv')) || existsSync(join(W, 'y.csv')) || existsSync(join(W, 'q.csv'))).toBe(false);
    const ok = await runWh(['--json', 'query', sumT], { warehouse: W });
    expect(ok.code).toBe(0);
    expect(ok.json<{ n: number }[]>()[0]!.n).toBe(600);
  });

  it('each is refused by openWarehouse().rows() and .sql()', async () => {
    const wh = await openWarehouse(W);
    try {
      for (const [what, sql] of attacks()) {
        for (const run of [() => wh.rows(sql), () => wh.sql(sql)]) {
          const e = await run().then(() => null, (err: unknown) => err);
          expect(isWarehouseError(e) && e.code, what).toBe(what.startsWith('query()') ? 'QUERY_FAILED' : 'QUERY_REFUSED');
        }
      }
      expect(fingerprint(W)).toEqual(before);
      // The provider-facing session is sandboxed too: even a COPY slipped past the statement check cannot write.
      const e = await wh.session.duck.run(`COPY (SELECT 1) TO '${W}/z.csv'`).then(() => null, (err: unknown) => err);
      expect(String(e)).toMatch(/disabled by configuration/);
      expect(existsSync(join(W, 'z.csv'))).toBe(false);
      expect((await wh.rows(sumT))[0]!['n']).toBe(600);
    } finally {
      wh.close();
    }
  });
});

describe('reads of your own files are an explicit opt-in', () => {
  it('--allow-read lets the SQL read one file outside the warehouse; without it the read is refused', async () => {
    const ids = join(files, 'ids.csv');
    writeFileSync(ids, 'id\n1\n2\n3\n');
    const sql = `SELECT count(*) AS n FROM t JOIN read_csv('${ids}') USING (id)`;
    const refused = await runWh(['--json', 'query', sql], { warehouse: W });
    expect(refused.code).toBe(1);
    expect(refused.errorJson().code).toBe('QUERY_REFUSED');
    expect(refused.errorJson().suggestion).toContain('--allow-read');
    const allowed = await runWh(['--json', 'query', sql, '--allow-read', ids], { warehouse: W });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.json<{ n: number }[]>()[0]!.n).toBe(6);
    // The library takes the same opt-in.
    const wh = await openWarehouse(W, { allowRead: [files] });
    try {
      expect((await wh.rows(sql))[0]!['n']).toBe(6);
    } finally {
      wh.close();
    }
    const overlap = await runWh(['--json', 'query', 'SELECT 1', '--allow-read', W], { warehouse: W });
    expect(overlap.errorJson().code).toBe('QUERY_REFUSED');
  });
});

describe('exports are written by wh, outside the warehouse', () => {
  it('--out writes parquet, csv and json that read back equal', async () => {
    const out = tempDir('wh-export-');
    for (const format of ['parquet', 'csv', 'json'] as const) {
      const path = join(out, `t.${format}`);
      const r = await runWh(['--json', 'query', `SELECT id, val FROM t WHERE grp = $1 ORDER BY id`, '--param', '5', '--out', path], { warehouse: W });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ format: string; rows: number }>()).toMatchObject({ format, rows: 8 });
      const duck = await openDuck();
      try {
        const reader = format === 'parquet' ? 'read_parquet' : format === 'csv' ? 'read_csv' : 'read_json';
        const back = await duck.all(`SELECT count(*) AS n, sum(val) AS s FROM ${reader}('${path}')`);
        expect(back.rows[0]!['n']).toBe(8);
      } finally {
        duck.close();
      }
    }
    expect(JSON.parse(readFileSync(join(out, 't.json'), 'utf8'))).toHaveLength(8);
    expect(fingerprint(W)).toEqual(before);
  });

  it('--out inside the warehouse directory is refused and writes nothing', async () => {
    for (const target of [join(W, 'wh.log'), join(W, 'export.parquet'), object, W]) {
      const r = await runWh(['--json', 'query', 'SELECT * FROM t', '--out', target], { warehouse: W });
      expect(r.code, target).toBe(1);
      expect(r.errorJson().code).toBe('QUERY_REFUSED');
    }
    const wrapped = await runWh(['--json', 'query', "SELECT 1) TO '/tmp/evil.csv' (FORMAT csv); SELECT (1", '--out', join(tempDir(), 'a.csv')], { warehouse: W });
    expect(wrapped.code).toBe(1);
    expect(existsSync('/tmp/evil.csv')).toBe(false);
    expect(fingerprint(W)).toEqual(before);
  });
});

describe('immutable files', () => {
  it('objects and the catalog file are read-only on disk', () => {
    expect(statSync(object).mode & 0o777).toBe(0o444);
    expect(statSync(warehousePaths(W).catalog).mode & 0o777).toBe(0o444);
  });
});
