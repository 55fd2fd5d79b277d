/** Durable file-system steps: fsync a file or a directory, hash a file while reading it once. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a file and compute its SHA-256 and size in one pass. */
export function fsyncAndHash(path: string): Promise<{ hash: string; bytes: number }> {
  return hashFile(path, { fsync: true });
}

/** SHA-256 of a file (streamed), optionally fsyncing it first on the same descriptor. */
export async function hashFile(path: string, options: { fsync?: boolean } = {}): Promise<{ hash: string; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    if (options.fsync) await fh.sync();
    const h = createHash('sha256');
    let bytes = 0;
    for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { hash: h.digest('hex'), bytes };
  } finally {
    await fh.close();
  }
}
