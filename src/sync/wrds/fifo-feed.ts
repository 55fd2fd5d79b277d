/**
 * Streaming a source into DuckDB without a temporary file: the COPY stream from PostgreSQL is
 * written into a named pipe that DuckDB's `read_csv` reads, so transfer and Parquet encoding run
 * at the same time and memory stays bounded by the pipe and stream buffers.
 *
 * The writer opens the FIFO write-only, which waits (on a libuv worker) until DuckDB has opened
 * the read end: data can then never be written into a pipe nobody holds (a pipe with no reader
 * and no writer discards its buffer, and a later reader would wait forever). DuckDB sees
 * end-of-file when the writer closes. If DuckDB fails first, `abort` destroys the source and opens
 * a draining reader, which also releases a writer still waiting in open().
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants, createReadStream, mkdirSync, openSync, rmSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceUnavailableError, WarehouseError } from '../../log/index.js';
import { ConsumerGoneError, type Feed } from '../../store/index.js';

export interface FifoFeed extends Feed {
  readonly path: string;
  bytes(): number;
  /** Rows the source reported sending (PostgreSQL's `COPY n`), once the stream has ended. */
  sourceRows(): number | undefined;
  dispose(): void;
}

/**
 * Make `n` FIFOs under `dir` with one `mkfifo` (Node has no mkfifo call, and forking a process
 * the size of a running sync costs milliseconds each time).
 */
export function makeFifos(dir: string, n: number): string[] {
  if (n <= 0) return [];
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: n }, () => join(dir, `${randomUUID()}.csv.fifo`));
  execFileSync('mkfifo', ['-m', '600', ...paths]);
  return paths;
}

/**
 * Feed the FIFO at `path` (from makeFifos) with `open()`'s stream, opened when the COPY starts.
 * `transferred` is called once, when the source stream has ended or failed (DuckDB may still be
 * encoding what it read).
 */
export function createFifoFeed(path: string, open: () => Promise<Readable>, transferred: () => void = () => undefined): FifoFeed {
  let source: Readable | undefined;
  let aborted: Error | undefined;
  let bytes = 0;
  let signalled = false;
  const signal = () => {
    if (!signalled) {
      signalled = true;
      transferred();
    }
  };
  return {
    path,
    bytes: () => bytes,
    sourceRows: () => {
      const n = (source as { rowCount?: unknown } | undefined)?.rowCount;
      return typeof n === 'number' ? n : undefined;
    },
    async run() {
      const handle = await openAsync(path, constants.O_WRONLY);
      const sink = handle.createWriteStream({ autoClose: true });
      try {
        if (aborted) throw aborted;
        source = await open();
        if (aborted) {
          source.destroy();
          throw aborted;
        }
        source.on('data', (c: Buffer) => (bytes += c.length));
        await pipeline(source, sink);
        signal();
      } catch (e) {
        signal();
        sink.destroy();
        if (aborted) throw aborted;
        // DuckDB closed its end (its COPY failed): its error is the one to report.
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw new ConsumerGoneError(e);
        if (e instanceof WarehouseError) throw e;
        throw new SourceUnavailableError(`the source stream failed mid-transfer: ${(e as Error).message}`, {
          suggestion: 'check the server and rerun: partitions already committed are kept and the sync resumes from the next one',
          cause: e,
        });
      }
    },
    abort(reason) {
      aborted = reason;
      source?.destroy(reason);
      // Drain whatever is buffered so a blocked write returns.
      try {
        const drain = createReadStream(path, { fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK) });
        drain.on('error', () => undefined);
        drain.resume();
        setTimeout(() => drain.destroy(), 1000).unref();
      } catch {
        // nothing to drain
      }
    },
    dispose() {
      rmSync(path, { force: true });
    },
  };
}
