/**
 * `syncYahoo` end to end against a real warehouse in a temporary directory and the local replay
 * server: events recorded with lineage, reruns that change nothing record no PartitionWritten,
 * point-in-time reads of a re-synced symbol, bad input refused with the log head unchanged,
 * production gating, and the drift check against CRSP data ingested into the same warehouse.
 */
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { currentLeases, isWarehouseError, type EventLog, type StoredEvent, type WarehouseError } from '../../src/log/index.js';
import { partitionKeySchema } from '../../src/log/events.js';
import { initWarehouse, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { runQuery } from '../../src/query/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { yahooErrorKind } from '../../src/sync/yahoo/client.js';
import { symbolPartition, syncYahoo, type YahooSyncOptions } from '../../src/sync/yahoo/sync.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';
import { rangeOf, recording, startReplayServer, type ReplayServer } from './yahoo-replay.js';

const aapl = recording('AAPL');
const nvda = recording('NVDA');
const FETCHED = Date.parse('2025-02-20T11:47:42Z');

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  await server.close();
  cleanupTempDirs();
});

/** Log lines (parsed) of a pino logger, for the alert lines. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

function newWarehouse(): { dir: string; log: EventLog } {
  const dir = join(tempDir('wh-yahoo-'), 'wh');
  initWarehouse(dir, 'test');
  return { dir, log: openWarehouseLog(dir) };
}

/** A clock that starts at the recording's date and moves only when the client sleeps. */
function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = FETCHED;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

type Opts = Partial<YahooSyncOptions> & Pick<YahooSyncOptions, 'dir' | 'log'>;
const sync = (o: Opts) =>
  syncYahoo({
    symbols: ['AAPL'],
    ...rangeOf(aapl),
    baseUrl: server.baseUrl,
    whVersion: 'test',
    env: {},
    clientOptions: { ...fakeClock(), maxRetries: 2 },
    ...o,
  });

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected a refusal, but the call succeeded'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

const after = (log: EventLog, seq: number): StoredEvent[] => log.read({ fromSeq: seq + 1 });
const written = (events: StoredEvent[]) => events.flatMap((e) => (e.type === 'PartitionWritten' ? [e.data] : []));
const tmpLeft = (dir: string): string[] => readdirSync(warehousePaths(dir).tmp);

