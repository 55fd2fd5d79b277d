/**
 * The unified fetcher (seed T4.2): protocol compliance of the CRSP and Yahoo providers over a real
 * warehouse, the registry, priority and per-symbol fallback with the reason each provider was
 * skipped, production gating (CRSP before Yahoo; Yahoo refused unless allowed), usage metrics as
 * pino lines, and bad input.
 */
import { Writable } from 'node:stream';
import { DateDay, Float64, Utf8, makeTable, vectorFromArray, type Table } from 'apache-arrow';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError } from '../../src/log/index.js';
import { openWarehouse, type Warehouse } from '../../src/query/index.js';
import {
  createCrspProvider,
  createFetcher,
  createProviderRegistry,
  createYahooProvider,
  yahooPrices,
  unifiedPriceColumns,
  fetchedPriceColumns,
  type DataProvider,
} from '../../src/providers/index.js';
import { P, buildCrspFixture, ingestCsv, plain, writeCsv, type CrspFixture } from '../support/crsp-fixture.js';
import { cleanupTempDirs } from '../support/wh-cli.js';

let fx: CrspFixture;
let wh: Warehouse;

beforeAll(async () => {
  fx = await buildCrspFixture();
  // Yahoo bars as `wh yahoo sync` stores them (adjclose, not adj_close); NEG is in both sources.
  const rows = [
    ['2020-01-02', 'AAPL', 74.06, 75.15, 73.8, 75.09, 73.99, 135480400],
    ['2020-01-03', 'AAPL', 74.29, 75.14, 74.13, 74.36, 73.27, 146322800],
    ['2020-01-06', 'AAPL', 73.45, 74.99, 73.19, 74.95, 73.85, 118387200],
    ['2020-01-02', 'NEG', 9.0, 9.5, 8.5, 9.25, 9.25, 1000],
  ];
  const f = writeCsv(fx.files, 'yahoo.csv', ['date', 'symbol', 'open', 'high', 'low', 'close', 'adjclose', 'volume'], rows);
  await ingestCsv(fx.dir, fx.log, 'yahoo_daily', 'all', f, ['symbol', 'date']);
  // A cash dividend of 0.77 going ex on 2020-01-06 (as `wh yahoo sync` stores events).
  const ev = writeCsv(fx.files, 'yahoo-events.csv', ['symbol', 'date', 'kind', 'numerator', 'denominator', 'amount'], [['AAPL', '2020-01-06', 'dividend', '', '', 0.77]]);
  await ingestCsv(fx.dir, fx.log, 'yahoo_events', 'all', ev, ['symbol', 'date', 'kind']);
  wh = await openWarehouse(fx.dir);
});
afterAll(() => {
  wh?.close();
  fx?.close();
  cleanupTempDirs();
});

const registry = () => createProviderRegistry([createCrspProvider(wh.session), createYahooProvider(wh.session)]);

/** A unified table of `symbols`, one row each on 2020-01-02. */
function unified(symbols: readonly string[]): Table {
  const f = (v: number) => vectorFromArray(symbols.map(() => v), new Float64());
  return makeTable({
    date: vectorFromArray(symbols.map(() => new Date('2020-01-02T00:00:00Z')), new DateDay()), symbol: vectorFromArray([...symbols], new Utf8()),
    open: f(1), high: f(1), low: f(1), close: f(1), adj_close: f(1), volume: f(1), ret: f(0),
  } as never) as unknown as Table;
}

function stub(name: string, has: readonly string[], o: { productionSafe?: boolean; configured?: boolean; fails?: boolean } = {}): DataProvider {
  return {
    name,
    productionSafe: o.productionSafe ?? true,
    configured: async () => (o.configured === false ? { ok: false, detail: `${name} has no credentials` } : { ok: true }),
    getDailyPrices: async (symbols) => {
      if (o.fails === true) throw new Error(`${name} is down`);
      return unified(symbols.filter((s) => has.includes(s)));
    },
    getUniverse: async () => [...has],
  };
}

