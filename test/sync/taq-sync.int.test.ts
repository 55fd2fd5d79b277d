/**
 * `syncTaq` against a real PostgreSQL holding the generated WRDS sample's TAQ days: full,
 * rerun (no event), incremental, resume after a failure mid-run, tiers, validation → quarantine.
 * Figures are checked against counts PostgreSQL computes itself from the raw tables.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWrdsSample } from '../../src/dev/wrds-sample/index.js';
import { initWarehouse, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { openDuck } from '../../src/engine/index.js';
import { manifestAt, quarantineAt } from '../../src/projections/index.js';
import { runQuery } from '../../src/query/index.js';
import { connectWrds, Secret, syncTaq, type SqlSource, type TaqSyncOptions } from '../../src/sync/index.js';
import { pullSelect, RAW_COLUMNS, sessionWindow, type RawKind } from '../../src/sync/taq/index.js';
import { SourceUnavailableError, type EventLog } from '../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-database.js';

let db: TestDatabase;
let days: readonly string[];

beforeAll(async () => {
  db = await createTestDatabase('taq_sync');
  const r = await generateWrdsSample(db.session, { seed: 4, fromYear: 2021, toYear: 2023, taqDays: 3, taqSymbols: 6 });
  days = r.taqDays;
}, 300_000);
afterAll(() => db?.drop());

interface Env {
  dir: string;
  log: EventLog;
  source: SqlSource;
  sync: (extra?: Partial<TaqSyncOptions>) => ReturnType<typeof syncTaq>;
  close: () => Promise<void>;
}

async function setup(symbols: string[]): Promise<Env> {
  const dir = join(mkdtempSync(join(tmpdir(), 'wh-taq-')), 'wh');
  initWarehouse(dir, 'test');
  const log = openWarehouseLog(dir);
  const c = db.config;
  const source = await connectWrds({ settings: { host: c.host, port: c.port, database: c.database, user: c.user, sslmode: 'disable' }, password: new Secret(c.password), retryBaseMs: 10, maxRetries: 1 });
  return {
    dir,
    log,
    source,
    sync: (extra = {}) => syncTaq({ dir, log, source, symbols: { kind: 'list', symbols }, start: days[0]!, end: days.at(-1)!, whVersion: 'test', threads: 1, batchSymbols: 2, ...extra }),
    close: async () => {
      log.close();
      await source.close();
    },
  };
}

async function symbolsOf(day: string, n: number): Promise<string[]> {
  const t = `taqm_${day.slice(0, 4)}.mastm_${day.replace(/-/g, '')}`;
  const r = await db.session.query<{ s: string }>(`SELECT sym_root AS s FROM ${t} ORDER BY 1 LIMIT ${n}`);
  return r.rows.map((x) => x.s);
}

/** Clean trades per symbol, counted by PostgreSQL itself from ctm_ with DATA-RULES' filters. */
async function pgCleanTrades(day: string, symbols: string[], close: string): Promise<Record<string, { n: number; vol: number }>> {
  const t = `taqm_${day.slice(0, 4)}.ctm_${day.replace(/-/g, '')}`;
  const r = await db.session.query<{ s: string; n: string; vol: string }>(
    `SELECT sym_root AS s, count(*) AS n, sum(size) AS vol FROM ${t}
     WHERE sym_root = ANY($1) AND tr_corr = '00' AND price > 0 AND size > 0 AND time_m >= '09:30' AND time_m < $2::time
       AND coalesce(trim(tr_scond), '') IN ('', '@', 'E', '@E', 'F', 'FI', '@F', '@FI', 'I', '@I') GROUP BY 1`,
    [symbols, close],
  );
  return Object.fromEntries(r.rows.map((x) => [x.s, { n: Number(x.n), vol: Number(x.vol) }]));
}