describe('a sync of the recorded AAPL chart', () => {
  let dir: string;
  let log: EventLog;
  beforeAll(() => ({ dir, log } = newWarehouse()));
  afterAll(() => log.close());

  it('stores raw bars and events through writePartition, with lineage', async () => {
    const seq = log.head().seq;
    const res = await sync({ dir, log });
    const [r] = res.symbols;
    expect(r).toMatchObject({ symbol: 'AAPL', partition: 'AAPL', bars: 49, events: 2, daily: 'written', eventsStatus: 'written', priceBasis: 'split_adjusted', currency: 'USD', vintage: '2025-02-20' });
    expect(r!.adjCheck!.maxRelError).toBeLessThan(1e-6);

    const events = after(log, seq);
    const types = events.map((e) => e.type).filter((t) => !t.startsWith('Lease'));
    expect(types).toEqual(['SyncStarted', 'SyncStarted', 'SchemaRegistered', 'PartitionWritten', 'SchemaRegistered', 'PartitionWritten', 'SyncCompleted', 'SyncCompleted']);
    const url = `${server.baseUrl}/v8/finance/chart/AAPL?period1=${aapl.period1}&period2=${aapl.period2}&interval=1d&events=div,splits`;
    const lineage = { kind: 'sync', source: url, sourceHash: createHash('sha256').update(aapl.body).digest('hex'), sql: null, vintage: '2025-02-20', whVersion: 'test' };
    expect(written(events).map((w) => [w.dataset, w.partition, w.rows, w.lineage])).toEqual([
      ['yahoo_events', 'AAPL', 2, lineage],
      ['yahoo_daily', 'AAPL', 49, lineage],
    ]);
    // Every write event is fenced by its dataset's lease.
    for (const e of events.filter((x) => x.type === 'PartitionWritten')) expect(e.lease?.scope).toBe(`dataset:${(e.data as { dataset: string }).dataset}`);
    expect(currentLeases(log)).toEqual([]);
    expect(tmpLeft(dir)).toEqual([]);
  });

  it('reads back on exchange-local dates, raw closes as Yahoo gave them', async () => {
    const q = await runQuery(dir, log, "SELECT CAST(min(date) AS VARCHAR) AS lo, CAST(max(date) AS VARCHAR) AS hi, count(*) AS n, any_value(price_basis) AS basis FROM yahoo_daily WHERE symbol = 'AAPL'");
    expect(q.rows).toEqual([{ lo: '2020-08-31', hi: '2020-11-06', n: 49, basis: 'split_adjusted' }]);
    const first = await runQuery(dir, log, "SELECT close, volume, adjclose FROM yahoo_daily WHERE date = DATE '2020-08-31'");
    expect(first.rows).toEqual([{ close: 129.0399932861328, volume: 225702700, adjclose: 125.82673645019531 }]);
    const ev = await runQuery(dir, log, 'SELECT CAST(date AS VARCHAR) AS date, kind, numerator, denominator, amount FROM yahoo_events ORDER BY date');
    expect(ev.rows).toEqual([
      { date: '2020-08-31', kind: 'split', numerator: 4, denominator: 1, amount: null },
      { date: '2020-11-06', kind: 'dividend', numerator: null, denominator: null, amount: 0.205 },
    ]);
  });

  it('a rerun with the same payload records no PartitionWritten', async () => {
    const seq = log.head().seq;
    const res = await sync({ dir, log });
    expect(res.symbols[0]).toMatchObject({ daily: 'unchanged', eventsStatus: 'unchanged' });
    const types = after(log, seq).map((e) => e.type);
    expect(types).not.toContain('PartitionWritten');
    expect(types.filter((t) => !t.startsWith('Lease'))).toEqual(['SyncStarted', 'SyncStarted', 'SyncCompleted', 'SyncCompleted']);
  });

  it('a window without bars leaves the partitions as they were', async () => {
    const seq = log.head().seq;
    // A payload whose bars all fall outside the requested window.
    server.enqueue('AAPL', { status: 200, body: nvda.body });
    const res = await sync({ dir, log });
    expect(res.symbols[0]).toMatchObject({ bars: 0, daily: 'skipped', eventsStatus: 'skipped' });
    expect(res.symbols[0]!.notes.join(' ')).toMatch(/answered for symbol NVDA/);
    expect(after(log, seq).map((e) => e.type)).not.toContain('PartitionWritten');
    expect((await runQuery(dir, log, 'SELECT count(*) AS n FROM yahoo_daily')).rows).toEqual([{ n: 49 }]);
  });

  it('a changed payload is a new version; the old one stays readable as of its seq', async () => {
    const before = log.head().seq;
    const body = structuredClone(aapl.bodyJson);
    body.chart.result[0]!.indicators.quote[0]!.close[0] = 130;
    server.override('AAPL', JSON.stringify(body));
    try {
      await sync({ dir, log });
    } finally {
      server.override('AAPL', undefined);
    }
    const w = written(after(log, before));
    expect(w.map((x) => `${x.dataset}/${x.partition}`)).toEqual(['yahoo_daily/AAPL']);
    const sql = "SELECT close FROM yahoo_daily WHERE date = DATE '2020-08-31'";
    expect((await runQuery(dir, log, sql)).rows).toEqual([{ close: 130 }]);
    expect((await runQuery(dir, log, sql, { asOf: String(before) })).rows).toEqual([{ close: 129.0399932861328 }]);
  });
});

describe('symbols that are not plain tickers', () => {
  it('map to safe, injective partition keys', () => {
    const cases: [string, string][] = [['AAPL', 'AAPL'], ['^GSPC', 'x_5EGSPC'], ['EURUSD=X', 'EURUSD_3DX'], ['BRK-B', 'BRK-B'], ['VOD.L', 'VOD.L'], ['-X', 'x-X']];
    for (const [symbol, key] of cases) {
      expect(symbolPartition(symbol)).toBe(key);
      expect(partitionKeySchema.safeParse(key).success).toBe(true);
    }
    expect(new Set(cases.map(([s]) => symbolPartition(s))).size).toBe(cases.length);
  });

  it('^GSPC is stored under x_5EGSPC with its symbol intact', async () => {
    const { dir, log } = newWarehouse();
    try {
      const body = structuredClone(aapl.bodyJson);
      body.chart.result[0]!.meta['symbol'] = '^GSPC';
      server.enqueue('^GSPC', { status: 200, body: JSON.stringify(body) });
      const res = await sync({ dir, log, symbols: ['^gspc'] });
      expect(res.symbols[0]).toMatchObject({ symbol: '^GSPC', partition: 'x_5EGSPC', daily: 'written' });
      expect(server.requests.at(-1)).toMatch(/^\/v8\/finance\/chart\/%5EGSPC\?/);
      const q = await runQuery(dir, log, "SELECT count(*) AS n FROM yahoo_daily WHERE symbol = '^GSPC'");
      expect(q.rows).toEqual([{ n: 49 }]);
    } finally {
      log.close();
    }
  });
});

