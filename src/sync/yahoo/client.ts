/**
 * A client for Yahoo Finance's unofficial v8 chart API (development source only): one request per
 * symbol and date range, `GET <base>/v8/finance/chart/<SYMBOL>?period1=&period2=&interval=1d&events=div,splits`,
 * through a token-bucket rate limit, retrying 5xx, 429 and network failures with jittered
 * exponential backoff (a `Retry-After` header is honoured). The body is checked against a zod
 * schema of the chart envelope before anyone sees it. Errors are WarehouseErrors whose
 * `details.kind` says what went wrong:
 *
 * | kind | code | when |
 * |---|---|---|
 * | `invalid_symbol`, `invalid_range` | INVALID_ARGUMENT | refused before any request |
 * | `not_found` | INVALID_ARGUMENT | HTTP 404, or `chart.error.code` "Not Found" |
 * | `rate_limited` | SOURCE_UNAVAILABLE | 429 after every retry, or a Retry-After beyond the cap |
 * | `unavailable` | SOURCE_UNAVAILABLE | 5xx or network failure after every retry |
 * | `http_error` | SOURCE_UNAVAILABLE | another 4xx, or another `chart.error` |
 * | `bad_payload` | VALIDATION_FAILED | truncated JSON, missing or mistyped fields |
 * | `production_refused` | INVALID_ARGUMENT | (sync.ts) WH_ENV=production without allowProduction |
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SourceUnavailableError, ValidationError, WarehouseError } from '../../log/index.js';
import { chartProblems } from './parse.js';
import { chartEnvelopeSchema, chartResultSchema, type ChartResult } from './chart-schema.js';
import { TokenBucket } from '../rate-limit.js';

export { chartEnvelopeSchema, chartResultSchema, type ChartResult };

/** The real endpoint. Point `baseUrl` at a replay server in tests. */
export const DEFAULT_YAHOO_BASE_URL = 'https://query2.finance.yahoo.com';

/** What went wrong, in `error.details.kind`. */
export type YahooErrorKind = 'invalid_symbol' | 'invalid_range' | 'not_found' | 'rate_limited' | 'unavailable' | 'http_error' | 'bad_payload' | 'production_refused';

/** The kind of a Yahoo client error, or undefined for any other error. */
export function yahooErrorKind(e: unknown): YahooErrorKind | undefined {
  if (!(e instanceof WarehouseError)) return undefined;
  const kind = e.details['kind'];
  return typeof kind === 'string' && e.details['source'] === 'yahoo' ? (kind as YahooErrorKind) : undefined;
}

const SYMBOL = /^[A-Z0-9.^=-]{1,15}$/;

/**
 * Normalize a ticker (trim, upper-case) and refuse anything outside `[A-Z0-9.^=-]{1,15}`, so no
 * quote, space, slash or SQL ever reaches a URL, a partition key or a query.
 * @throws WarehouseError INVALID_ARGUMENT (`details.kind` = 'invalid_symbol').
 */
export function normalizeSymbol(raw: string): string {
  const s = raw.trim().toUpperCase();
  if (!SYMBOL.test(s)) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${raw.slice(0, 40)}" is not a ticker symbol`, {
      suggestion: 'symbols are 1-15 characters of A-Z, 0-9 and . ^ = - (e.g. AAPL, BRK-B, ^GSPC, EURUSD=X)',
      details: { source: 'yahoo', kind: 'invalid_symbol' },
    });
  }
  return s;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** Epoch milliseconds of 00:00 UTC of a real calendar day, or NaN. */