describe('wh taq sync against a real PostgreSQL', () => {
  it('a full sync writes one partition per day per dataset, equal to PostgreSQL\'s own counts; a rerun writes no event', async () => {
    const symbols = await symbolsOf(days[0]!, 4);
    const env = await setup(symbols);
    try {
      const r = await env.sync();
      expect(r.status).toBe('synced');
      expect(r.days.filter((d) => d.status !== 'missing').map((d) => d.status)).toEqual(days.map(() => 'written'));
      for (const name of ['taq_minute_bars', 'taq_daily_rv', 'taq_spreads']) {
        expect(manifestAt(env.log, undefined, name).map((m) => m.partition)).toEqual([...days]);
      }
      expect(manifestAt(env.log, undefined, 'taq_ticks')).toHaveLength(0);
      for (const day of days) {
        const close = day === '2023-11-24' ? '13:00' : '16:00';
        const pg = await pgCleanTrades(day, symbols, close);
        const wh = await runQuery(env.dir, env.log, `SELECT symbol, count(*)::INT AS bars, sum(trades)::INT AS n, sum(volume)::BIGINT AS vol FROM taq_minute_bars WHERE date = DATE '${day}' GROUP BY 1 ORDER BY 1`);
        const minutes = close === '13:00' ? 210 : 390;
        for (const row of wh.rows as { symbol: string; bars: number; n: number; vol: number }[]) {
          expect(row.bars).toBe(minutes);
          expect({ n: row.n, vol: Number(row.vol) }).toEqual(pg[row.symbol] ?? { n: 0, vol: 0 });
        }
        expect(wh.rows.length).toBe(symbols.length);
        const rv = await runQuery(env.dir, env.log, `SELECT min(obs_5m) AS lo, max(obs_5m) AS hi FROM taq_daily_rv WHERE date = DATE '${day}'`);
        expect(rv.rows[0]).toEqual({ lo: minutes / 5, hi: minutes / 5 });
        const sp = await runQuery(env.dir, env.log, `SELECT count(*)::INT AS n FROM taq_spreads WHERE date = DATE '${day}' AND quoted_pct_tw > 0 AND quoted_pct_tw < 0.05 AND effective_pct >= 0`);
        expect(sp.rows[0]).toEqual({ n: symbols.length });
        // Only NBBO-carrying quotes travel; the quote counts are computed at the source. Count them here by hand.
        const cqm = `taqm_${day.slice(0, 4)}.cqm_${day.replace(/-/g, '')}`;
        const pgq = await db.session.query<{ s: string; n: string }>(
          `SELECT sym_root AS s, count(*) AS n FROM ${cqm} WHERE sym_root = ANY($1) AND time_m >= '09:30' AND time_m < $2::time
             AND trim(qu_cond) IN ('A', 'B', 'H', 'O', 'R', 'W') AND coalesce(qu_cancel, '') <> 'B'
             AND NOT (bid > 0 AND bidsiz > 0 AND ask > 0 AND asksiz > 0 AND (bid > ask OR ask - bid > 5)) GROUP BY 1 ORDER BY 1`,
          [symbols, close],
        );
        const whq = await runQuery(env.dir, env.log, `SELECT symbol AS s, quotes AS n FROM taq_spreads WHERE date = DATE '${day}' ORDER BY 1`);
        expect(whq.rows.map((x) => [x.s, Number(x.n)])).toEqual(pgq.rows.map((x) => [x.s, Number(x.n)]));
        // The sample's WRDS Intraday Indicators, computed row by row in TypeScript: the SQL agrees.
        const iid = await db.session.query<Record<string, number | string | null>>(
          `SELECT sym_root, quotedspread_percent_tw AS q, effectivespread_percent_ave AS e, total_vol_m AS v, total_n_trades_m AS n, oprc, cprc
             FROM taqmsec.wrds_iid_${day.slice(0, 4)} WHERE date = $1 AND sym_root = ANY($2) ORDER BY 1`, [day, symbols]);
        const mine = await runQuery(env.dir, env.log, `SELECT s.symbol, s.quoted_pct_tw AS q, s.effective_pct AS e, s.trades AS n,
            (SELECT sum(volume) FROM taq_minute_bars b WHERE b.symbol = s.symbol AND b.date = s.date)::DOUBLE AS v,
            (SELECT first(open ORDER BY minute) FILTER (WHERE open IS NOT NULL) FROM taq_minute_bars b WHERE b.symbol = s.symbol AND b.date = s.date) AS oprc,
            (SELECT last(close ORDER BY minute) FILTER (WHERE close IS NOT NULL) FROM taq_minute_bars b WHERE b.symbol = s.symbol AND b.date = s.date) AS cprc
          FROM taq_spreads s WHERE s.date = DATE '${day}' ORDER BY 1`);
        expect(iid.rows).toHaveLength(symbols.length);
        iid.rows.forEach((r, i) => {
          const m = mine.rows[i] as Record<string, number | string | null>;
          expect(m.symbol).toBe(r.sym_root);
          expect(m.q as number).toBeCloseTo(r.q as number, 12);
          expect(m.e as number).toBeCloseTo(r.e as number, 12);
          expect([Number(m.n), Number(m.v), m.oprc, m.cprc]).toEqual([Number(r.n), Number(r.v), r.oprc, r.cprc]);
        });
      }
      const written = env.log.read({ types: ['PartitionWritten'] });
      expect(written).toHaveLength(3 * days.length);
      for (const e of written) {
        if (e.type !== 'PartitionWritten') continue;
        expect(e.lease?.scope).toBe(`dataset:${e.data.dataset}`);
        expect(e.data.lineage).toMatchObject({ kind: 'sync', vintage: '2024-02-08' });
        expect(e.data.lineage.sql).toContain(`"ctm_${e.data.partition.replace(/-/g, '')}"`);
      }
      // The catalog file other tools open has a view per TAQ dataset.
      const cat = await openDuck({ path: warehousePaths(env.dir).catalog, readonly: true });
      try {
        const views = (await cat.all(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'taq_%' ORDER BY 1`)).rows.map((x) => x.table_name);
        expect(views).toEqual(['taq_daily_rv', 'taq_minute_bars', 'taq_spreads']);
        const [n] = (await cat.all(`SELECT count(*)::INT AS n FROM taq_minute_bars`)).rows;
        expect(n!.n).toBe(symbols.length * days.reduce((a, d) => a + (d === '2023-11-24' ? 210 : 390), 0));
      } finally {
        cat.close();
      }
      const head = env.log.head().seq;
      const again = await env.sync();
      expect(again.status).toBe('unchanged');
      expect(env.log.head().seq).toBe(head);
    } finally {
      await env.close();
    }
  });

  it('is incremental and resumes: a run that fails after its first day keeps it; the next run does only the rest', async () => {
    const symbols = await symbolsOf(days[0]!, 2);
    const env = await setup(symbols);
    try {
      await env.sync({ end: days[0]! });
      expect(manifestAt(env.log, undefined, 'taq_daily_rv').map((m) => m.partition)).toEqual([days[0]]);
      // Kill the connection after the first day of the next run is written.
      await expect(
        env.sync({
          onProgress: (p) => {
            if (p.status === 'written' && p.day === days[1]) throw new Error('killed');
          },
        }),
      ).rejects.toThrow(/killed/);
      expect(manifestAt(env.log, undefined, 'taq_daily_rv').map((m) => m.partition)).toEqual(days.slice(0, 2));
      const failed = env.log.read({ types: ['SyncFailed'] });
      expect(failed.length).toBe(3);
      const before = env.log.read({ types: ['PartitionWritten'] }).length;
      const r = await env.sync();
      expect(r.days.filter((d) => d.status !== 'missing').map((d) => d.status)).toEqual(['skipped', 'skipped', 'written']);
      expect(env.log.read({ types: ['PartitionWritten'] }).length - before).toBe(3);
    } finally {
      await env.close();
    }
  });

  it('pulls the next batch while one is cleaned; a failure on either side leaves no pulled file behind', async () => {
    const symbols = await symbolsOf(days[0]!, 4); // two batches of two
    const env = await setup(symbols);
    // Everything the sync stages lives in its own temporary directory (tmp/taq-<uuid>/), gone after the run.
    const pulled = () => {
      const d = warehousePaths(env.dir).tmp;
      return existsSync(d) ? readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((f) => f.startsWith('taq')) : [];
    };
    try {
      // Each batch pulls five tables; the source dies during the second batch's pull, which runs
      // while the first batch is cleaned.
      let calls = 0;
      const dying: SqlSource = {
        ...env.source,
        copyOut: async (sql) => {
          if (++calls === 7) throw new SourceUnavailableError('the source went away');
          return env.source.copyOut(sql);
        },
      };
      await expect(env.sync({ source: dying, end: days[0]! })).rejects.toThrow(/the source went away/);
      expect(calls).toBe(7);
      expect(pulled()).toEqual([]);
      // A malformed row fails the first batch's cleaning while the second is pulled ahead.
      let first = true;
      let asked = 0;
      const garbled: SqlSource = {
        ...env.source,
        copyOut: async (sql) => {
          asked++;
          if (first && sql.includes('ctm_')) {
            first = false;
            return Readable.from(['not,a,trade\n']);
          }
          return env.source.copyOut(sql);
        },
      };
      await expect(env.sync({ source: garbled, end: days[0]! })).rejects.toThrow(/not,a,trade|CSV|column/i);
      expect(asked).toBeGreaterThan(5); // the second batch was asked for before the first was cleaned
      expect(pulled()).toEqual([]);
      expect(manifestAt(env.log, undefined, 'taq_daily_rv')).toEqual([]);
      // Healthy again: the day is written, and nothing is left behind.
      const r = await env.sync({ end: days[0]! });
      expect(r.days.map((d) => d.status)).toEqual(['written']);
      expect(pulled()).toEqual([]);
    } finally {
      await env.close();
    }
  });

  it('tier samples writes cleaned ticks; --dry-run writes nothing', async () => {
    const symbols = await symbolsOf(days[0]!, 2);
    const env = await setup(symbols);
    try {
      const head = env.log.head().seq;
      const plan = await env.sync({ tier: 'both', dryRun: true, end: days[0]! });
      expect(plan.status).toBe('planned');
      expect(Object.keys(plan.days[0]!.datasets)).toEqual(['taq_minute_bars', 'taq_daily_rv', 'taq_spreads', 'taq_ticks']);
      expect(env.log.head().seq).toBe(head);
      await env.sync({ tier: 'samples', end: days[0]! });
      const close = days[0] === '2023-11-24' ? '13:00' : '16:00';
      const pg = await pgCleanTrades(days[0]!, symbols, close);
      const wh = await runQuery(env.dir, env.log, `SELECT symbol, count(*)::INT AS n, sum(size)::BIGINT AS vol FROM taq_ticks WHERE kind = 'trade' GROUP BY 1 ORDER BY 1`);
      for (const row of wh.rows as { symbol: string; n: number; vol: number }[]) expect({ n: row.n, vol: Number(row.vol) }).toEqual(pg[row.symbol]);
      expect(manifestAt(env.log, undefined, 'taq_minute_bars')).toHaveLength(0);
    } finally {
      await env.close();
    }
  });

  it('a symbol traded but missing from the master file fails validation: quarantined, nothing committed for that day', async () => {
    const day = days.at(-1)!;
    const symbols = await symbolsOf(day, 3);
    const mast = `taqm_${day.slice(0, 4)}.mastm_${day.replace(/-/g, '')}`;
    const saved = await db.session.query(`SELECT * FROM ${mast} WHERE sym_root = $1`, [symbols[1]]);
    await db.session.query(`DELETE FROM ${mast} WHERE sym_root = $1`, [symbols[1]]);
    const env = await setup(symbols);
    try {
      await expect(env.sync({ start: day, end: day })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      const q = quarantineAt(env.log, undefined);
      expect(q).toHaveLength(1);
      expect(q[0]).toMatchObject({ dataset: 'taq_minute_bars', partition: day, rule: 'symbol_not_in_master' });
      expect(env.log.read({ types: ['PartitionWritten'] })).toHaveLength(0);
      expect(env.log.read({ types: ['SyncFailed'] }).length).toBe(3);
    } finally {
      await env.close();
      const cols = Object.keys(saved.rows[0] as object);
      await db.session.query(`INSERT INTO ${mast} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((c) => (saved.rows[0] as Record<string, unknown>)[c]));
    }
  });

  it('--symbols sp500 resolves the members as of each day from crsp.dsp500list and the names history', async () => {
    const env = await setup([]);
    try {
      const r = await env.sync({ symbols: { kind: 'sp500' } });
      expect(r.status).toBe('synced');
      const spells = (await db.session.query<{ permno: number; start: Date; ending: Date }>('SELECT permno, start, ending FROM crsp.dsp500list')).rows;
      const names = (await db.session.query<{ permno: number; namedt: Date; nameendt: Date | null; ticker: string }>('SELECT permno, namedt, nameendt, ticker FROM crsp.dsenames')).rows;
      const iso = (d: Date | string | null) => (d === null ? '9999-12-31' : typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));
      let checked = 0;
      let listedTotal = 0;
      for (const day of days) {
        const members = new Set(spells.filter((x) => iso(x.start) <= day && day <= iso(x.ending)).map((x) => x.permno));
        const tickers = new Set(names.filter((n) => members.has(n.permno) && iso(n.namedt) <= day && day <= iso(n.nameendt)).map((n) => n.ticker));
        const listed = (await db.session.query<{ s: string }>(`SELECT sym_root AS s FROM taqm_${day.slice(0, 4)}.mastm_${day.replace(/-/g, '')}`)).rows.map((x) => x.s);
        const expected = listed.filter((x) => tickers.has(x)).sort();
        const got = await runQuery(env.dir, env.log, `SELECT DISTINCT symbol FROM taq_daily_rv WHERE date = DATE '${day}' ORDER BY 1`);
        expect(got.rows.map((x) => x.symbol)).toEqual(expected);
        listedTotal += listed.length;
        checked += expected.length;
      }
      expect(checked).toBeGreaterThan(0);
      expect(checked).toBeLessThan(listedTotal); // not every listed symbol is a member: the filter bites
    } finally {
      await env.close();
    }
  });

  it('the batch size does not change a single byte of any partition', async () => {
    const symbols = await symbolsOf(days[0]!, 5);
    const objects = async (batchSymbols: number) => {
      const env = await setup(symbols);
      try {
        await env.sync({ batchSymbols, tier: 'both', end: days[0]! });
        return manifestAt(env.log).map((m) => `${m.dataset}/${m.partition}:${m.object}`).sort();
      } finally {
        await env.close();
      }
    };
    const one = await objects(1);
    expect(one).toHaveLength(4);
    expect(await objects(100)).toEqual(one);
  });

  it('pulls exactly the symbols asked for: a root\'s other suffixes stay at the source', async () => {
    // BRK trades as BRK.A and BRK.B (and AAPL with an empty suffix); the batch asks for AAPL and BRK.B.
    const s = 'taqm_2031';
    const q = (sql: string) => db.session.query(sql);
    await q(`CREATE SCHEMA ${s}`);
    await q(`CREATE TABLE ${s}.ctm_20310106 (time_m time, time_m_nano smallint, ex text, sym_root text, sym_suffix text, tr_scond text, size int, price float8, tr_corr text, tr_seqnum bigint)`);
    await q(`CREATE TABLE ${s}.cqm_20310106 (time_m time, time_m_nano smallint, ex text, sym_root text, sym_suffix text, bid float8, bidsiz int, ask float8, asksiz int, qu_cond text, qu_seqnum bigint, natbbo_ind text, qu_cancel text, qu_source text)`);
    await q(`CREATE TABLE ${s}.complete_nbbo_20310106 (time_m time, time_m_nano smallint, sym_root text, sym_suffix text, qu_cond text, qu_seqnum bigint, best_bid float8, best_bidsizeshares int, best_ask float8, best_asksizeshares int)`);
    await q(`CREATE TABLE ${s}.mastm_20310106 (sym_root text, sym_suffix text)`);
    const who = [['AAPL', null], ['AAPL', ' '], ['BRK', 'A'], ['BRK', 'B'], ['MSFT', null]] as const;
    for (const [i, [root, suffix]] of who.entries()) {
      const sfx = suffix === null ? 'NULL' : `'${suffix}'`;
      await q(`INSERT INTO ${s}.ctm_20310106 VALUES ('10:00:00', 0, 'N', '${root}', ${sfx}, '@', 100, 10, '00', ${i})`);
      await q(`INSERT INTO ${s}.cqm_20310106 VALUES ('10:00:00', 0, 'N', '${root}', ${sfx}, 9.9, 1, 10.1, 1, 'R', ${i}, '1', NULL, 'C')`);
      await q(`INSERT INTO ${s}.complete_nbbo_20310106 VALUES ('10:00:00', 0, '${root}', ${sfx}, 'R', ${i}, 9.9, 100, 10.1, 100)`);
      await q(`INSERT INTO ${s}.mastm_20310106 VALUES ('${root}', ${sfx})`);
    }
    for (const kind of Object.keys(RAW_COLUMNS) as RawKind[]) {
      const sql = pullSelect(kind, '2031-01-06', ['AAPL', 'BRK.B'], new Set(RAW_COLUMNS[kind]), sessionWindow('16:00'));
      const got = (await db.session.query<{ sym_root: string; sym_suffix: string | null }>(`SELECT sym_root, sym_suffix FROM (${sql}) x ORDER BY 1, 2`)).rows;
      expect({ kind, got: got.map((r) => `${r.sym_root}/${r.sym_suffix ?? ''}`) }).toEqual({ kind, got: ['AAPL/ ', 'AAPL/', 'BRK/B'] });
    }
  });

  it('refuses to start without twice the estimated bytes free, before taking any lease', async () => {
    const symbols = await symbolsOf(days[0]!, 2);
    const env = await setup(symbols);
    try {
      const head = env.log.head().seq;
      // 3 days x 3 datasets x at least 1 MiB each, doubled: 18 MiB needed. A 100 MiB volume with 10 MiB free (90 %):
      const MiB = 2 ** 20;
      await expect(env.sync({ statfs: () => ({ bsize: 4096, blocks: (100 * MiB) / 4096, bavail: (10 * MiB) / 4096 }) })).rejects.toMatchObject({ code: 'DISK_FULL' });
      // A 1 GiB volume at 96 %: the blocked watermark.
      await expect(env.sync({ statfs: () => ({ bsize: 4096, blocks: (1024 * MiB) / 4096, bavail: (40 * MiB) / 4096 }) })).rejects.toMatchObject({ code: 'DISK_WATERMARK_BLOCKED' });
      expect(env.log.read({ types: ['LeaseAcquired', 'SyncStarted', 'PartitionWritten'] })).toHaveLength(0);
      expect(env.log.head().seq).toBe(head);
    } finally {
      await env.close();
    }
  });
});