describe('bad input: a clear error and the log head unchanged', () => {
  let dir: string;
  let log: EventLog;
  let head: number;
  beforeAll(async () => {
    ({ dir, log } = newWarehouse());
    await sync({ dir, log });
  });
  afterAll(() => log.close());
  beforeEach(() => {
    head = log.head().seq;
  });
  const unchanged = (): void => {
    expect(log.head().seq).toBe(head);
    expect(tmpLeft(dir)).toEqual([]);
  };

  it.each([
    ['an SQL injection attempt', { symbols: ["AAPL'); DROP TABLE yahoo_daily; --"] }, 'INVALID_ARGUMENT', 'invalid_symbol'],
    ['a reversed range', { start: '2020-12-31', end: '2020-01-01' }, 'INVALID_ARGUMENT', 'invalid_range'],
    ['an impossible date', { start: '2020-02-30', end: '2020-03-31' }, 'INVALID_ARGUMENT', 'invalid_range'],
    ['an unknown symbol (404), after a good one', { symbols: ['AAPL', 'NOSUCH'] }, 'INVALID_ARGUMENT', 'not_found'],
  ] as const)('%s', async (_what, o, code, kind) => {
    const before = server.requests.length;
    const e = await refusal(sync({ dir, log, ...o }));
    expect(e.code).toBe(code);
    expect(yahooErrorKind(e)).toBe(kind);
    expect(e.suggestion).toBeTruthy();
    if (kind === 'invalid_symbol' || kind === 'invalid_range') expect(server.requests.length).toBe(before);
    unchanged();
  });

  it('no symbol at all', async () => {
    const e = await refusal(sync({ dir, log, symbols: [] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    unchanged();
  });

  it('a truncated body', async () => {
    server.enqueue('AAPL', { status: 200, body: aapl.body.slice(0, aapl.body.length / 2) });
    const e = await refusal(sync({ dir, log }));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(yahooErrorKind(e)).toBe('bad_payload');
    unchanged();
  });

  it('a payload without indicators', async () => {
    const body = structuredClone(aapl.bodyJson) as unknown as { chart: { result: Record<string, unknown>[] } };
    delete body.chart.result[0]!['indicators'];
    server.enqueue('AAPL', { status: 200, body: JSON.stringify(body) });
    const e = await refusal(sync({ dir, log }));
    expect(yahooErrorKind(e)).toBe('bad_payload');
    expect(e.message).toContain('indicators');
    unchanged();
  });

  it('429 on every attempt', async () => {
    server.always('AAPL', { status: 429, headers: { 'retry-after': '1' }, body: '' });
    try {
      const e = await refusal(sync({ dir, log }));
      expect(yahooErrorKind(e)).toBe('rate_limited');
    } finally {
      server.always('AAPL', undefined);
    }
    unchanged();
  });

  it('production: refused unless allowProduction, naming the flag', async () => {
    const e = await refusal(sync({ dir, log, env: { WH_ENV: 'production' } }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/development only/);
    expect(e.suggestion).toMatch(/allowProduction: true/);
    expect(e.suggestion).toMatch(/--allow-production/);
    unchanged();
    const res = await sync({ dir, log, env: { WH_ENV: 'production' }, allowProduction: true });
    expect(res.symbols[0]!.daily).toBe('unchanged');
  });
});

describe('drift check against CRSP', () => {
  let dir: string;
  let log: EventLog;
  let files: string;

  /** crsp_dsenames: AAPL is permno 14593 since 1980; in the 1970s the ticker named another permno. */
  const names = ['permno,namedt,nameendt,ticker', '11111,1970-01-01,1979-12-31,AAPL', '14593,1980-12-12,,AAPL', '86580,1999-01-22,,NVDA'].join('\n') + '\n';

  /** crsp_dsf rows from a recording's closes: `price(close, date)` gives prc. */
  function dsf(permno: number, symbol: 'AAPL' | 'NVDA', price: (close: number, date: string) => number): string {
    const r = (symbol === 'AAPL' ? aapl : nvda).bodyJson.chart.result[0]!;
    const lines = r.timestamp.map((t, i) => {
      const date = new Date(t * 1000).toISOString().slice(0, 10);
      const p = price(r.indicators.quote[0]!.close[i]!, date);
      return `${permno},${date},${i % 5 === 0 ? -p : p}`; // CRSP marks bid/ask midpoints negative
    });
    return ['permno,date,prc', ...lines].join('\n') + '\n';
  }

  async function ingestCrsp(partition: string, content: string): Promise<void> {
    const f = join(files, `dsf-${partition}.csv`);
    writeFileSync(f, content);
    await ingestFile({ dir, log, dataset: 'crsp_dsf', partition, file: f, key: ['permno', 'date'], whVersion: 'test' });
  }

  beforeAll(async () => {
    ({ dir, log } = newWarehouse());
    files = tempDir('wh-yahoo-crsp-');
    writeFileSync(join(files, 'names.csv'), names);
    await ingestFile({ dir, log, dataset: 'crsp_dsenames', partition: 'all', file: join(files, 'names.csv'), key: ['permno', 'namedt'], whVersion: 'test' });
  });
  afterAll(() => log.close());

  it('no warehouse CRSP data: no drift report', async () => {
    const { dir: d2, log: l2 } = newWarehouse();
    try {
      expect((await sync({ dir: d2, log: l2 })).symbols[0]!.drift).toBeNull();
    } finally {
      l2.close();
    }
  });

  it('CRSP agrees with Yahoo: a report, no alert; the ticker maps to the permno it named on each date', async () => {
    await ingestCrsp('aapl', dsf(14593, 'AAPL', (c) => Math.round(c * 100) / 100));
    // Prices of the permno that was "AAPL" in the 1970s, on the same dates: never compared.
    await ingestCrsp('old', dsf(11111, 'AAPL', (c) => c * 3));
    const { logger, lines } = capture();
    const res = await sync({ dir, log, logger });
    expect(res.symbols[0]!.drift).toMatchObject({ symbol: 'AAPL', permnos: [14593], matched: 49, basisRatio: 1, alerted: false });
    expect(res.symbols[0]!.drift!.medianAbsRelDiff).toBeLessThan(1e-4);
    expect(lines.filter((l) => l['alert'] === 'yahoo_crsp_drift')).toEqual([]);
  });

  it('CRSP 5 % away: a yahoo_crsp_drift warning line', async () => {
    await ingestCrsp('aapl', dsf(14593, 'AAPL', (c) => c * 1.05));
    const { logger, lines } = capture();
    const res = await sync({ dir, log, logger });
    expect(res.symbols[0]!.drift).toMatchObject({ permnos: [14593], matched: 49, alerted: true });
    expect(res.symbols[0]!.drift!.medianAbsRelDiff).toBeCloseTo(0.05 / 1.05, 6);
    const alert = lines.find((l) => l['alert'] === 'yahoo_crsp_drift');
    expect(alert).toMatchObject({ level: 40, symbol: 'AAPL', matched: 49, permnos: [14593] });
  });

  it('NVDA as traded in CRSP: the in-window 4:1 split is undone, the later 10:1 is reported as a basis ratio, not drift', async () => {
    // As traded: ×40 before the 2021-07-20 split (4 × the 2024 10:1), ×10 after.
    await ingestCrsp('nvda', dsf(86580, 'NVDA', (c, date) => c * (date < '2021-07-20' ? 40 : 10)));
    const { logger, lines } = capture();
    const res = await sync({ dir, log, logger, symbols: ['NVDA'], ...rangeOf(nvda) });
    const r = res.symbols[0]!;
    expect(r.drift).toMatchObject({ permnos: [86580], matched: 252, basisRatio: 10, alerted: false });
    expect(r.drift!.medianAbsRelDiff).toBeLessThan(1e-6);
    // The recording left NVDA's dividends out: the local adjustment cannot match adjclose exactly, and says so.
    expect(r.adjCheck!.maxRelError).toBeGreaterThan(1e-4);
    expect(lines.some((l) => l['alert'] === 'yahoo_adjclose_mismatch' && l['symbol'] === 'NVDA')).toBe(true);
    expect(lines.some((l) => l['alert'] === 'yahoo_crsp_drift')).toBe(false);
  });
});
