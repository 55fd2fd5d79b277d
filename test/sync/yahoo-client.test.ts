/**
 * The Yahoo v8 chart client against a local replay server: the recorded exchanges are served by
 * symbol and period, plus scripted 429s, 5xx, 404s, truncated and malformed bodies. The clock and
 * sleep are injected: no test waits for real time.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type WarehouseError } from '../../src/log/index.js';
import {
  RateLimiter,
  chartPeriod,
  createYahooClient,
  normalizeSymbol,
  redactUrl,
  retryAfterMs,
  yahooErrorKind,
  type YahooClientOptions,
} from '../../src/sync/yahoo/client.js';
import { notFoundBody, rangeOf, recording, startReplayServer, type ReplayServer } from './yahoo-replay.js';

let server: ReplayServer;
const aapl = recording('AAPL');
const aaplRange = rangeOf(aapl);

beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => server.close());
afterEach(() => {
  server.requests.length = 0;
  server.authorizations.length = 0;
  server.always('AAPL', undefined);
  server.override('AAPL', undefined);
});

/** A client on the replay server with a fake clock: `sleeps` lists every wait it asked for. */
function fakeClient(extra: Partial<YahooClientOptions> = {}) {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  const client = createYahooClient({
    baseUrl: server.baseUrl,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 0.5,
    ...extra,
  });
  return { client, sleeps };
}

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected a refusal, but the call succeeded'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

describe('replaying the recorded charts', () => {
  it('requests the chart URL shaped like the recording and returns the checked payload', async () => {
    const { client, sleeps } = fakeClient();
    const chart = await client.fetchChart({ symbol: 'aapl', ...aaplRange });
    expect(server.requests).toEqual([`/v8/finance/chart/AAPL?period1=${aapl.period1}&period2=${aapl.period2}&interval=1d&events=div,splits`]);
    expect(chart.symbol).toBe('AAPL');
    expect(chart.result.meta.exchangeTimezoneName).toBe('America/New_York');
    expect(chart.result.timestamp).toHaveLength(49);
    expect(chart.sha256).toBe(createHash('sha256').update(aapl.body).digest('hex'));
    expect(chart.url).toBe(`${server.baseUrl}/v8/finance/chart/AAPL?period1=1598832000&period2=1604707200&interval=1d&events=div,splits`);
    expect(sleeps).toEqual([]);
  });

  it('replays the NVDA recording (period 2021-02-01 .. 2022-01-30 inclusive)', async () => {
    const nvda = recording('NVDA');
    const { client } = fakeClient();
    const chart = await client.fetchChart({ symbol: 'NVDA', ...rangeOf(nvda) });
    expect(chart.result.timestamp).toHaveLength(252);
    expect(Object.keys(chart.result.events?.splits ?? {})).toEqual(['1626787800']);
  });

  it('never records credentials: user:password in the base URL travels as a header, not in the URL', async () => {
    const { client } = fakeClient({ baseUrl: server.baseUrl.replace('http://', 'http://user:secret@') });
    const chart = await client.fetchChart({ symbol: 'AAPL', ...aaplRange });
    expect(chart.url).not.toContain('secret');
    expect(chart.url).not.toContain('user');
    expect(client.baseUrl).toBe(`${server.baseUrl}/`);
    expect(server.authorizations).toEqual([`Basic ${Buffer.from('user:secret').toString('base64')}`]);
    expect(redactUrl('https://u:p@h.example/x?crumb=abc&period1=1')).toBe('https://h.example/x?period1=1');
  });
});