function dayStartMs(ymd: string): number {
  if (!DAY.test(ymd)) return Number.NaN;
  const ms = Date.parse(`${ymd}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === ymd ? ms : Number.NaN;
}

/**
 * The request window for the inclusive day range [start, end]: `period1` is 00:00 UTC of `start`,
 * `period2` 00:00 UTC of the day after `end` (the convention of the recorded requests).
 * @throws WarehouseError INVALID_ARGUMENT (`details.kind` = 'invalid_range') for a malformed or reversed range.
 */
export function chartPeriod(start: string, end: string): { period1: number; period2: number } {
  const a = dayStartMs(start);
  const b = dayStartMs(end);
  const bad = (message: string): WarehouseError =>
    new WarehouseError('INVALID_ARGUMENT', message, {
      suggestion: 'give --start and --end as YYYY-MM-DD with start <= end, e.g. --start 2020-01-01 --end 2020-12-31',
      details: { source: 'yahoo', kind: 'invalid_range', start, end },
    });
  if (Number.isNaN(a)) throw bad(`start "${start.slice(0, 40)}" is not a date (YYYY-MM-DD)`);
  if (Number.isNaN(b)) throw bad(`end "${end.slice(0, 40)}" is not a date (YYYY-MM-DD)`);
  if (a > b) throw bad(`the date range is reversed: start ${start} is after end ${end}`);
  return { period1: a / 1000, period2: (b + DAY_MS) / 1000 };
}


/** One fetched chart: the checked payload plus what lineage records. */
export interface ChartFetch {
  readonly symbol: string;
  /** The request URL, without credentials: what lineage records as `source`. */
  readonly url: string;
  /** SHA-256 (hex) of the response body bytes. */
  readonly sha256: string;
  readonly bytes: number;
  /** When the response arrived (ISO 8601, from the injected clock). */
  readonly fetchedAt: string;
  readonly result: ChartResult;
}

export interface ChartRequest {
  readonly symbol: string;
  /** First day, YYYY-MM-DD (inclusive). */
  readonly start: string;
  /** Last day, YYYY-MM-DD (inclusive). */
  readonly end: string;
}

export interface YahooClientOptions {
  /** Default `https://query2.finance.yahoo.com`; e.g. `http://127.0.0.1:4567` for a replay server. */
  readonly baseUrl?: string;
  /** Sustained request rate (default 60 a minute). */
  readonly requestsPerMinute?: number;
  /** Requests allowed back to back before the rate applies (default 2). */
  readonly burst?: number;
  /** Retries after the first attempt on 5xx, 429 and network failures (default 4). */
  readonly maxRetries?: number;
  /** First backoff delay; doubled per retry and jittered ×[0.5, 1.5) (default 500 ms). */
  readonly retryBaseMs?: number;
  /** Longest single wait (backoff or Retry-After) before giving up instead (default 60 s). */
  readonly maxDelayMs?: number;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Bodies larger than this are refused as bad payloads (default 64 MiB). */
  readonly maxBodyBytes?: number;
  readonly userAgent?: string;
  readonly logger?: Logger;
  /** Injected for tests: the fetch implementation, clock, sleep and jitter source. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** A v8 chart client. */
export interface YahooClient {
  /** The base URL requests go to (credentials removed). */
  readonly baseUrl: string;
  /** Build the request URL for a symbol and inclusive day range (validated; no request made). */
  chartUrl(request: ChartRequest): string;
  /**
   * Fetch and check one chart.
   * @throws WarehouseError with `details.kind` (see the file comment); nothing is retried after a 404 or a bad payload.
   */
  fetchChart(request: ChartRequest): Promise<ChartFetch>;
}

/** The shared token bucket, with Yahoo's argument order (perMinute, burst, now, sleep). */
export class RateLimiter extends TokenBucket {
  constructor(perMinute: number, capacity: number, now: () => number, sleep: (ms: number) => Promise<void>) {
    super(perMinute, now, sleep, capacity);
  }
}

/** A URL with any user:password, cookie-ish or crumb parameter removed (safe to record). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  for (const k of [...u.searchParams.keys()]) if (/^(crumb|cookie|token|apikey|api_key|key)$/i.test(k)) u.searchParams.delete(k);
  return u.toString();
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const s = header.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function baseOf(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new WarehouseError('INVALID_ARGUMENT', `"${raw.slice(0, 80)}" is not a URL`, { suggestion: 'give --base-url as http(s)://host[:port]' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new WarehouseError('INVALID_ARGUMENT', `base URL must be http or https, not ${u.protocol}`, { suggestion: 'give --base-url as http(s)://host[:port]' });
  }
  return u;
}

type Attempt = { readonly kind: 'ok'; readonly body: Buffer } | { readonly kind: 'retry'; readonly why: string; readonly status: number | null; readonly retryAfter: number | undefined } | { readonly kind: 'fail'; readonly error: WarehouseError };

/**
 * Create a client.
 * @example
 * ```ts
 * const yahoo = createYahooClient({ baseUrl: 'http://127.0.0.1:4567' });
 * const chart = await yahoo.fetchChart({ symbol: 'AAPL', start: '2020-08-31', end: '2020-11-06' });
 * ```
 */
export function createYahooClient(options: YahooClientOptions = {}): YahooClient {
  const base = baseOf(options.baseUrl ?? DEFAULT_YAHOO_BASE_URL);
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const limiter = new RateLimiter(options.requestsPerMinute ?? 60, options.burst ?? 2, now, sleep);
  const maxRetries = options.maxRetries ?? 4;
  const retryBaseMs = options.retryBaseMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent ?? 'wh (academic research; development source)' };
  // Credentials in the base URL (a proxy, a replay server) travel as a header, never in the URL
  // that is requested, logged, put in an error or recorded as lineage.
  if (base.username !== '' || base.password !== '') {
    headers['authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    base.username = '';
    base.password = '';
  }

  const chartUrl = (r: ChartRequest): string => {
    const symbol = normalizeSymbol(r.symbol);
    const { period1, period2 } = chartPeriod(r.start, r.end);
    const u = new URL(`${base.pathname.replace(/\/+$/, '')}/v8/finance/chart/${encodeURIComponent(symbol)}`, base);
    // Every value is digits or a fixed word: no encoding needed, and the URL reads like Yahoo's own.
    u.search = `period1=${period1}&period2=${period2}&interval=1d&events=div,splits`;
    return u.toString();
  };

  async function attempt(url: string, symbol: string, shown: string): Promise<Attempt> {
    let res: Response;
    try {
      res = await doFetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000), redirect: 'follow' });
    } catch (e) {
      return { kind: 'retry', why: `network: ${(e as Error).message}`, status: null, retryAfter: undefined };
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBody) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: 'fail', error: badPayload(symbol, shown, `body of ${declared} bytes exceeds the ${maxBody}-byte limit`) };
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      // The connection broke mid-body: transient.
      return { kind: 'retry', why: `body: ${(e as Error).message}`, status: res.status, retryAfter: undefined };
    }
    if (res.status === 429 || res.status >= 500) {
      return { kind: 'retry', why: `HTTP ${res.status}`, status: res.status, retryAfter: retryAfterMs(res.headers.get('retry-after'), now()) };
    }
    if (res.status === 404) return { kind: 'fail', error: notFound(symbol, shown, 'HTTP 404') };
    if (!res.ok && !looksLikeChartError(body)) {
      return { kind: 'fail', error: new SourceUnavailableError(`Yahoo answered HTTP ${res.status} for ${symbol}`, { suggestion: 'Yahoo may have changed or restricted the unofficial API; check the URL in a browser', details: { source: 'yahoo', kind: 'http_error', status: res.status, url: shown, symbol } }) };
    }
    if (body.length > maxBody) return { kind: 'fail', error: badPayload(symbol, shown, `body of ${body.length} bytes exceeds the ${maxBody}-byte limit`) };
    return { kind: 'ok', body };
  }

  async function fetchChart(r: ChartRequest): Promise<ChartFetch> {
    const symbol = normalizeSymbol(r.symbol);
    const url = chartUrl({ ...r, symbol });
    const shown = redactUrl(url);
    for (let retry = 0; ; retry++) {
      await limiter.take();
      const a = await attempt(url, symbol, shown);
      if (a.kind === 'fail') throw a.error;
      if (a.kind === 'ok') return { symbol, url: shown, sha256: createHash('sha256').update(a.body).digest('hex'), bytes: a.body.length, fetchedAt: new Date(now()).toISOString(), result: checkBody(a.body, symbol, shown) };
      const limited = a.status === 429;
      const backoff = Math.round(retryBaseMs * 2 ** retry * (0.5 + random()));
      const delay = a.retryAfter !== undefined ? Math.max(a.retryAfter, 0) : Math.min(backoff, maxDelayMs);
      if (retry >= maxRetries || delay > maxDelayMs) throw exhausted(symbol, shown, a, retry + 1, limited, a.retryAfter);
      options.logger?.warn({ symbol, retry: retry + 1, delayMs: delay, why: a.why }, 'yahoo request failed; retrying');
      await sleep(delay);
    }
  }

  return { baseUrl: redactUrl(base.toString()), chartUrl, fetchChart };
}

