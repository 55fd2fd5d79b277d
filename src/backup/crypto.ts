/**
 * Backup encryption: AES-256-GCM (node:crypto), one random 96-bit IV per file, the file's name as
 * associated data (an object swapped for another fails authentication). File layout:
 * `WHB1` | key id (8 bytes) | IV (12) | ciphertext | tag (16). The key comes from a key file kept
 * outside the warehouse and the backup, mode 0600; only its id (a hash) is ever written anywhere.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { relative, resolve, isAbsolute } from 'node:path';
import { WarehouseError } from '../log/index.js';

const MAGIC = Buffer.from('WHB1');
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + IV_BYTES;
/** Bytes an encrypted file adds to its plaintext. */
export const ENCRYPTION_OVERHEAD = HEADER_BYTES + TAG_BYTES;

/** A loaded backup key: the 32 key bytes and their public id. */
export interface BackupKey {
  readonly id: string;
  readonly bytes: Buffer;
  readonly file: string;
}

export const keyIdOf = (key: Buffer): string => createHash('sha256').update('wh-backup-key-id\0').update(key).digest().subarray(0, KEY_ID_BYTES).toString('hex');

/**
 * Load a key file: 64 hex digits, or 44 base64 characters, or 32 raw bytes.
 * @throws WarehouseError `BACKUP_KEY` when missing, readable by others, inside the warehouse or malformed.
 */
export function loadKey(file: string, warehouseDir?: string): BackupKey {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new WarehouseError('BACKUP_KEY', `backup key file ${path} does not exist`, { suggestion: 'create one with `wh backup keygen <file>` (keep it outside the warehouse, and a copy in escrow)' });
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new WarehouseError('BACKUP_KEY', `backup key file ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')})`, { suggestion: `chmod 600 ${path}` });
  }
  if (warehouseDir !== undefined) {
    const rel = relative(resolve(warehouseDir), path);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new WarehouseError('BACKUP_KEY', `backup key file ${path} is inside the warehouse, so a backup of the warehouse would carry its own key`, {
        suggestion: 'move the key file outside the warehouse directory (e.g. ~/.config/wh/backup.key)',
      });
    }
  }
  const raw = readFileSync(path);
  const text = raw.toString('utf8').trim();
  let bytes: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=$/.test(text)) bytes = Buffer.from(text, 'base64');
  else if (raw.length === 32) bytes = raw;
  if (bytes === null || bytes.length !== 32) {
    throw new WarehouseError('BACKUP_KEY', `backup key file ${path} does not hold a 256-bit key`, { suggestion: 'a key file holds 64 hex digits; make one with `wh backup keygen <file>`' });
  }
  return { id: keyIdOf(bytes), bytes, file: path };
}

/** A new random key as hex text (what `wh backup keygen` writes). */
export const newKeyText = (): string => randomBytes(32).toString('hex') + '\n';

/** HMAC of a manifest body under a key derived from the backup key. */
export function macOf(key: BackupKey, body: string): string {
  const macKey = createHash('sha256').update('wh-backup-mac\0').update(key.bytes).digest();
  return createHmac('sha256', macKey).update(body).digest('hex');
}

/**
 * Files up to this size are encrypted/decrypted in one call through WebCrypto, which runs on the
 * libuv thread pool: several objects go at once on every CPU, and the main thread stays free for
 * I/O. Larger files stream through node:crypto in CHUNK-sized pieces (bounded memory). Both produce
 * the same AES-256-GCM format (WebCrypto returns ciphertext || tag).
 */
const ONE_SHOT_MAX = 16 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;
const subtleKeys = new WeakMap<Buffer, Promise<webcrypto.CryptoKey>>();
const subtleKey = (key: BackupKey): Promise<webcrypto.CryptoKey> => {
  let k = subtleKeys.get(key.bytes);
  if (k === undefined) subtleKeys.set(key.bytes, (k = webcrypto.subtle.importKey('raw', key.bytes, 'AES-GCM', false, ['encrypt', 'decrypt'])));
  return k;
};

async function writeAll(dest: string, flags: string, parts: readonly Uint8Array[]): Promise<void> {
  const fh = await open(dest, flags);
  try {
    await fh.writev(parts as Uint8Array[]);
  } finally {
    await fh.close();
  }
}

