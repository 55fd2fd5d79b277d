/**
 * The TAQ provider and `wh taq` over a warehouse synced from the generated sample on a real
 * PostgreSQL: point-in-time reads return identical Arrow bytes after later syncs (property), bad
 * symbols and missing datasets are named, the unified-fetcher provider, and the CLI end to end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWrdsSample } from '../../src/dev/wrds-sample/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { createTaqProvider, planTaq, taqMinuteBars, taqRealizedVariance, taqSpreads, taqTicks, type TaqOptions } from '../../src/providers/index.js';
import { connectWrds, Secret, syncTaq } from '../../src/sync/index.js';
import type { EventLog } from '../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';
import { runWh } from '../support/wh-cli.js';

let db: TestDatabase;
let days: readonly string[];
let symbols: string[];
let dir: string;
let log: EventLog;

async function sync(start: string, end: string, tier: 'aggregates' | 'both' = 'both'): Promise<void> {
  const c = db.config;
  const source = await connectWrds({ settings: { host: c.host, port: c.port, database: c.database, user: c.user, sslmode: 'disable' }, password: new Secret(c.password), retryBaseMs: 10, maxRetries: 1 });
  try {
    await syncTaq({ dir, log, source, symbols: { kind: 'list', symbols }, start, end, tier, whVersion: 'test', threads: 1 });
  } finally {
    await source.close();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('taq_query');
  days = (await generateWrdsSample(db.session, { seed: 7, fromYear: 2021, toYear: 2023, taqDays: 3, taqSymbols: 5 })).taqDays;
  const t = `taqm_${days[0]!.slice(0, 4)}.mastm_${days[0]!.replace(/-/g, '')}`;
  symbols = (await db.session.query<{ s: string }>(`SELECT sym_root AS s FROM ${t} ORDER BY 1 LIMIT 3`)).rows.map((r) => r.s);
  dir = join(mkdtempSync(join(tmpdir(), 'wh-taq-q-')), 'wh');
  initWarehouse(dir, 'test');
  log = openWarehouseLog(dir);
}, 300_000);
afterAll(async () => {
  log?.close();
  await db?.drop();
});

describe('the TAQ provider', () => {
  it('reads at a point return identical Arrow bytes after later syncs that add days and revise one', async () => {
    await sync(days[0]!, days[0]!);
    const point = log.head().seq;
    const fns = [taqMinuteBars, taqRealizedVariance, taqSpreads, taqTicks];
    const queries = fc.sample(
      fc.record({ fn: fc.integer({ min: 0, max: 3 }), symbols: fc.subarray(symbols, { minLength: 1 }), end: fc.constantFrom(...days) }),
      { numRuns: 12, seed: 42 },
    );
    const ipc = async (asOf: string | undefined, q: (typeof queries)[number]): Promise<Uint8Array> => {
      const wh = await openWarehouse(dir, { asOf });
      try {
        const o: TaqOptions = { symbols: q.symbols, start: days[0]!, end: q.end };
        return tableToIPC(await fns[q.fn]!(wh.session, o));
      } finally {
        wh.close();
      }
    };
    const before = await Promise.all(queries.map((q) => ipc(String(point), q)));
    // Later: the vendor revises a trade of day 0 (new vintage) and more days arrive.
    const ymd = days[0]!.replace(/-/g, '');
    const ctm = `taqm_${days[0]!.slice(0, 4)}.ctm_${ymd}`;
    await db.session.query(`UPDATE ${ctm} SET price = price * 1.01 WHERE tr_seqnum = (SELECT min(tr_seqnum) FROM ${ctm} WHERE sym_root = $1 AND tr_corr = '00' AND time_m > '10:00')`, [symbols[0]]);
    await db.session.query(`COMMENT ON TABLE ${ctm} IS 'Last modified: 03/01/2024 02:00:00'`);
    await sync(days[0]!, days.at(-1)!);
    expect(log.head().seq).toBeGreaterThan(point);
    for (const [i, q] of queries.entries()) expect(Buffer.from(await ipc(String(point), q)).equals(Buffer.from(before[i]!))).toBe(true);
    // The latest read sees the revision.
    const now = await ipc(undefined, { fn: 0, symbols: [symbols[0]!], end: days[0]! });
    const then = await ipc(String(point), { fn: 0, symbols: [symbols[0]!], end: days[0]! });
    expect(Buffer.from(now).equals(Buffer.from(then))).toBe(false);
  });

  it('a read opens only the objects of the days asked for, and returns what the dataset view returns', async () => {
    const wh = await openWarehouse(dir);
    try {
      const mid = days[1]!;
      const plan = planTaq(wh.session, 'bars', { symbols, start: mid, end: mid });
      const objects = wh.session.entries.filter((e) => e.dataset === 'taq_minute_bars');
      expect(objects.length).toBe(days.length);
      for (const e of objects) expect(plan.query.sql.includes(e.object)).toBe(e.partition === mid);
      const direct = await taqMinuteBars(wh.session, { symbols, start: mid, end: mid });
      const viaView = await wh.arrow(`SELECT * FROM taq_minute_bars WHERE symbol IN (${symbols.map((x) => `'${x}'`).join(', ')}) AND date = DATE '${mid}' ORDER BY symbol, minute`);
      expect(direct.numRows).toBeGreaterThan(0);
      expect(Buffer.from(tableToIPC(direct)).equals(Buffer.from(tableToIPC(viaView)))).toBe(true);
    } finally {
      wh.close();
    }
  });

  it('names unknown symbols, reversed ranges and missing datasets', async () => {
    const wh = await openWarehouse(dir);
    try {
      await expect(taqMinuteBars(wh.session, { symbols: ['ZZZZ'], start: days[0]!, end: days[0]! })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ZZZZ') });
      // A known symbol with no rows in the range is no error, alone or with others; an unknown one among known ones is.
      expect((await taqMinuteBars(wh.session, { symbols: [symbols[0]!], start: '1990-01-02', end: '1990-01-05' })).numRows).toBe(0);
      expect((await taqMinuteBars(wh.session, { symbols: [symbols[0]!, symbols[0]!], start: days[0]!, end: days[0]! })).numRows).toBeGreaterThan(0);
      await expect(taqMinuteBars(wh.session, { symbols: [symbols[0]!, 'ZZZZ'], start: days[0]!, end: days[0]! })).rejects.toMatchObject({ message: expect.stringContaining('ZZZZ') });
      await expect(taqSpreads(wh.session, { symbols, start: days[1]!, end: days[0]! })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('reversed') });
    } finally {
      wh.close();
    }
    const empty = join(mkdtempSync(join(tmpdir(), 'wh-taq-e-')), 'wh');
    initWarehouse(empty, 'test');
    const e = await openWarehouse(empty);
    try {
      await expect(taqTicks(e.session, { symbols, start: days[0]!, end: days[0]! })).rejects.toMatchObject({ code: 'UNKNOWN_DATASET' });
    } finally {
      e.close();
    }
  });

  it('serves the unified fetcher: daily rows from the bars', async () => {
    const wh = await openWarehouse(dir);
    try {
      const p = createTaqProvider(wh.session);
      expect(await p.configured()).toEqual({ ok: true });
      const t = await p.getDailyPrices(symbols, days[0]!, days.at(-1)!);
      const bars = await taqMinuteBars(wh.session, { symbols, start: days[0]!, end: days.at(-1)! });
      const vol = (tbl: typeof t, c: string) => (tbl.getChild(c)!.toArray() as ArrayLike<number | bigint>);
      const sum = (xs: ArrayLike<number | bigint>) => Array.from(xs).reduce<number>((a, x) => a + Number(x ?? 0), 0);
      expect(sum(vol(t, 'volume'))).toBe(sum(vol(bars, 'volume')));
      expect(t.schema.fields.map((f) => f.name)).toEqual(['date', 'symbol', 'open', 'high', 'low', 'close', 'adj_close', 'volume', 'ret']);
      expect((await p.getUniverse(days[0]!)).length).toBe(symbols.length);
    } finally {
      wh.close();
    }
  });
});

describe('wh taq (CLI)', () => {
  it('--help works on every taq subcommand', async () => {
    for (const c of [['taq'], ['taq', 'sync'], ['taq', 'bars'], ['taq', 'rv'], ['taq', 'spreads'], ['taq', 'ticks']]) {
      const r = await runWh([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: wh ${c.join(' ')}`);
    }
  });

  it('syncs with the WRDS settings of `wh sync`, then queries bars, rv, spreads and ticks', async () => {
    const c = db.config;
    const env = { WRDS_HOST: c.host, WRDS_PORT: String(c.port), WRDS_DATABASE: c.database, WRDS_USERNAME: c.user, WRDS_SSLMODE: 'disable', PGPASSWORD: c.password };
    const wdir = join(mkdtempSync(join(tmpdir(), 'wh-taq-cli-')), 'wh');
    initWarehouse(wdir, 'test');
    const day = days.at(-1)!;
    const dry = await runWh(['taq', 'sync', '--symbols', symbols.join(','), '--start', day, '--end', day, '--dry-run', '--json'], { warehouse: wdir, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json().status).toBe('planned');
    const zero = await runWh(['taq', 'sync', '--symbols', symbols.join(','), '--start', day, '--end', day, '--threads', '0', '--json'], { warehouse: wdir, env });
    expect(zero.code).toBe(1);
    expect(zero.errorJson().message).toMatch(/threads/);
    const r = await runWh(['taq', 'sync', '--symbols', symbols.join(','), '--start', day, '--end', day, '--tier', 'both', '--threads', '1', '--json'], { warehouse: wdir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().days.find((d: { day: string }) => d.day === day).status).toBe('written');
    const bars = await runWh(['taq', 'bars', '--symbols', symbols[0]!, '--start', day, '--end', day, '--format', 'json'], { warehouse: wdir });
    expect(bars.code, bars.stderr).toBe(0);
    expect(bars.json()).toHaveLength(390);
    for (const kind of ['rv', 'spreads', 'ticks']) {
      const q = await runWh(['taq', kind, '--symbols', symbols.join(','), '--start', day, '--end', day, '--format', 'csv'], { warehouse: wdir });
      expect(q.code, q.stderr).toBe(0);
      expect(q.stdout.split('\n')[0]).toContain('symbol');
    }
    const bad = await runWh(['taq', 'sync', '--start', day, '--end', day, '--json'], { warehouse: wdir, env });
    expect(bad.code).toBe(1);
    expect(bad.errorJson().message).toMatch(/--symbols/);
  });
});
