import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, openPgSession, startPostgres, stopAllPostgresSync } from '../../src/dev/pg-server.js';
import type { PgConnectionConfig } from '../../src/dev/pg-server.js';
import { createTestDatabase, testServer } from '../support/pg-test-database.js';
import type { TestDatabase } from '../support/pg-test-database.js';

async function canConnect(cfg: PgConnectionConfig): Promise<boolean> {
  try {
    const s = await openPgSession(cfg);
    await s.end();
    return true;
  } catch {
    return false;
  }
}

const systemPostgres = ['/usr/lib/postgresql', ...(process.env['PATH'] ?? '').split(':')].some((d) =>
  existsSync(d) && (existsSync(join(d, 'pg_ctl')) || (d === '/usr/lib/postgresql' && readdirSync(d).length > 0)));

describe('the shared test server (globalSetup)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pg_server');
  });
  afterAll(() => db.drop());

  it('accepts connections on loopback and runs PostgreSQL 15 or later', async () => {
    expect(testServer().host).toBe('127.0.0.1');
    const { rows } = await db.session.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    expect(Number(rows[0]?.v)).toBeGreaterThanOrEqual(150000);
  });

  it('streams COPY FROM STDIN and returns dates as strings', async () => {
    await db.session.query('CREATE TABLE t (id integer, d date, p numeric(11,5))');
    const n = await db.session.copyFrom('COPY t FROM STDIN', (function* () {
      for (let i = 0; i < 5000; i++) yield `${i}\t2024-12-3${i % 2}\t${i}.12345\n`;
    })());
    expect(n).toBe(5000);
    const { rows } = await db.session.query<{ d: string; s: string }>('SELECT min(d) AS d, sum(p) AS s FROM t');
    expect(rows[0]).toEqual({ d: '2024-12-30', s: '12498117.25000' });
  });
});

describe('startPostgres', () => {
  it('starts a second server on a free port, creates a database, and stops cleanly', async () => {
    const server = await startPostgres({ port: 0 });
    expect(server.port).toBeGreaterThan(0);
    const cfg = await createDatabase(server, 'extra');
    expect(await canConnect(cfg)).toBe(true);
    await server.stop();
    await server.stop(); // idempotent
    expect(await canConnect(cfg)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });

  it('keeps a given dataDir across restarts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wh-pg-keep-'));
    chmodSync(root, 0o755); // as root, the server runs as another user who must reach the folder
    try {
      const dataDir = join(root, 'cluster');
      const first = await startPostgres({ dataDir });
      const cfg = await createDatabase(first, 'kept');
      const s = await openPgSession(cfg);
      await s.query('CREATE TABLE survivor (x integer)');
      await s.end();
      await first.stop();
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      const second = await startPostgres({ dataDir });
      const again = await openPgSession({ ...cfg, port: second.port });
      const { rows } = await again.query("SELECT to_regclass('public.survivor')::text AS t");
      expect(rows[0]).toEqual({ t: 'survivor' });
      await again.end();
      await second.stop();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(!systemPostgres)('falls back to the system PostgreSQL binaries', async () => {
    const server = await startPostgres({ backend: 'system' });
    try {
      expect(server.backend).toBe('system');
      expect(await canConnect(server)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('stops every server synchronously, as the exit and signal handlers do', async () => {
    const server = await startPostgres();
    expect(await canConnect(server)).toBe(true);
    stopAllPostgresSync();
    expect(await canConnect(server)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
    await server.stop(); // still safe afterwards
  });

  it('reports a taken fixed port with the server log', async () => {
    const taken = testServer().port;
    await expect(startPostgres({ port: taken })).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
  });
});
