/**
 * The file cipher itself: one function per direction that reads a file, runs AES-256-GCM over it
 * and writes the result, with synchronous system calls. They run in worker threads (crypt-pool.ts),
 * one per CPU, so a backup or a restore keeps every CPU busy without a thread-pool round trip per
 * system call; the main thread only hands out files.
 *
 * Each function is self-contained: it uses nothing but its arguments, because the worker is started
 * from its source text (a worker cannot load this package's TypeScript when it runs under the test
 * runner). Memory is bounded: one `read`-sized buffer per worker, reused from file to file (a fresh
 * buffer per file costs a page fault per 4 KiB), and the cipher is fed `slice` bytes at a time
 * (node:crypto allocates each output; allocations this small are recycled instead of faulting in
 * new pages: AES-256-GCM measured 2.7 GB/s in 64 KiB slices against 0.75 GB/s in 1 MiB ones).
 *
 * Each slice's output is written by itself. One write of several MiB makes the kernel allocate large
 * page-cache folios, which come from memory not touched recently; in a virtual machine that returns
 * free memory to its host, every first touch is a host page fault. Measured on this machine, writing
 * 82 MiB of new files cost 430-780 ms of system time in 1 MiB writes against 55-70 ms in 64 KiB
 * writes; a restore went from 130-400 ms to 105-130 ms.
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeFs from 'node:fs';

/** What the cipher functions need from their host: modules, the reused buffer, the file layout. */
export interface CryptHost {
  readonly fs: typeof NodeFs;
  readonly crypto: typeof NodeCrypto;
  readonly buf: Buffer;
  readonly slice: number;
  /** {@link writeFully} and {@link LAYOUT}, handed in (the worker is built from these functions' source text). */
  readonly writeFully: typeof writeFully;
  readonly layout: typeof LAYOUT;
}

/** The encrypted file: `WHB1` | key id (8 bytes) | IV (12) | ciphertext | tag (16). */
export const LAYOUT = { magic: 'WHB1', keyIdBytes: 8, ivBytes: 12, tagBytes: 16 } as const;

/** Write every byte of `parts` to `fd` (writev may write less when the disk fills); returns the bytes. */
export function writeFully(fs: typeof NodeFs, fd: number, parts: Buffer[]): number {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const done = fs.writevSync(fd, parts);
  if (done < total) {
    const rest = Buffer.concat(parts).subarray(done);
    for (let at = 0; at < rest.length; ) at += fs.writeSync(fd, rest, at);
  }
  return total;
}

/** One file through the cipher: `src` to `dest`, under `key` (whose id is `keyId`), bound to `aad`. */
export interface SealJob {
  readonly src: string;
  readonly dest: string;
  readonly key: Uint8Array;
  readonly keyId: string;
  readonly aad: string;
  /** fsync `dest` before returning (and before `renameTo`). */
  readonly fsync: boolean;
  /** After writing (and the fsync), rename `dest` to this name. */
  readonly renameTo?: string;
}

export interface UnsealJob extends SealJob {
  /** The plaintext's expected SHA-256: `renameTo` happens only when it matches. */
  readonly expect?: string;
  /** chmod `dest` to this mode before the rename (objects are read-only). */
  readonly mode?: number;
}

/** A failure a caller turns into a message: `format`, `key` (found id in `detail`), `auth`. */
export interface CryptFailure {
  readonly kind: 'format' | 'key' | 'auth';
  readonly detail: string;
}

