/**
 * The backup manifest: what one backup holds (objects and their hashes, the log copy, the head
 * seq and hash it was taken at, the key id), authenticated with an HMAC under the backup key. It is
 * uploaded last: a backup without its manifest is incomplete and never offered for restore.
 */
import { z } from 'zod';
import { WarehouseError, canonicalJson } from '../log/index.js';
import { macOf, type BackupKey } from './crypto.js';

const hash = z.string().regex(/^[0-9a-f]{64}$/);

export const backupManifestSchema = z.object({
  format: z.literal('wh-backup-manifest/1'),
  backupId: z.string().regex(/^\d{8}T\d{6}(\d{3})?Z-s\d+$/),
  warehouseId: z.string(),
  createdAt: z.string(),
  head: z.object({ seq: z.number().int().nonnegative(), hash, time: z.number() }),
  keyId: z.string(),
  log: z.object({ name: z.string(), bytes: z.number().int().nonnegative(), sha256: hash }),
  objects: z.array(z.object({ hash, bytes: z.number().int().nonnegative() })),
  mac: z.string(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const objectName = (h: string): string => `objects/${h.slice(0, 2)}/${h}.whenc`;
export const logName = (backupId: string): string => `logs/${backupId}.log.whenc`;
export const manifestName = (backupId: string): string => `manifests/${backupId}.json`;
export const objectAad = (h: string): string => `wh-object:${h}`;
export const logAad = (backupId: string): string => `wh-log:${backupId}`;

/** `20261204T204500123Z-s42`: sorts in time order. */
export const backupIdFor = (timeMs: number, headSeq: number): string => `${new Date(timeMs).toISOString().replace(/[-:.]/g, '')}-s${headSeq}`;

/** Serialize with its MAC. */
export function sealManifest(m: Omit<BackupManifest, 'mac'>, key: BackupKey): string {
  const body = canonicalJson(m);
  return JSON.stringify({ ...m, mac: macOf(key, body) }, null, 1) + '\n';
}

/** Parse a manifest without checking its MAC (listing needs no key). */
export function parseManifest(text: string, name: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WarehouseError('BACKUP_FAILED', `backup manifest ${name} is not valid JSON`, { suggestion: 'it was damaged on the target; restore from another backup with --at' });
  }
  const r = backupManifestSchema.safeParse(raw);
  if (!r.success) throw new WarehouseError('BACKUP_FAILED', `backup manifest ${name} is malformed (${r.error.issues[0]?.message})`, { suggestion: 'restore from another backup with --at' });
  return r.data;
}

/**
 * Check a manifest's key id and MAC.
 * @throws WarehouseError `BACKUP_KEY` for another key, `BACKUP_FAILED` for a tampered manifest.
 */
export function authenticateManifest(m: BackupManifest, key: BackupKey): void {
  if (m.keyId !== key.id) {
    throw new WarehouseError('BACKUP_KEY', `backup ${m.backupId} was made under key ${m.keyId}, not under the key given (${key.id}, from ${key.file})`, {
      suggestion: 'give the key file this backup was made with (--key-file or WH_BACKUP_KEY_FILE); see docs/runbooks/data-backup-restore.md "A lost key"',
    });
  }
  const { mac, ...body } = m;
  if (macOf(key, canonicalJson(body)) !== mac) {
    throw new WarehouseError('BACKUP_FAILED', `backup manifest ${m.backupId} failed authentication: it was altered on the target`, { suggestion: 'restore from another backup with --at; run `wh backup verify`' });
  }
}
