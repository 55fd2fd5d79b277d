import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { manifestAt, quarantineAt } from '../../src/projections/index.js';
import { runQuery } from '../../src/query/index.js';
import { startPostgres, createDatabase, type PgConnectionConfig } from '../../src/dev/pg-server.js';
import { testServer } from '../support/pg-test-database.js';
import { connectWrds, findDatasets, parseYears, resolvePassword, Secret, syncDatasets, TokenBucket, type SqlSource } from '../../src/sync/index.js';
import type { EventLog } from '../../src/log/index.js';
import { loadFixture, withSession, YEARS } from './wrds-fixture.js';

let dbCount = 0;

interface Env {
  db: PgConnectionConfig;
  dir: string;
  log: EventLog;
  source: SqlSource;
  sync: (names: string[], extra?: Partial<Parameters<typeof syncDatasets>[0]>) => ReturnType<typeof syncDatasets>;
  close: () => Promise<void>;
}

async function setup(): Promise<Env> {
  const db = await createDatabase(testServer(), `wrds_${++dbCount}_${process.pid}`);
  await loadFixture(db);
  const dir = join(mkdtempSync(join(tmpdir(), 'wh-sync-')), 'wh');
  initWarehouse(dir, 'test');
  const log = openWarehouseLog(dir);
  const source = await connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), retryBaseMs: 10, maxRetries: 1 });
  return {
    db,
    dir,
    log,
    source,
    sync: (names, extra = {}) => syncDatasets({ dir, log, source, datasets: findDatasets(names), whVersion: 'test', ...extra }),
    close: async () => {
      log.close();
      await source.close();
    },
  };
}

async function perYear(env: Env): Promise<{ pg: unknown[]; wh: unknown[] }> {
  const pg = await withSession(env.db, (s) =>
    s.query(`SELECT extract(year FROM date)::int AS y, count(*)::int AS n, round(sum(ret)::numeric, 6)::float8 AS ret, round(sum(abs(prc))::numeric, 4)::float8 AS prc, count(ret)::int AS nret FROM crsp.msf GROUP BY 1 ORDER BY 1`),
  );
  const wh = await runQuery(env.dir, env.log, `SELECT year(date)::INT AS y, count(*)::INT AS n, round(sum(ret), 6) AS ret, round(sum(abs(prc)), 4) AS prc, count(ret)::INT AS nret FROM crsp_msf GROUP BY 1 ORDER BY 1`);
  return { pg: pg.rows, wh: [...wh.rows] };
}