/** Encrypt `job.src` to `job.dest`; returns the bytes written. Throws system errors as they come. */
export function sealFile(h: CryptHost, job: SealJob): { bytes: number } {
  const { fs, crypto, buf, slice } = h;
  const L = h.layout;
  const iv = crypto.randomBytes(L.ivBytes);
  const cipher = crypto.createCipheriv('aes-256-gcm', job.key, iv);
  cipher.setAAD(Buffer.from(job.aad));
  const input = fs.openSync(job.src, 'r');
  let out = -1;
  try {
    out = fs.openSync(job.dest, 'w', 0o644);
    const size = fs.fstatSync(input).size;
    let written = 0;
    let pos = 0;
    do {
      const n = fs.readSync(input, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0 && pos < size) throw new Error(`${job.src} shrank while it was being encrypted`);
      pos += n;
      // Each slice is written as it comes (see the module comment on write sizes), the header
      // before the first.
      const put = (parts: Buffer[]) => (written += h.writeFully(fs, out, written === 0 ? [Buffer.from(L.magic), Buffer.from(job.keyId, 'hex'), iv, ...parts] : parts));
      for (let i = 0; i < n; i += slice) put([cipher.update(buf.subarray(i, Math.min(n, i + slice)))]);
      if (pos >= size) put([cipher.final(), cipher.getAuthTag()]);
    } while (pos < size);
    if (job.fsync) fs.fsyncSync(out);
    fs.closeSync(out);
    out = -1;
    if (job.renameTo !== undefined) fs.renameSync(job.dest, job.renameTo);
    return { bytes: written };
  } finally {
    fs.closeSync(input);
    if (out >= 0) fs.closeSync(out);
  }
}

/**
 * Decrypt `job.src` to `job.dest` and hash the plaintext. GCM authenticates at the end, so `dest`
 * is untrusted until this returns (callers use a temporary name, or `renameTo` with `expect`).
 * Returns `failure` instead of throwing for a file that is not ours, under another key, or fails
 * authentication; system errors are thrown.
 */
export function unsealFile(h: CryptHost, job: UnsealJob): { bytes: number; sha256: string; failure?: CryptFailure } {
  const { fs, crypto, buf, slice } = h;
  const L = h.layout;
  const headerBytes = L.magic.length + L.keyIdBytes + L.ivBytes;
  const input = fs.openSync(job.src, 'r');
  let out = -1;
  try {
    const size = fs.fstatSync(input).size;
    const head = Buffer.alloc(headerBytes);
    const tag = Buffer.alloc(L.tagBytes);
    if (size < headerBytes + L.tagBytes || fs.readSync(input, head, 0, headerBytes, 0) < headerBytes || head.toString('latin1', 0, 4) !== L.magic) {
      return { bytes: 0, sha256: '', failure: { kind: 'format', detail: `${size} bytes` } };
    }
    const id = head.subarray(4, 4 + L.keyIdBytes).toString('hex');
    if (id !== job.keyId) return { bytes: 0, sha256: '', failure: { kind: 'key', detail: id } };
    fs.readSync(input, tag, 0, L.tagBytes, size - L.tagBytes);
    const decipher = crypto.createDecipheriv('aes-256-gcm', job.key, head.subarray(4 + L.keyIdBytes));
    decipher.setAAD(Buffer.from(job.aad));
    decipher.setAuthTag(tag);
    const hash = crypto.createHash('sha256');
    out = fs.openSync(job.dest, 'w', 0o644);
    let bytes = 0;
    const end = size - L.tagBytes;
    for (let pos = headerBytes; pos < end; ) {
      const n = fs.readSync(input, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) return { bytes, sha256: '', failure: { kind: 'auth', detail: 'unexpected end of file' } };
      pos += n;
      for (let i = 0; i < n; i += slice) {
        const p = decipher.update(buf.subarray(i, Math.min(n, i + slice)));
        hash.update(p);
        bytes += h.writeFully(fs, out, [p]);
      }
    }
    try {
      decipher.final();
    } catch (e) {
      return { bytes, sha256: '', failure: { kind: 'auth', detail: e instanceof Error ? e.message : String(e) } };
    }
    const sha256 = hash.digest('hex');
    if (job.mode !== undefined) fs.fchmodSync(out, job.mode);
    if (job.fsync) fs.fsyncSync(out);
    fs.closeSync(out);
    out = -1;
    if (job.renameTo !== undefined && (job.expect === undefined || job.expect === sha256)) fs.renameSync(job.dest, job.renameTo);
    return { bytes, sha256 };
  } finally {
    fs.closeSync(input);
    if (out >= 0) fs.closeSync(out);
  }
}
