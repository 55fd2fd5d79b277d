/**
 * Crypt workers: one worker thread per CPU (at most eight; more than the CPUs measured slower), each running crypt-core's functions
 * with synchronous system calls on files the main thread hands out. Workers start on first use (or
 * `warm()`, which a backup calls first so they start while the log is copied), stay for the
 * process, and do not keep it alive while idle. A worker that dies fails its job with the reason
 * and is replaced on the next job.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LAYOUT, sealFile, unsealFile, writeFully, type CryptFailure, type SealJob, type UnsealJob } from './crypt-core.js';

/** Bytes read per system call (one such buffer per worker bounds the memory). */
const READ = 8 * 1024 * 1024;
/** Bytes fed to the cipher per call. */
const SLICE = 64 * 1024;

// Dynamic imports, not require: the source runs as a script or as a module, whichever the
// process's --input-type says.
const source = (): string => `'use strict';
const __name = (f) => f;
(async () => {
  const { parentPort } = await import('node:worker_threads');
  const writeFully = ${writeFully.toString()};
  const host = { fs: await import('node:fs'), crypto: await import('node:crypto'), buf: Buffer.allocUnsafe(${READ}), slice: ${SLICE}, writeFully, layout: ${JSON.stringify(LAYOUT)} };
  const sealFile = ${sealFile.toString()};
  const unsealFile = ${unsealFile.toString()};
  parentPort.on('message', ({ id, op, job }) => {
    try {
      parentPort.postMessage({ id, ok: true, result: op === 'seal' ? sealFile(host, job) : unsealFile(host, job) });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      parentPort.postMessage({ id, ok: false, error: { message: err.message, code: err.code, syscall: err.syscall, path: err.path } });
    }
  });
})();`;

type Result = { bytes: number; sha256?: string; failure?: CryptFailure };
interface Pending {
  readonly id: number;
  readonly op: 'seal' | 'unseal';
  readonly job: SealJob | UnsealJob;
  readonly resolve: (r: Result) => void;
  readonly reject: (e: Error) => void;
}
interface Slot {
  readonly worker: Worker;
  /** Jobs sent to the worker, in the order it runs them (at most {@link DEPTH}). */
  readonly sent: Pending[];
}

/**
 * Jobs handed to a worker at once: the next one waits in the worker's queue, so the worker starts it
 * without a round trip through the main thread (which is busy with flushes and progress).
 */
const DEPTH = 2;

/** A system error from a worker, rebuilt with its code (ENOSPC, ENOENT, ...) for the caller. */
function rebuilt(e: { message: string; code?: string; syscall?: string; path?: string }): Error {
  return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code }, e.syscall === undefined ? {} : { syscall: e.syscall }, e.path === undefined ? {} : { path: e.path });
}

export class CryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private code: string | null = null;

  constructor(readonly size = Math.max(1, Math.min(8, availableParallelism()))) {}

  /** Jobs in flight that keep every worker busy. */
  get capacity(): number {
    return this.size * DEPTH;
  }

  /** Start the workers now (they take a few milliseconds to come up). */
  warm(): void {
    while (this.slots.length < this.size) this.spawn();
  }

  seal(job: SealJob): Promise<{ bytes: number }> {
    return this.run('seal', job);
  }

  unseal(job: UnsealJob): Promise<{ bytes: number; sha256: string; failure?: CryptFailure }> {
    return this.run('unseal', job) as Promise<{ bytes: number; sha256: string; failure?: CryptFailure }>;
  }

  private run(op: Pending['op'], job: SealJob | UnsealJob): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, op, job, resolve, reject });
      this.warm();
      this.dispatch();
    });
  }

  private spawn(): void {
    this.code ??= source();
    const worker = new Worker(this.code, { eval: true });
    const slot: Slot = { worker, sent: [] };
    worker.on('message', (m: { id: number; ok: boolean; result?: Result; error?: { message: string; code?: string } }) => {
      const p = slot.sent[0];
      if (p !== undefined && p.id === m.id) {
        slot.sent.shift();
        if (m.ok) p.resolve(m.result!);
        else p.reject(rebuilt(m.error!));
      }
      this.dispatch();
    });
    const gone = (why: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const p of slot.sent.splice(0)) p.reject(why);
      if (this.queue.length > 0) {
        this.warm();
        this.dispatch();
      }
    };
    worker.on('error', (e) => gone(e));
    worker.on('exit', (code) => gone(new Error(`a crypt worker exited (code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.slots.push(slot);
  }

  private dispatch(): void {
    // Fill every worker to one job first, then to DEPTH, so a short queue is spread over all of them.
    for (let depth = 1; depth <= DEPTH; depth++) {
      for (const slot of this.slots) {
        if (slot.sent.length < depth && this.queue.length > 0) {
          const p = this.queue.shift()!;
          slot.sent.push(p);
          slot.worker.ref();
          slot.worker.postMessage({ id: p.id, op: p.op, job: p.job });
        }
      }
    }
    for (const slot of this.slots) if (slot.sent.length === 0) slot.worker.unref();
  }
}

let shared: CryptPool | null = null;

/** The process's crypt workers. */
export const cryptPool = (): CryptPool => (shared ??= new CryptPool());