describe('identity: every row names its security and provider; a reused ticker is split, never spliced', () => {
  it('OLD (permno 10006 until its delisting, then 10007) comes back as two series with their permnos', async () => {
    const f = createFetcher({ registry: registry() });
    const r = await f.getDailyPrices(['OLD'], '2020-01-08', '2020-02-05');
    expect(r.table.schema.fields.map((x) => x.name)).toEqual([...fetchedPriceColumns]);
    const rows = plain(r.table);
    // Expected by hand from the fixture: OLD1 trades to 2020-01-10 and delists 2020-01-13; OLD2 trades from 2020-02-03.
    expect(rows.map((x) => [x['date'], x['series'], x['permno'], x['provider']])).toEqual([
      ['2020-01-08', `OLD@${P.OLD1}`, P.OLD1, 'crsp'], ['2020-01-09', `OLD@${P.OLD1}`, P.OLD1, 'crsp'], ['2020-01-10', `OLD@${P.OLD1}`, P.OLD1, 'crsp'],
      ['2020-01-13', `OLD@${P.OLD1}`, P.OLD1, 'crsp'],
      ['2020-02-03', `OLD@${P.OLD2}`, P.OLD2, 'crsp'], ['2020-02-04', `OLD@${P.OLD2}`, P.OLD2, 'crsp'], ['2020-02-05', `OLD@${P.OLD2}`, P.OLD2, 'crsp'],
    ]);
    expect(r.splits).toEqual([{ symbol: 'OLD', provider: 'crsp', series: [
      { series: `OLD@${P.OLD1}`, permno: P.OLD1, first: '2020-01-08', last: '2020-01-13' },
      { series: `OLD@${P.OLD2}`, permno: P.OLD2, first: '2020-02-03', last: '2020-02-05' },
    ] }]);
  });

  it('a symbol that names one security keeps the plain symbol as its series; Yahoo rows carry no permno', async () => {
    const r = await createFetcher({ registry: registry() }).getDailyPrices(['NEG', 'AAPL'], '2020-01-02', '2020-01-03');
    const rows = plain(r.table);
    expect(new Set(rows.map((x) => `${x['series']}|${x['provider']}|${x['permno']}`))).toEqual(new Set([`NEG|crsp|${P.NEG}`, 'AAPL|yahoo|null']));
    expect(r.splits).toEqual([]);
  });
});

describe('protocol compliance', () => {
  it.each([['crsp', 'NEG'], ['yahoo', 'AAPL']])('%s provider returns the unified columns and types', async (name, symbol) => {
    const p = registry().get(name)!;
    expect(await p.configured()).toEqual({ ok: true });
    const t = await p.getDailyPrices([symbol], '2020-01-02', '2020-01-06');
    expect(t.schema.fields.map((f) => f.name)).toEqual([...unifiedPriceColumns]);
    expect(t.schema.fields.map((f) => String(f.type))).toEqual(['Date32<DAY>', 'Utf8', 'Int32', 'Utf8', ...Array(7).fill('Float64')]);
    expect(plain(t).map((r) => r['symbol'])).toEqual([symbol, symbol, symbol].slice(0, t.numRows));
    expect(t.numRows).toBeGreaterThan(0);
  });

  it('crsp: close is |prc|, ret the total return, adj_close in the terms of the end date (no later split leaks in)', async () => {
    const crsp = createCrspProvider(wh.session);
    const neg = plain(await crsp.getDailyPrices(['NEG'], '2020-01-03', '2020-01-03'));
    expect(neg[0]).toMatchObject({ close: 10.5 });
    const dla = plain(await crsp.getDailyPrices(['DLA'], '2020-01-15', '2020-01-15'));
    expect(dla[0]!['ret']).toBeCloseTo(1.02 * 1.1 - 1, 12);
    const beforeSplit = plain(await crsp.getDailyPrices(['SPL'], '2020-01-08', '2020-01-09'));
    expect(beforeSplit.every((r) => r['adj_close'] === r['close'])).toBe(true);
    const afterSplit = plain(await crsp.getDailyPrices(['SPL'], '2020-01-08', '2020-01-10'));
    expect(afterSplit[0]!['adj_close']).toBeCloseTo((afterSplit[0]!['close'] as number) / 2, 9);
  });

  it('crsp: a numeric symbol is a permno; symbols CRSP cannot carry are no data, not errors', async () => {
    const t = plain(await createCrspProvider(wh.session).getDailyPrices([String(P.NEG), '^GSPC', 'EURUSD=X'], '2020-01-02', '2020-01-02'));
    expect(t.map((r) => r['symbol'])).toEqual([String(P.NEG)]);
  });

  it('crsp universe: tickers of the survivorship-free universe on the date', async () => {
    expect(await createCrspProvider(wh.session).getUniverse('2020-02-03')).toEqual(['IPO', 'NEG', 'OLD', 'SHRX', 'SPL']);
  });

  it('yahoo: adj_close back-adjusted locally in terms of the end date (as CRSP and `wh yahoo prices --adjusted`), ret from consecutive adj_close, no universe', async () => {
    const t = plain(await createYahooProvider(wh.session).getDailyPrices(['AAPL'], '2020-01-03', '2020-01-06'));
    expect(t.map((r) => r['date'])).toEqual(['2020-01-03', '2020-01-06']);
    // Dividend factor before 2020-01-06: 1 - 0.77 / 74.36 (the close of the last session before the ex-date).
    expect(t[0]!['adj_close']).toBeCloseTo(74.36 - 0.77, 10);
    expect(t[1]!['adj_close']).toBe(74.95); // the end date keeps its stored price
    expect(t[0]!['ret']).toBeCloseTo(74.36 / 75.09 - 1, 12); // from the bar before the window; the factor cancels
    expect(t[1]!['ret']).toBeCloseTo(74.95 / (74.36 - 0.77) - 1, 12);
    // The same numbers as the Yahoo price query with --adjusted (whose last stored bar is the end here).
    const local = await yahooPrices(wh.session, { symbols: ['AAPL'], adjusted: true, start: '2020-01-03' });
    expect(local.map((r) => r['adj_close'])).toEqual(t.map((r) => r['adj_close']));
    // An earlier end restates the series in that day's terms: the dividend is after it, so adj_close = close.
    const early = plain(await createYahooProvider(wh.session).getDailyPrices(['AAPL'], '2020-01-02', '2020-01-03'));
    expect(early.map((r) => r['adj_close'])).toEqual([75.09, 74.36]);
    // A one-day fetch (what an incremental ETL asks for) reads only the window from the bar before it:
    // the same adj_close and ret as the longer fetch gave that day.
    const one = plain(await createYahooProvider(wh.session).getDailyPrices(['AAPL'], '2020-01-06', '2020-01-06'));
    expect(one.map((r) => [r['date'], r['adj_close']])).toEqual([['2020-01-06', 74.95]]);
    expect(one[0]!['ret']).toBe(t[1]!['ret']);
    expect(await createYahooProvider(wh.session).getUniverse('2024-01-02')).toEqual([]);
  });
});