describe('retries, backoff and rate limits', () => {
  it('429 with Retry-After, then success: waits exactly what the header asks', async () => {
    server.enqueue('AAPL', { status: 429, headers: { 'retry-after': '3' }, body: 'Too Many Requests' });
    const { client, sleeps } = fakeClient();
    const chart = await client.fetchChart({ symbol: 'AAPL', ...aaplRange });
    expect(chart.result.timestamp).toHaveLength(49);
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toEqual([3000]);
  });

  it('429 without Retry-After, then success: jittered exponential backoff', async () => {
    server.enqueue('AAPL', { status: 429, body: '' }, { status: 429, body: '' });
    const { client, sleeps } = fakeClient({ retryBaseMs: 400, random: () => 0.25, burst: 10 });
    await client.fetchChart({ symbol: 'AAPL', ...aaplRange });
    expect(server.requests).toHaveLength(3);
    // 400 × 2^retry × (0.5 + 0.25)
    expect(sleeps).toEqual([300, 600]);
  });

  it('5xx, then success', async () => {
    server.enqueue('AAPL', { status: 503, body: 'unavailable' }, { status: 500, body: '' });
    const { client } = fakeClient();
    await client.fetchChart({ symbol: 'AAPL', ...aaplRange });
    expect(server.requests).toHaveLength(3);
  });

  it('a connection cut mid-body is retried', async () => {
    server.enqueue('AAPL', { status: 200, body: aapl.body, destroyAfter: 100 });
    const { client } = fakeClient();
    const chart = await client.fetchChart({ symbol: 'AAPL', ...aaplRange });
    expect(chart.result.timestamp).toHaveLength(49);
    expect(server.requests).toHaveLength(2);
  });

  it('429 forever: a rate_limited error after 1 + maxRetries attempts', async () => {
    server.always('AAPL', { status: 429, body: '' });
    const { client, sleeps } = fakeClient({ maxRetries: 3, burst: 10 });
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(yahooErrorKind(e)).toBe('rate_limited');
    expect(e.message).toMatch(/HTTP 429 after 4 attempt/);
    expect(e.suggestion).toMatch(/rerun/);
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('a Retry-After longer than the cap gives up at once instead of hanging', async () => {
    server.always('AAPL', { status: 429, headers: { 'retry-after': '3600' }, body: '' });
    const { client, sleeps } = fakeClient({ maxDelayMs: 60_000 });
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(yahooErrorKind(e)).toBe('rate_limited');
    expect(e.details['retryAfterMs']).toBe(3_600_000);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('5xx forever: unavailable', async () => {
    server.always('AAPL', { status: 502, body: '' });
    const { client } = fakeClient({ maxRetries: 1 });
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(yahooErrorKind(e)).toBe('unavailable');
  });

  it('the token bucket lets a burst through, then paces requests at the rate', async () => {
    let t = 0;
    const waits: number[] = [];
    const bucket = new RateLimiter(60, 2, () => t, async (ms) => {
      waits.push(ms);
      t += ms;
    });
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(waits).toEqual([1000, 1000, 1000]);
    t += 10_000; // idle: refills only up to the burst
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(waits).toEqual([1000, 1000, 1000, 1000]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('7', 0)).toBe(7000);
    expect(retryAfterMs(new Date(65_000).toUTCString(), 5_000)).toBe(60_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('refusals', () => {
  it('404: not_found, no retry', async () => {
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol: 'NOSUCH', ...aaplRange }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(yahooErrorKind(e)).toBe('not_found');
    expect(e.message).toContain('NOSUCH');
    expect(server.requests).toHaveLength(1);
  });

  it('HTTP 200 with chart.error "Not Found": not_found', async () => {
    server.always('AAPL', { status: 200, body: notFoundBody });
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(yahooErrorKind(e)).toBe('not_found');
  });

  it('a truncated body: bad_payload (VALIDATION_FAILED), not retried', async () => {
    server.always('AAPL', { status: 200, body: aapl.body.slice(0, 5000) });
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(yahooErrorKind(e)).toBe('bad_payload');
    expect(e.message).toMatch(/not valid JSON/);
    expect(server.requests).toHaveLength(1);
  });

  it('a payload missing `indicators`: bad_payload naming the field', async () => {
    const body = structuredClone(aapl.bodyJson) as unknown as { chart: { result: Record<string, unknown>[] } };
    delete body.chart.result[0]!['indicators'];
    server.override('AAPL', JSON.stringify(body));
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(yahooErrorKind(e)).toBe('bad_payload');
    expect(e.message).toContain('indicators');
  });

  it('a body over the size limit: bad_payload, read no further', async () => {
    const { client } = fakeClient({ maxBodyBytes: 1000 });
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(yahooErrorKind(e)).toBe('bad_payload');
    expect(e.message).toMatch(/exceeds the 1000-byte limit/);
  });

  it('quote arrays that do not line up with the timestamps: bad_payload', async () => {
    const body = structuredClone(aapl.bodyJson);
    body.chart.result[0]!.indicators.quote[0]!.close.pop();
    server.override('AAPL', JSON.stringify(body));
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol: 'AAPL', ...aaplRange }));
    expect(yahooErrorKind(e)).toBe('bad_payload');
    expect(e.message).toMatch(/close has 48 values for 49 timestamps/);
  });

  it.each([
    ["AAPL'; DROP TABLE yahoo_daily; --"],
    ['AAPL OR 1=1'],
    ['../../etc/passwd'],
    ['AAPL"'],
    [''],
    ['A'.repeat(16)],
  ])('symbol %j is refused before any request', async (symbol) => {
    const { client } = fakeClient();
    const e = await refusal(client.fetchChart({ symbol, ...aaplRange }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(yahooErrorKind(e)).toBe('invalid_symbol');
    expect(server.requests).toEqual([]);
  });

  it('symbols are upper-cased; index, class and FX symbols are accepted', () => {
    expect(normalizeSymbol(' brk-b ')).toBe('BRK-B');
    expect(normalizeSymbol('^gspc')).toBe('^GSPC');
    expect(normalizeSymbol('eurusd=x')).toBe('EURUSD=X');
    expect(normalizeSymbol('vod.l')).toBe('VOD.L');
  });

  it('a reversed or malformed date range is refused before any request', async () => {
    const { client } = fakeClient();
    const reversed = await refusal(client.fetchChart({ symbol: 'AAPL', start: '2020-12-31', end: '2020-01-01' }));
    expect(yahooErrorKind(reversed)).toBe('invalid_range');
    expect(reversed.message).toMatch(/reversed/);
    const bad = await refusal(client.fetchChart({ symbol: 'AAPL', start: '2020-02-30', end: '2020-03-01' }));
    expect(yahooErrorKind(bad)).toBe('invalid_range');
    expect(server.requests).toEqual([]);
    expect(chartPeriod('2020-08-31', '2020-11-06')).toEqual({ period1: 1598832000, period2: 1604707200 });
  });

  it('a base URL that is not http(s) is refused', () => {
    expect(() => createYahooClient({ baseUrl: 'file:///etc/passwd' })).toThrow(/http or https/);
  });
});
