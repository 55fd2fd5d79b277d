/**
 * The COPY stream the client hands out ends only once the server's row count has arrived. Over a
 * real network CopyDone and CommandComplete can come in separate packets; a TCP proxy in front of
 * the test server reproduces that by holding back everything after CopyDone for 150 ms.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWrds, Secret, type SqlSource } from '../../src/sync/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/** Forward to `port`; in the server→client direction, delay whatever follows a CopyDone message. */
function splittingProxy(port: number): Promise<{ server: Server; port: number; splits: () => number }> {
  let splits = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      const at = d.indexOf(COPY_DONE);
      if (at < 0) {
        client.write(d);
        return;
      }
      splits += 1;
      upstream.pause();
      client.write(d.subarray(0, at + COPY_DONE.length));
      setTimeout(() => {
        client.write(d.subarray(at + COPY_DONE.length));
        upstream.resume();
      }, 150);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      server.on('close', () => sockets.forEach((s) => s.destroy()));
      ok({ server, port: (server.address() as { port: number }).port, splits: () => splits });
    }),
  );
}

describe('COPY row count over a network that splits CopyDone from CommandComplete', () => {
  let db: TestDatabase;
  let proxy: Awaited<ReturnType<typeof splittingProxy>>;
  let source: SqlSource;
  beforeAll(async () => {
    db = await createTestDatabase('copy_rowcount');
    proxy = await splittingProxy(db.config.port);
    source = await connectWrds({
      settings: { host: '127.0.0.1', port: proxy.port, database: db.config.database, user: db.config.user, sslmode: 'disable' },
      password: new Secret(db.config.password),
    });
  });
  afterAll(async () => {
    await source.close();
    proxy.server.close();
    await db.drop();
  });

  it('the row count is set when the stream ends, however late the server sends it', async () => {
    for (const n of [0, 1, 2500]) {
      const stream = await source.copyOut(`SELECT g, 'x' || g FROM generate_series(1, ${n}) g`);
      let lines = 0;
      stream.on('data', (c: Buffer) => {
        for (const b of c) if (b === 10) lines += 1;
      });
      const countAtEnd = await new Promise<unknown>((ok, fail) => stream.on('end', () => ok((stream as { rowCount?: unknown }).rowCount)).on('error', fail));
      expect(lines).toBe(n);
      expect(countAtEnd).toBe(n);
    }
    expect(proxy.splits()).toBe(3);
  });
});
