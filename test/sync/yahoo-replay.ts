/**
 * A local Yahoo v8 chart server for tests: it REPLAYS the recorded exchanges in
 * ../shared/data/yahoo_chart_v8 (matched by symbol, period1 and period2; the recorded bodyJson is
 * served), and serves scripted responses (429, 5xx, 404, truncated bodies...) queued per symbol
 * before falling back to the recording. Listens on 127.0.0.1, port 0.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const dataDir = new URL('../../../shared/data/yahoo_chart_v8/', import.meta.url);

interface RecordedFile {
  readonly request: { readonly url: string };
  readonly response: { readonly status: number; readonly headers: Record<string, string>; readonly bodyJson: unknown };
}

export interface Recording {
  readonly file: string;
  readonly symbol: string;
  readonly period1: number;
  readonly period2: number;
  readonly bodyJson: ChartBody;
  /** The recorded body as text. */
  readonly body: string;
}

/** Just enough of the chart payload for tests to read. */
export interface ChartBody {
  chart: {
    result: {
      meta: Record<string, unknown> & { chartPreviousClose?: number };
      timestamp: number[];
      events?: { dividends?: Record<string, { amount: number; date: number }>; splits?: Record<string, { date: number; numerator: number; denominator: number }> };
      indicators: { quote: { open: (number | null)[]; high: (number | null)[]; low: (number | null)[]; close: (number | null)[]; volume: (number | null)[] }[]; adjclose: { adjclose: (number | null)[] }[] };
    }[];
    error: unknown;
  };
}

/** Every recording in the shared data directory. */
export function loadRecordings(): Recording[] {
  return readdirSync(dataDir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const rec = JSON.parse(readFileSync(new URL(file, dataDir), 'utf8')) as RecordedFile;
      const u = new URL(rec.request.url);
      const symbol = decodeURIComponent(u.pathname.split('/').pop() ?? '');
      const body = JSON.stringify(rec.response.bodyJson);
      return { file, symbol, period1: Number(u.searchParams.get('period1')), period2: Number(u.searchParams.get('period2')), bodyJson: rec.response.bodyJson as ChartBody, body };
    });
}

/** The recording of `symbol`. */
export function recording(symbol: string): Recording {
  const r = loadRecordings().find((x) => x.symbol === symbol);
  if (r === undefined) throw new Error(`no recording of ${symbol}`);
  return r;
}

/** The inclusive day range whose request reproduces a recording's period1/period2. */
export function rangeOf(r: Recording): { start: string; end: string } {
  const day = (s: number): string => new Date(s * 1000).toISOString().slice(0, 10);
  return { start: day(r.period1), end: day(r.period2 - 86_400) };
}

/** A scripted response. `destroyAfter` cuts the connection after that many body bytes. */
export interface Scripted {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly destroyAfter?: number;
}

export interface ReplayServer {
  readonly baseUrl: string;
  /** Every request URL (path + query) received, in order. */
  readonly requests: string[];
  /** Every Authorization header received. */
  readonly authorizations: string[];
  /** Serve these responses, in order, to the next requests for `symbol` (then the recording). */
  enqueue(symbol: string, ...responses: Scripted[]): void;
  /** Serve `response` to every request for `symbol` from now on. */
  always(symbol: string, response: Scripted | undefined): void;
  /** Serve this body (instead of the recording) for `symbol`. */
  override(symbol: string, body: string | undefined): void;
  close(): Promise<void>;
}

export const notFoundBody = JSON.stringify({ chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } } });

/** Start a replay server on 127.0.0.1 (port 0). */
export async function startReplayServer(recordings: readonly Recording[] = loadRecordings()): Promise<ReplayServer> {
  const queues = new Map<string, Scripted[]>();
  const forever = new Map<string, Scripted>();
  const overrides = new Map<string, string>();
  const requests: string[] = [];
  const authorizations: string[] = [];

  const send = (res: ServerResponse, s: Scripted): void => {
    const body = Buffer.from(s.body ?? '');
    res.writeHead(s.status, { 'content-type': 'application/json;charset=utf-8', 'content-length': String(body.length), ...s.headers });
    if (s.destroyAfter !== undefined) {
      res.write(body.subarray(0, s.destroyAfter), () => res.destroy());
      return;
    }
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${u.pathname}${u.search}`);
    if (req.headers.authorization !== undefined) authorizations.push(req.headers.authorization);
    const m = /^\/v8\/finance\/chart\/([^/]+)$/.exec(u.pathname);
    if (m === null) return send(res, { status: 404, body: '{"error":"unknown path"}' });
    const symbol = decodeURIComponent(m[1]!);
    const queued = queues.get(symbol)?.shift();
    if (queued !== undefined) return send(res, queued);
    const always = forever.get(symbol);
    if (always !== undefined) return send(res, always);
    const p1 = Number(u.searchParams.get('period1'));
    const p2 = Number(u.searchParams.get('period2'));
    const rec = recordings.find((r) => r.symbol === symbol);
    if (rec === undefined) return send(res, { status: 404, body: notFoundBody });
    if (rec.period1 !== p1 || rec.period2 !== p2) {
      return send(res, { status: 400, body: JSON.stringify({ chart: { result: null, error: { code: 'Bad Request', description: `no recording of ${symbol} for period ${p1}..${p2}` } } }) });
    }
    return send(res, { status: 200, body: overrides.get(symbol) ?? rec.body });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    authorizations,
    enqueue: (symbol, ...responses) => queues.set(symbol, [...(queues.get(symbol) ?? []), ...responses]),
    always: (symbol, response) => (response === undefined ? forever.delete(symbol) : forever.set(symbol, response)),
    override: (symbol, body) => (body === undefined ? overrides.delete(symbol) : overrides.set(symbol, body)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
