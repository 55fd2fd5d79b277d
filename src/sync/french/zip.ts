/**
 * Streaming extraction of the one CSV inside a French Data Library zip (they hold exactly one),
 * with fflate's push decoder: local file headers are read in order, so a zip downloading over
 * HTTP decompresses as its bytes arrive, in bounded memory, without random access.
 */
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { ValidationError } from '../../log/index.js';

/** The first bytes of a zip's first local file header. */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

const isCsvEntry = (name: string): boolean => {
  const base = name.replace(/^.*\//, '');
  return !name.endsWith('/') && !name.startsWith('__MACOSX/') && !base.startsWith('._') && /\.(csv|txt)$/i.test(base);
};

const zipError = (message: string, cause?: unknown): ValidationError =>
  new ValidationError(message, {
    suggestion: 'a French Data Library zip holds one CSV file; download it again, or unzip it and load the CSV. Nothing was written',
    cause,
  });

/** Push zip bytes in, pull the CSV entry's decompressed bytes out. */
export class ZipCsvReader {
  private readonly unzip: Unzip;
  private entry: string | null = null;
  private readonly others: string[] = [];
  private finished = false;
  private failure: Error | null = null;
  private out: Uint8Array[] = [];
  private outBytes = 0;

  /** @param maxBytes refuse an entry that inflates beyond this (a zip bomb). */
  constructor(private readonly maxBytes: number) {
    this.unzip = new Unzip((file) => this.onFile(file));
    this.unzip.register(UnzipInflate);
  }

  /** The CSV entry's name, once its header was read. */
  get name(): string | null {
    return this.entry;
  }

  /** Feed zip bytes; returns the decompressed CSV bytes they completed. */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    try {
      this.unzip.push(chunk, final);
    } catch (e) {
      throw zipError(`cannot read the zip: ${(e as Error).message}`, e);
    }
    if (this.failure !== null) throw zipError(`cannot inflate ${this.entry ?? 'the zip'}: ${this.failure.message}`, this.failure);
    if (this.others.length > 0) throw zipError(`the zip holds more than one CSV file (${[this.entry, ...this.others].join(', ')})`);
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Call after the last `push(..., true)`: checks the entry was found and complete. */
  finish(): string {
    if (this.entry === null) throw zipError('the zip holds no .csv file');
    if (!this.finished) throw zipError(`the zip ends before ${this.entry} is complete (truncated download?)`);
    return this.entry;
  }

  private onFile(file: UnzipFile): void {
    if (!isCsvEntry(file.name)) return;
    if (this.entry !== null) {
      this.others.push(file.name);
      return;
    }
    this.entry = file.name;
    file.ondata = (err, data, final) => {
      if (err !== null) {
        this.failure = err;
        return;
      }
      this.outBytes += data.length;
      if (this.outBytes > this.maxBytes) {
        this.failure = new Error(`it inflates beyond ${this.maxBytes} bytes`);
        file.terminate();
        return;
      }
      if (data.length > 0) this.out.push(data);
      if (final) this.finished = true;
    };
    file.start();
  }
}