/** Encrypt `src` to `dest`. `aad` binds the ciphertext to its name. Returns bytes written. */
export async function encryptFile(src: string, dest: string, key: BackupKey, aad: string, options: { fsync?: boolean } = {}): Promise<number> {
  const iv = randomBytes(IV_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from(key.id, 'hex'), iv]);
  const size = statSync(src).size;
  let written: number;
  if (size <= ONE_SHOT_MAX) {
    const plain = await readFile(src);
    const sealed = new Uint8Array(await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: Buffer.from(aad), tagLength: 128 }, await subtleKey(key), plain));
    await writeAll(dest, 'wx', [header, sealed]);
    written = header.length + sealed.length;
  } else {
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
    cipher.setAAD(Buffer.from(aad));
    const input = await open(src, 'r');
    const out = await open(dest, 'wx');
    try {
      await out.write(header);
      written = header.length;
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await input.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        const ct = cipher.update(buf.subarray(0, bytesRead));
        await out.write(ct);
        written += ct.length;
      }
      const tail = Buffer.concat([cipher.final(), cipher.getAuthTag()]);
      await out.write(tail);
      written += tail.length;
    } finally {
      await input.close();
      await out.close();
    }
  }
  if (options.fsync !== false) {
    const fh = await open(dest, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  return written;
}

/** The key id in an encrypted file's header, or null when it is not a wh backup file. */
export function keyIdOfFile(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) < HEADER_BYTES || !head.subarray(0, 4).equals(MAGIC)) return null;
    return head.subarray(4, 4 + KEY_ID_BYTES).toString('hex');
  } finally {
    closeSync(fd);
  }
}

/** A problem decrypting: the wrong key, or damage/tampering (authentication failed). */
export class DecryptError extends WarehouseError {}

/**
 * Decrypt `src` to `dest` (streaming) and return the SHA-256 of the plaintext. `dest` is complete
 * only when this resolves: GCM authenticates at the end, so callers write to a temporary name.
 * @throws DecryptError naming the file for a wrong key or a tampered or truncated file.
 */
export async function decryptFile(src: string, dest: string, key: BackupKey, aad: string, label: string): Promise<{ sha256: string; bytes: number }> {
  const size = statSync(src).size;
  const id = keyIdOfFile(src);
  if (id === null || size < ENCRYPTION_OVERHEAD) {
    throw new DecryptError('BACKUP_FAILED', `backup file ${label} is not a wh backup file or is truncated (${size} bytes)`, { suggestion: 'run `wh backup verify`; the next `wh backup run` re-uploads damaged objects' });
  }
  if (id !== key.id) {
    throw new DecryptError('BACKUP_KEY', `backup file ${label} was encrypted under key ${id}, not under the key given (${key.id}, from ${key.file})`, {
      suggestion: 'give the key file this backup was made with (--key-file or WH_BACKUP_KEY_FILE); see docs/runbooks/data-backup-restore.md "A lost key"',
    });
  }
  const fd = openSync(src, 'r');
  const tag = Buffer.alloc(TAG_BYTES);
  const iv = Buffer.alloc(IV_BYTES);
  try {
    readSync(fd, iv, 0, IV_BYTES, MAGIC.length + KEY_ID_BYTES);
    readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    closeSync(fd);
  }
  const failed = (e: unknown): DecryptError =>
    new DecryptError('BACKUP_FAILED', `backup file ${label} failed authentication: it was damaged or tampered with`, {
      cause: e,
      suggestion: 'run `wh backup verify` to list every damaged file; restore from an older backup (`wh restore --at`) or rerun `wh backup run` to re-upload',
    });
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  if (size - ENCRYPTION_OVERHEAD <= ONE_SHOT_MAX) {
    // One read and one write; decrypting and hashing in place on this thread copies the data
    // least. GCM checks the tag in final(), before the plaintext is trusted (dest is a temporary).
    const sealed = await readFile(src);
    let plain: Buffer;
    try {
      plain = decipher.update(sealed.subarray(HEADER_BYTES, size - TAG_BYTES));
      decipher.final();
    } catch (e) {
      throw failed(e);
    }
    const sha256 = createHash('sha256').update(plain).digest('hex');
    await writeAll(dest, 'w', [plain]);
    return { sha256, bytes: plain.length };
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const input = await open(src, 'r');
  const out = await open(dest, 'w');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = HEADER_BYTES;
    const end = size - TAG_BYTES;
    while (pos < end) {
      const { bytesRead } = await input.read(buf, 0, Math.min(CHUNK, end - pos), pos);
      if (bytesRead === 0) throw new Error(`unexpected end of ${label}`);
      pos += bytesRead;
      const pt = decipher.update(buf.subarray(0, bytesRead));
      hash.update(pt);
      bytes += pt.length;
      await out.write(pt);
    }
    decipher.final();
  } catch (e) {
    throw failed(e);
  } finally {
    await input.close();
    await out.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}