function looksLikeChartError(body: Buffer): boolean {
  try {
    const j = JSON.parse(body.toString('utf8')) as { chart?: { error?: unknown } };
    return j.chart?.error != null;
  } catch {
    return false;
  }
}

function notFound(symbol: string, url: string, why: string): WarehouseError {
  return new WarehouseError('INVALID_ARGUMENT', `Yahoo has no chart for symbol ${symbol} (${why})`, {
    suggestion: 'check the ticker as Yahoo spells it (e.g. BRK-B, ^GSPC, VOD.L); delisted symbols are often gone from Yahoo',
    details: { source: 'yahoo', kind: 'not_found', symbol, url },
  });
}

function badPayload(symbol: string, url: string, problem: string, cause?: unknown): ValidationError {
  return new ValidationError(`Yahoo's chart payload for ${symbol} is unusable: ${problem}`, {
    suggestion: 'nothing was recorded; rerun later (a truncated response is usually transient) or check whether Yahoo changed the chart API',
    cause,
    details: { source: 'yahoo', kind: 'bad_payload', symbol, url },
  });
}

function exhausted(symbol: string, url: string, a: Extract<Attempt, { kind: 'retry' }>, attempts: number, limited: boolean, retryAfter: number | undefined): WarehouseError {
  const wait = retryAfter !== undefined ? ` (Retry-After ${Math.ceil(retryAfter / 1000)} s)` : '';
  if (limited) {
    return new SourceUnavailableError(`Yahoo rate-limited the request for ${symbol}: HTTP 429 after ${attempts} attempt(s)${wait}`, {
      suggestion: 'wait a few minutes and rerun with fewer symbols; the unofficial API throttles aggressively',
      details: { source: 'yahoo', kind: 'rate_limited', symbol, url, attempts, retryAfterMs: retryAfter ?? null },
    });
  }
  return new SourceUnavailableError(`Yahoo is unavailable for ${symbol}: ${a.why} after ${attempts} attempt(s)${wait}`, {
    suggestion: 'check the network (and --base-url); rerun later',
    details: { source: 'yahoo', kind: 'unavailable', symbol, url, attempts, status: a.status },
  });
}

/** Parse and check a body: JSON, envelope shape, chart.error, exactly one result for the symbol. */
function checkBody(body: Buffer, symbol: string, url: string): ChartResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badPayload(symbol, url, `not valid JSON (${body.length} bytes; truncated?)`, e);
  }
  const env = chartEnvelopeSchema.safeParse(json);
  if (!env.success) {
    const issue = env.error.issues[0];
    throw badPayload(symbol, url, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, env.error);
  }
  const { result, error } = env.data.chart;
  if (error != null) {
    if (/not found/i.test(error.code)) throw notFound(symbol, url, `chart.error "${error.code}": ${error.description ?? ''}`);
    throw new SourceUnavailableError(`Yahoo refused the chart request for ${symbol}: ${error.code}: ${error.description ?? ''}`, {
      suggestion: 'check the symbol and the date range',
      details: { source: 'yahoo', kind: 'http_error', symbol, url, code: error.code },
    });
  }
  const first = result?.[0];
  if (first === undefined) throw badPayload(symbol, url, 'chart.result is empty');
  const problems = chartProblems(first);
  if (problems.length > 0) throw badPayload(symbol, url, problems.join('; '));
  return first;
}