describe('registry, priority and fallback', () => {
  it('the registry returns providers by name', () => {
    const r = createProviderRegistry([stub('a', []), stub('b', [])]);
    expect(r.names()).toEqual(['a', 'b']);
    expect(r.get('b')?.name).toBe('b');
    expect(r.get('c')).toBeUndefined();
  });

  it('falls back per symbol and records who served it and why earlier providers were skipped', async () => {
    const r = await createFetcher({ registry: registry() }).getDailyPrices(['NEG', 'AAPL'], '2020-01-02', '2020-01-03');
    expect(r.servedBy).toEqual({ NEG: 'crsp', AAPL: 'yahoo' });
    expect(r.attempts.map((a) => [a.provider, a.outcome, a.reason, a.symbols])).toEqual([
      ['crsp', 'served', undefined, ['NEG']],
      ['crsp', 'skipped', 'no_data', ['AAPL']],
      ['yahoo', 'served', undefined, ['AAPL']],
    ]);
    expect(plain(r.table).map((x) => `${x['symbol']}@${x['date']}`)).toEqual(['NEG@2020-01-02', 'NEG@2020-01-03', 'AAPL@2020-01-02', 'AAPL@2020-01-03']);
  });

  it('priority comes from configuration', async () => {
    const r = await createFetcher({ registry: registry(), priority: ['yahoo', 'crsp'] }).getDailyPrices(['NEG'], '2020-01-02', '2020-01-02');
    expect(r.servedBy).toEqual({ NEG: 'yahoo' });
    expect(plain(r.table)[0]!['close']).toBe(9.25);
  });

  it('not configured (unregistered, or its dataset absent) and errors fall through to the next provider', async () => {
    const reg = createProviderRegistry([stub('down', ['X'], { fails: true }), stub('nocreds', ['X'], { configured: false }), stub('backup', ['X'])]);
    const r = await createFetcher({ registry: reg, priority: ['missing', 'down', 'nocreds', 'backup'] }).getDailyPrices(['X'], '2020-01-02', '2020-01-02');
    expect(r.servedBy).toEqual({ X: 'backup' });
    expect(r.attempts.map((a) => [a.provider, a.reason ?? a.outcome])).toEqual([['missing', 'not_configured'], ['down', 'error'], ['nocreds', 'not_configured'], ['backup', 'served']]);
    const early = await openWarehouse(fx.dir, { asOf: String(fx.seq.restated) }); // before yahoo_daily was ingested
    try {
      const reg2 = createProviderRegistry([createCrspProvider(early.session), createYahooProvider(early.session)]);
      const e = await createFetcher({ registry: reg2 }).getDailyPrices(['AAPL'], '2020-01-02', '2020-01-03').catch((x: unknown) => x);
      expect(isWarehouseError(e) && e.code).toBe('INVALID_ARGUMENT');
      expect((e as { suggestion: string }).suggestion).toMatch(/yahoo: not_configured \(yahoo_daily is not in the warehouse/);
    } finally {
      early.close();
    }
  });

  it('the CRSP provider is not configured when its files are not in the warehouse', async () => {
    const early = await openWarehouse(fx.dir, { asOf: '1' });
    try {
      const c = await createCrspProvider(early.session).configured();
      expect(c.ok).toBe(false);
    } finally {
      early.close();
    }
  });

  it('onMissing report returns null for a symbol nobody has', async () => {
    const r = await createFetcher({ registry: registry(), onMissing: 'report' }).getDailyPrices(['NEG', 'ZZZZ'], '2020-01-02', '2020-01-02');
    expect(r.servedBy).toEqual({ NEG: 'crsp', ZZZZ: null });
  });

  it('getUniverse falls back too', async () => {
    const reg = createProviderRegistry([stub('empty', []), stub('full', ['A', 'B'])]);
    const u = await createFetcher({ registry: reg, priority: ['empty', 'full'] }).getUniverse('2020-01-02');
    expect(u).toMatchObject({ symbols: ['A', 'B'], provider: 'full' });
    expect(u.attempts.map((a) => a.reason ?? a.outcome)).toEqual(['no_data', 'served']);
  });
});

describe('production gating', () => {
  it('CRSP before Yahoo in production, whatever the configured order', () => {
    expect(createFetcher({ registry: registry(), priority: ['yahoo', 'crsp'], env: 'production' }).order()).toEqual(['crsp', 'yahoo']);
    expect(createFetcher({ registry: registry(), priority: ['yahoo', 'crsp'], env: 'development' }).order()).toEqual(['yahoo', 'crsp']);
  });

  it('Yahoo is gated in production unless allowed', async () => {
    const e = await createFetcher({ registry: registry(), env: 'production' }).getDailyPrices(['AAPL'], '2020-01-02', '2020-01-02').catch((x: unknown) => x);
    expect(isWarehouseError(e) && e.code).toBe('INVALID_ARGUMENT');
    expect((e as { details: { attempts: { provider: string; reason?: string }[] } }).details.attempts.map((a) => [a.provider, a.reason])).toEqual([['crsp', 'no_data'], ['yahoo', 'gated']]);
    const allowed = await createFetcher({ registry: registry(), env: 'production', allowDevelopmentInProduction: true }).getDailyPrices(['AAPL', 'NEG'], '2020-01-02', '2020-01-02');
    expect(allowed.servedBy).toEqual({ AAPL: 'yahoo', NEG: 'crsp' });
  });
});

describe('usage metrics', () => {
  it('each provider turn is a pino line', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), cb()) });
    const logger = pino({ level: 'info' }, stream);
    await createFetcher({ registry: registry(), env: 'production', onMissing: 'report', logger }).getDailyPrices(['NEG', 'AAPL'], '2020-01-02', '2020-01-02');
    await new Promise((r) => setImmediate(r));
    const usage = lines.filter((l) => l['msg'] === 'provider usage').map((l) => [l['provider'], l['outcome'], l['reason'] ?? null, l['symbols']]);
    expect(usage).toEqual([['crsp', 'served', null, 1], ['crsp', 'skipped', 'no_data', 1], ['yahoo', 'skipped', 'gated', 1]]);
    expect(lines.some((l) => l['msg'] === 'fetch done' && l['rows'] === 1)).toBe(true);
  });
});

describe('bad input', () => {
  it.each([
    ['a reversed range', ['NEG'], '2020-02-01', '2020-01-01', /reversed/],
    ['no symbols', [], '2020-01-01', '2020-02-01', /symbols/],
    ['SQL injection in a symbol', ["NEG'; DROP TABLE crsp_dsf; --"], '2020-01-01', '2020-02-01', /not a symbol/],
    ['a symbol nobody has', ['ZZZZ'], '2020-01-02', '2020-01-03', /no provider had data for ZZZZ/],
  ])('%s is refused', async (_what, symbols, start, end, message) => {
    const head = fx.log.head().seq;
    const e = await createFetcher({ registry: registry() }).getDailyPrices(symbols, start, end).catch((x: unknown) => x);
    expect(isWarehouseError(e) && e.code).toBe('INVALID_ARGUMENT');
    expect((e as Error).message).toMatch(message);
    expect(fx.log.head().seq).toBe(head);
  });
});
