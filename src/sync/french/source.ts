/**
 * Reading a French source, a local file or an http(s) URL, plain CSV or zip (sniffed from the
 * bytes, not the name), as a stream of text chunks: the bytes are hashed as they pass (the
 * lineage's sourceHash), bounded in size, and never held whole in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { SourceUnavailableError, ValidationError, WarehouseError } from '../../log/index.js';
import { ZipCsvReader, isZip } from './zip.js';

export interface FrenchSourceOptions {
  /** Refuse sources (or a zip entry) larger than this; default 512 MiB. */
  readonly maxBytes?: number;
  /** Abort an HTTP download after this long; default 120 s. */
  readonly timeoutMs?: number;
}

/** What was read. */
export interface FrenchSourceRead {
  /** The path (absolute) or URL as given. */
  readonly source: string;
  /** Name of the CSV read: the file's, the URL path's last segment, or the zip entry's. */
  readonly name: string;
  /** SHA-256 of the source bytes as read (the zip's bytes for a zip). */
  readonly sha256: string;
  readonly bytes: number;
  readonly zipped: boolean;
}

export const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

const DEFAULT_MAX = 512 * 1024 * 1024;

async function* fileBytes(path: string): AsyncGenerator<Uint8Array> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new WarehouseError('INVALID_ARGUMENT', `no such file: ${path}`, { suggestion: 'check the path, or give an http(s) URL' });
  }
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) yield chunk as Buffer;
}

async function* urlBytes(url: string, timeoutMs: number): AsyncGenerator<Uint8Array> {
  const unavailable = (what: string, cause?: unknown) =>
    new SourceUnavailableError(`cannot download ${url}: ${what}`, {
      suggestion: 'check the URL and the network; or download the file yourself and load its path. Nothing was written',
      cause,
    });
  let res: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (e) {
    throw unavailable((e as Error).message, e);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw unavailable(`HTTP ${res.status} ${res.statusText}`);
  }
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) yield chunk;
  } catch (e) {
    throw unavailable(`the download broke off: ${(e as Error).message}`, e);
  }
}

const urlName = (url: string): string => {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').filter((s) => s !== '').pop() ?? 'download');
  } catch {
    return 'download';
  }
};

/**
 * Read `source` and hand its CSV text to `onText` chunk by chunk (awaited: the consumer sets the pace).
 * @throws WarehouseError `INVALID_ARGUMENT` (no such file), SourceUnavailableError (HTTP),
 * ValidationError (too large, a zip without exactly one complete CSV).
 */
export async function readFrenchSource(source: string, onText: (text: string) => void | Promise<void>, options: FrenchSourceOptions = {}): Promise<FrenchSourceRead> {
  const max = options.maxBytes ?? DEFAULT_MAX;
  const remote = isUrl(source);
  const where = remote ? source : resolve(source);
  const chunks = remote ? urlBytes(where, options.timeoutMs ?? 120_000) : fileBytes(where);
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let zip: ZipCsvReader | null | undefined;
  let head: Uint8Array = new Uint8Array(0);

  const text = async (parts: readonly Uint8Array[], final: boolean): Promise<void> => {
    for (const p of parts) await onText(decoder.decode(p, { stream: true }));
    if (final) await onText(decoder.decode());
  };
  const feed = async (data: Uint8Array, final: boolean): Promise<void> => {
    if (zip === undefined) {
      // Sniff the first four bytes (a chunk may be shorter).
      head = head.length === 0 ? data : Buffer.concat([head, data]);
      if (head.length < 4 && !final) return;
      zip = isZip(head) ? new ZipCsvReader(max) : null;
      data = head;
    }
    await text(zip === null ? [data] : zip.push(data, final), final);
  };

  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (bytes > max) {
      throw new ValidationError(`${where} is larger than ${max} bytes: not a French Data Library file`, {
        suggestion: 'check the source; nothing was written',
      });
    }
    hash.update(chunk);
    await feed(chunk, false);
  }
  await feed(new Uint8Array(0), true);
  const entry = zip ? zip.finish() : null;
  return {
    source: where,
    name: basename(entry ?? (remote ? urlName(where) : where)),
    sha256: hash.digest('hex'),
    bytes,
    zipped: entry !== null,
  };
}