describe('wh sync against a real PostgreSQL', () => {
  it('a full sync equals the source: row counts and column sums per partition, types by policy', async () => {
    const env = await setup();
    try {
      const [r] = await env.sync(['crsp_msf']);
      expect(r!.status).toBe('synced');
      expect(r!.vintage).toBe('2024-02-08');
      expect(r!.partitions.map((p) => p.partition)).toEqual(YEARS.map(String));
      const { pg, wh } = await perYear(env);
      expect(wh).toEqual(pg);
      const q = await runQuery(env.dir, env.log, `SELECT typeof(prc) AS t_prc, typeof(permno) AS t_permno, typeof(date) AS t_date, cusip FROM crsp_msf WHERE permno = 10007 LIMIT 1`);
      expect(q.rows[0]).toMatchObject({ t_prc: 'DOUBLE', t_permno: 'INTEGER', t_date: 'DATE', cusip: 'C,"10007' });
      const written = env.log.read({ types: ['PartitionWritten'] });
      expect(written).toHaveLength(3);
      for (const e of written) {
        if (e.type !== 'PartitionWritten') continue;
        expect(e.data.lineage).toMatchObject({ kind: 'sync', source: 'crsp.msf', vintage: '2024-02-08' });
        expect(e.data.lineage.sql).toContain('FROM "crsp"."msf"');
        expect(e.lease?.scope).toBe('dataset:crsp_msf');
      }
    } finally {
      await env.close();
    }
  });

  it('a rerun against an unchanged source writes no event at all', async () => {
    const env = await setup();
    try {
      await env.sync(['crsp_msf']);
      const head = env.log.head().seq;
      const [again] = await env.sync(['crsp_msf']);
      expect(again!.status).toBe('unchanged');
      expect(env.log.head().seq).toBe(head);
    } finally {
      await env.close();
    }
  });

  it('incremental: rows appended, a row corrected and the vintage bumped rewrite only those partitions', async () => {
    const env = await setup();
    try {
      await env.sync(['crsp_msf']);
      const before = manifestAt(env.log, undefined, 'crsp_msf');
      const seqBefore = env.log.head().seq;
      await withSession(env.db, (s) =>
        s.query(`UPDATE crsp.msf SET ret = 0.123456 WHERE permno = 10001 AND date = '2022-03-31';
                 INSERT INTO crsp.msf (cusip, permno, date, prc, ret, vol, shrout) VALUES ('NEW', 20001, '2023-12-31', 12.5, 0.01, 100, 10);
                 COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-03-08)'`),
      );
      const [r] = await env.sync(['crsp_msf']);
      expect(r!.vintage).toBe('2024-03-08');
      expect(Object.fromEntries(r!.partitions.map((p) => [p.partition, p.status]))).toEqual({ '2021': 'unchanged', '2022': 'written', '2023': 'written' });
      const after = manifestAt(env.log, undefined, 'crsp_msf');
      expect(after.find((m) => m.partition === '2021')!.object).toBe(before.find((m) => m.partition === '2021')!.object);
      const { pg, wh } = await perYear(env);
      expect(wh).toEqual(pg);
      // The value first seen stays queryable as of the earlier point.
      const old = await runQuery(env.dir, env.log, `SELECT ret FROM crsp_msf WHERE permno = 10001 AND date = '2022-03-31'`, { asOf: String(seqBefore) });
      const now = await runQuery(env.dir, env.log, `SELECT ret FROM crsp_msf WHERE permno = 10001 AND date = '2022-03-31'`);
      expect(now.rows[0]!['ret']).toBe(0.123456);
      expect(old.rows[0]!['ret']).not.toBe(0.123456);
    } finally {
      await env.close();
    }
  });

  it('schema drift: an added column is accepted; a removed column or changed type is refused and recorded', async () => {
    const env = await setup();
    try {
      await env.sync(['crsp_msf']);
      await withSession(env.db, (s) => s.query(`ALTER TABLE crsp.msf ADD COLUMN altprc numeric(11,5); UPDATE crsp.msf SET altprc = 1.5 WHERE date >= '2023-01-01'; COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-04-08)'`));
      const [added] = await env.sync(['crsp_msf']);
      expect(added!.status).toBe('synced');
      expect(env.log.read({ types: ['SchemaDriftDetected'] }).map((e) => e.type === 'SchemaDriftDetected' && e.data.accepted)).toEqual([true]);
      const q = await runQuery(env.dir, env.log, `SELECT count(altprc) AS n FROM crsp_msf`);
      expect(q.rows[0]!['n']).toBe(480);

      const head = manifestAt(env.log, undefined, 'crsp_msf');
      await withSession(env.db, (s) => s.query(`ALTER TABLE crsp.msf DROP COLUMN shrout; COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-05-08)'`));
      const [removed] = await env.sync(['crsp_msf']);
      expect(removed!.status).toBe('failed');
      expect(removed!.error?.code).toBe('SCHEMA_DRIFT');
      expect(removed!.error?.message).toContain('removed shrout');
      expect(removed!.error?.suggestion).toContain('--accept-schema-change');
      expect(manifestAt(env.log, undefined, 'crsp_msf')).toEqual(head);

      await withSession(env.db, (s) => s.query(`ALTER TABLE crsp.msf ADD COLUMN shrout numeric; ALTER TABLE crsp.msf ALTER COLUMN permno TYPE varchar(10)`));
      const [changed] = await env.sync(['crsp_msf'], { force: true });
      expect(changed!.error?.code).toBe('SCHEMA_DRIFT');
      expect(changed!.error?.message).toMatch(/changed permno INTEGER -> VARCHAR/);
      const [accepted] = await env.sync(['crsp_msf'], { force: true, acceptDrift: true });
      expect(accepted!.status).toBe('synced');
    } finally {
      await env.close();
    }
  });

  it('a partition is the same bytes whatever the physical order of the source rows (the server sorts, totally, bytewise)', async () => {
    const env = await setup();
    try {
      // A keyless table: two rows share (permno, namedt) and differ only in ticker; mixed case and
      // accents, which a locale collation would order differently from the bytes.
      await withSession(env.db, (s) =>
        s.query(`CREATE TABLE crsp.stocknames (permno integer, namedt date, ticker varchar(8), comnam varchar(35));
                 INSERT INTO crsp.stocknames VALUES (10002, '2020-01-02', 'b', 'ÉTOILE'), (10001, '2019-05-01', 'AB', 'alpha'),
                   (10002, '2020-01-02', 'B', 'Étoile'), (10001, '2019-05-01', 'Ab', 'Alpha'), (10003, '2021-07-01', NULL, 'zeta'),
                   (10001, '2018-01-01', 'aa', 'ALPHA');
                 COMMENT ON TABLE crsp.stocknames IS 'Stock names (Updated 2024-02-08)'`),
      );
      const [first] = await env.sync(['crsp_stocknames']);
      expect(first!.status).toBe('synced');
      const sql = env.log.read({ types: ['PartitionWritten'] }).map((e) => (e.type === 'PartitionWritten' ? e.data.lineage.sql : ''));
      expect(sql[0]).toContain('ORDER BY "permno", "namedt", "ticker" COLLATE "C", "comnam" COLLATE "C"');
      const rows = await runQuery(env.dir, env.log, `SELECT permno, strftime(namedt, '%Y-%m-%d') AS d, ticker, comnam FROM crsp_stocknames`);
      expect(rows.rows.map((r) => `${r['permno']} ${r['d']} ${r['ticker']}`)).toEqual([
        '10001 2018-01-01 aa',
        '10001 2019-05-01 AB',
        '10001 2019-05-01 Ab',
        '10002 2020-01-02 B',
        '10002 2020-01-02 b',
        '10003 2021-07-01 null',
      ]);
      const object = manifestAt(env.log, undefined, 'crsp_stocknames')[0]!.object;
      // Rewrite the table in another physical order; a full re-pull must find identical content.
      await withSession(env.db, (s) =>
        s.query(`CREATE TABLE crsp.shuffled AS SELECT * FROM crsp.stocknames ORDER BY comnam DESC; DROP TABLE crsp.stocknames;
                 ALTER TABLE crsp.shuffled RENAME TO stocknames; COMMENT ON TABLE crsp.stocknames IS 'Stock names (Updated 2024-03-08)'`),
      );
      const [again] = await env.sync(['crsp_stocknames'], { full: true });
      expect(again!.partitions.map((p) => p.status)).toEqual(['unchanged']);
      expect(manifestAt(env.log, undefined, 'crsp_stocknames')[0]!.object).toBe(object);
    } finally {
      await env.close();
    }
  });

  it('a partition failing validation is quarantined with the rule named; nothing else changes', async () => {
    const env = await setup();
    try {
      await withSession(env.db, (s) => s.query(`INSERT INTO crsp.msf (cusip, permno, date, prc) VALUES ('DUP', 10003, '2022-05-31', 1)`));
      const [r] = await env.sync(['crsp_msf']);
      expect(r!.status).toBe('failed');
      expect(r!.error?.code).toBe('VALIDATION_FAILED');
      expect(r!.error?.message).toContain('pk_unique');
      expect(r!.error?.message).toContain('permno=10003');
      const q = quarantineAt(env.log);
      expect(q).toHaveLength(1);
      expect(q[0]).toMatchObject({ dataset: 'crsp_msf', partition: '2022', rule: 'pk_unique' });
      expect(statSync(q[0]!.path).size).toBeGreaterThan(0);
      // The failing partition was not committed; the one transferred alongside it was.
      const committed = manifestAt(env.log, undefined, 'crsp_msf').map((m) => m.partition);
      expect(committed).not.toContain('2022');
      expect(committed).toContain('2021');
      expect(env.log.read({ types: ['SyncFailed'] })).toHaveLength(1);
    } finally {
      await env.close();
    }
  });

  it('dates that are not NYSE sessions, and a missing session in a market-wide file, fail validation', async () => {
    const env = await setup();
    try {
      await withSession(env.db, (s) => s.query(`DELETE FROM crsp.dsi WHERE date = '2022-06-21'`));
      const [gap] = await env.sync(['crsp_dsi'], { years: { from: 2022, to: 2022 } });
      expect(gap!.error?.message).toContain('session_gap');
      expect(gap!.error?.message).toContain('2022-06-21');
      await withSession(env.db, (s) => s.query(`INSERT INTO crsp.dsi VALUES ('2022-06-21', 0, 0, 1, 1), ('2022-06-20', 0, 0, 1, 1)`));
      const [holiday] = await env.sync(['crsp_dsi'], { years: { from: 2022, to: 2022 } });
      expect(holiday!.error?.message).toContain('2022-06-20 is not an NYSE session');
    } finally {
      await env.close();
    }
  });

  it('the server dying mid-sync ends with a clear error and a state the next run resumes from', async () => {
    const own = await startPostgres();
    try {
      const db = await createDatabase(own, 'wrds_dying');
      await loadFixture(db);
      const dir = join(mkdtempSync(join(tmpdir(), 'wh-sync-')), 'wh');
      initWarehouse(dir, 'test');
      const log = openWarehouseLog(dir);
      const source = await connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), retryBaseMs: 10, maxRetries: 1 });
      let stopped = false;
      const [r] = await syncDatasets({
        dir, log, source, datasets: findDatasets(['crsp_msf']), whVersion: 'test',
        // One partition at a time, so the server dies between the first commit and the next transfer.
        concurrency: 1,
        onProgress: (p) => {
          if (p.status === 'written' && !stopped) {
            stopped = true;
            void own.stop();
          }
        },
      });
      expect(r!.status).toBe('failed');
      expect(r!.error?.code).toBe('SOURCE_UNAVAILABLE');
      expect(r!.error?.suggestion).toMatch(/resumes/);
      expect(manifestAt(log, undefined, 'crsp_msf').length).toBeGreaterThanOrEqual(1);
      await source.close().catch(() => undefined);
      log.close();
    } finally {
      await own.stop();
    }
  });

  it('a wrong password fails with AUTH_FAILED and the real or wrong password appears nowhere', async () => {
    const env = await setup();
    const real = `Rl-${Math.random().toString(36).slice(2)}-Pw-${process.pid}`;
    const wrong = `Wr-${Math.random().toString(36).slice(2)}-Pw`;
    try {
      await withSession(env.db, (s) => s.query(`CREATE ROLE wh_reader LOGIN PASSWORD '${real}' VALID UNTIL '${new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10)}'; GRANT USAGE ON SCHEMA crsp TO wh_reader; GRANT SELECT ON ALL TABLES IN SCHEMA crsp TO wh_reader`));
      const settings = { host: env.db.host, port: env.db.port, database: env.db.database, user: 'wh_reader', sslmode: 'disable' as const };
      const err = await connectWrds({ settings, password: new Secret(wrong), maxRetries: 0 }).catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'AUTH_FAILED' });
      expect((err as { suggestion?: string }).suggestion).toMatch(/pgpass|PGPASSWORD/);
      const source = await connectWrds({ settings, password: new Secret(real) });
      const [ok] = await syncDatasets({ dir: env.dir, log: env.log, source, datasets: findDatasets(['crsp_msf']), whVersion: 'test' });
      await source.close();
      expect(ok!.status).toBe('synced');
      // The login expires in 10 days: a credential_expiry alert, as an event.
      expect(env.log.read({ types: ['SyncAlert'] }).map((e) => e.type === 'SyncAlert' && e.data.alert)).toContain('credential_expiry');
      const shown = JSON.stringify(err) + String(err) + (err as Error).message + JSON.stringify(ok);
      const everything = walk(env.dir).map((f) => readFileSync(f).toString('latin1')).join('\n') + shown;
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(real);
      expect(JSON.stringify(env.log.read())).not.toContain(real);
    } finally {
      await env.close();
    }
  });

  it('refuses a .pgpass readable by others, and reads a private one', () => {
    const home = mkdtempSync(join(tmpdir(), 'wh-home-'));
    const settings = { host: 'h', port: 9737, database: 'wrds', user: 'u', sslmode: 'require' as const };
    writeFileSync(join(home, '.pgpass'), 'h:9737:wrds:u:pa\\:ss\n');
    chmodSync(join(home, '.pgpass'), 0o644);
    expect(() => resolvePassword(settings, {}, home)).toThrow(/readable by group or others/);
    chmodSync(join(home, '.pgpass'), 0o600);
    expect(resolvePassword(settings, {}, home).reveal()).toBe('pa:ss');
    expect(String(resolvePassword(settings, {}, home))).toBe('***');
    expect(() => resolvePassword({ ...settings, user: 'other' }, {}, home)).toThrow(/no password for other@h/);
  });

  it('the rate limit spaces queries to the configured rate', async () => {
    let now = 0;
    const slept: number[] = [];
    const bucket = new TokenBucket(60, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    for (let i = 0; i < 90; i++) await bucket.take();
    // 60 tokens up front, then one per second: 30 more need about 30 s.
    expect(now).toBeGreaterThanOrEqual(29_000);
    expect(now).toBeLessThanOrEqual(31_000);
  });

  it('refuses malicious dataset names and year ranges', () => {
    expect(() => findDatasets(['crsp_dsf; DROP TABLE x'])).toThrow(/unknown dataset/);
    expect(() => findDatasets(['../../etc/passwd'])).toThrow(/unknown dataset/);
    expect(() => parseYears("2000-2024'; --")).toThrow(/not a year range/);
    expect(() => parseYears('2024-2000')).toThrow(/not a year range/);
    expect(parseYears('2000-2024')).toEqual({ from: 2000, to: 2024 });
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return walk(p);
    return d.isFile() ? [p] : [];
  });
}
