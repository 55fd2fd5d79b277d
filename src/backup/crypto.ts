/**
 * Backup encryption: AES-256-GCM (node:crypto), one random 96-bit IV per file, the file's name as
 * associated data (an object swapped for another fails authentication). File layout:
 * `WHB1` | key id (8 bytes) | IV (12) | ciphertext | tag (16). The key comes from a key file kept
 * outside the warehouse and the backup, mode 0600; only its id (a hash) is ever written anywhere.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { LAYOUT } from './crypt-core.js';
import { cryptPool } from './crypt-pool.js';
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve, isAbsolute } from 'node:path';
import { WarehouseError } from '../log/index.js';

const MAGIC = Buffer.from(LAYOUT.magic);
const KEY_ID_BYTES = LAYOUT.keyIdBytes;
const IV_BYTES = LAYOUT.ivBytes;
const TAG_BYTES = LAYOUT.tagBytes;
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
 * Encrypt `src` to `dest` in a crypt worker (crypt-pool.ts). `aad` binds the ciphertext to its
 * name. With `renameTo`, `dest` is a temporary that takes that name once written (and flushed,
 * unless `fsync: false`). Returns bytes written.
 */
export async function encryptFile(src: string, dest: string, key: BackupKey, aad: string, options: { fsync?: boolean; renameTo?: string } = {}): Promise<number> {
  const r = await cryptPool().seal({ src, dest, key: key.bytes, keyId: key.id, aad, fsync: options.fsync !== false, ...(options.renameTo === undefined ? {} : { renameTo: options.renameTo }) });
  return r.bytes;
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
export async function decryptFile(
  src: string,
  dest: string,
  key: BackupKey,
  aad: string,
  label: string,
  options: { fsync?: boolean; expect?: string; renameTo?: string; mode?: number } = {},
): Promise<{ sha256: string; bytes: number }> {
  const r = await cryptPool().unseal({ src, dest, key: key.bytes, keyId: key.id, aad, fsync: options.fsync === true, ...options });
  const f = r.failure;
  if (f?.kind === 'format') {
    throw new DecryptError('BACKUP_FAILED', `backup file ${label} is not a wh backup file or is truncated (${f.detail})`, { suggestion: 'run `wh backup verify`; the next `wh backup run` re-uploads damaged objects' });
  }
  if (f?.kind === 'key') {
    throw new DecryptError('BACKUP_KEY', `backup file ${label} was encrypted under key ${f.detail}, not under the key given (${key.id}, from ${key.file})`, {
      suggestion: 'give the key file this backup was made with (--key-file or WH_BACKUP_KEY_FILE); see docs/runbooks/data-backup-restore.md "A lost key"',
    });
  }
  if (f?.kind === 'auth') {
    throw new DecryptError('BACKUP_FAILED', `backup file ${label} failed authentication: it was damaged or tampered with (${f.detail})`, {
      suggestion: 'run `wh backup verify` to list every damaged file; restore from an older backup (`wh restore --at`) or rerun `wh backup run` to re-upload',
    });
  }
  return { sha256: r.sha256, bytes: r.bytes };
}
