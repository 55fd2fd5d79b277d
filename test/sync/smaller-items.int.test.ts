/**
 * Issue 10, item 7 (the smaller failures), each against real files, processes and PostgreSQL:
 * a directory given to ingest, a missing source database, PGPASSFILE=/dev/null, control bytes in
 * names, `--as-of ""`, the empty tmp/fifo every sync left, and the 30-line DuckDB conversion error.
 * (The broken-chain runbook is in test/store/tail-and-projections.int.test.ts.)
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError } from '../../src/log/index.js';
import { openWarehouseLog, planGc, warehousePaths } from '../../src/store/index.js';
import { connectWrds, findDatasets, Secret, syncDatasets } from '../../src/sync/index.js';
import { resolvePassword } from '../../src/sync/wrds/credentials.js';
import { newWarehouse, writeCsv } from '../store/crash-invariants.js';
import { createTestDatabase } from '../support/pg-test-database.js';
import { cleanupTempDirs, ensureBuilt, runWh, tempDir } from '../support/wh-cli.js';

let W: string;
let files: string;
beforeAll(() => {
  ensureBuilt();
  W = newWarehouse('wh-small-');
  files = tempDir('wh-small-files-');
});
afterAll(cleanupTempDirs);

describe('ingest input errors', () => {
  it('a directory is named as a directory, not "no such file"', async () => {
    const r = await runWh(['--json', 'ingest', 'e', files, '--partition', 'all'], { warehouse: W });
    expect(r.code).toBe(1);
    expect(r.errorJson().message).toBe(`${files} is a directory, not a file`);
    expect(r.errorJson().message).not.toContain('no such file');
  });

  it('a bad value late in a CSV is one short line naming line, column, value and type', async () => {
    const csv = join(files, 'late.csv');
    writeFileSync(csv, ['id,val', ...Array.from({ length: 30_000 }, (_, i) => `${i},${i}`), '30000,abc'].join('\n') + '\n');
    const r = await runWh(['ingest', 'late', csv, '--partition', 'all', '--key', 'id'], { warehouse: W });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('line 30002: column "val" value "abc" is not a BIGINT');
    expect(r.stderr).not.toContain('sample_size');
  });

  it('escape and control bytes in a name are never echoed raw to the terminal', async () => {
    const csv = writeCsv(join(files, 'c.csv'), 3, 1);
    const r = await runWh(['ingest', 'bad\u001b[31mname\u0007', csv, '--partition', 'all'], { warehouse: W });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stderr).toContain('bad\\x1b[31mname\\x07');
  });
});

describe('--as-of ""', () => {
  it('is refused instead of silently meaning the head', async () => {
    const r = await runWh(['--json', 'query', 'SELECT 1 AS x', '--as-of', ''], { warehouse: W });
    expect(r.code).toBe(1);
    expect(r.errorJson()).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('empty') });
  });
});

describe('credentials and the source database', () => {
  const settings = { host: 'localhost', port: 5432, database: 'wrds', user: 'alice', sslmode: 'disable' as const };
  it('PGPASSFILE=/dev/null never suggests chmod 600 /dev/null', () => {
    const e = (() => {
      try {
        resolvePassword(settings, { PGPASSFILE: '/dev/null' }, tempDir());
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(isWarehouseError(e) && e.code).toBe('AUTH_FAILED');
    expect(isWarehouseError(e) && e.suggestion).not.toContain('chmod 600 /dev/null');
    expect(isWarehouseError(e) && e.suggestion).toContain('PGPASSWORD');
  });

  it('a missing source database is named as such, not as a dataset-definition problem', async () => {
    const db = await createTestDatabase('missing_db');
    try {
      const e = await connectWrds({ settings: { host: db.config.host, port: db.config.port, database: 'no_such_database_x', user: db.config.user, sslmode: 'disable' }, password: new Secret(db.config.password), maxRetries: 0 }).then(
        async (source) => {
          await source.close();
          return null;
        },
        (err: unknown) => err,
      );
      expect(isWarehouseError(e) && e.code).toBe('SOURCE_UNAVAILABLE');
      expect((e as Error).message).toContain('database "no_such_database_x" does not exist');
      expect(isWarehouseError(e) && e.suggestion).not.toContain('dataset definition');
    } finally {
      await db.drop();
    }
  });
});

describe('wh sync stages in a directory it owns and leaves nothing behind', () => {
  it('after a sync, tmp/ is empty and gc has nothing to report', async () => {
    const db = await createTestDatabase('fifo_left');
    const dir = newWarehouse('wh-fifo-');
    const log = openWarehouseLog(dir);
    try {
      await db.session.query(`CREATE SCHEMA crsp;
        CREATE TABLE crsp.msf (cusip varchar(64), permno integer, date date, prc numeric(11,5), ret numeric(10,6));
        INSERT INTO crsp.msf SELECT md5(g::text), g, '2021-01-29', 10, 0.01 FROM generate_series(1, 50) g;
        COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-02-08)'`);
      const source = await connectWrds({ settings: { host: db.config.host, port: db.config.port, database: db.config.database, user: db.config.user, sslmode: 'disable' }, password: new Secret(db.config.password) });
      try {
        // While the sync runs, its FIFOs and spill files sit in a directory it owns: gc leaves it alone.
        const during: ReturnType<typeof planGc>[] = [];
        const [r] = await syncDatasets({ dir, log, source, datasets: findDatasets(['crsp_msf']), whVersion: 'test', concurrency: 1, onProgress: (p) => void (p.status === 'started' && during.push(planGc(dir, log))) });
        expect(r!.status).not.toBe('failed');
        expect(during.length).toBeGreaterThan(0);
        for (const plan of during) {
          expect(plan.temporaries).toEqual([]);
          expect(plan.inUse).toEqual([expect.objectContaining({ path: expect.stringMatching(/sync-[0-9a-f-]+$/), pid: process.pid })]);
        }
      } finally {
        await source.close();
      }
      expect(existsSync(join(warehousePaths(dir).tmp, 'fifo'))).toBe(false);
      expect(readdirSync(warehousePaths(dir).tmp)).toEqual([]);
      expect(planGc(dir, log).temporaries).toEqual([]);
    } finally {
      log.close();
      await db.drop();
    }
  });
});
