/**
 * `wh backup rotate-key`: re-encrypt every file of a target under a new key, then reseal every
 * manifest (new key id and MAC). Files already under the new key are skipped, so a rotation killed
 * part-way is finished by running it again with the same two keys; each file is replaced
 * atomically, and every file header names its key, so a half-rotated target stays readable with
 * both keys at hand.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog } from '../log/index.js';
import { decryptFile, encryptFile, keyIdOfFile, type BackupKey } from './crypto.js';
import { authenticateManifest, logAad, manifestName, objectAad, sealManifest } from './manifest.js';
import { listBackups } from './restore.js';
import type { BackupTarget } from './target.js';

export interface RotateResult {
  readonly files: number;
  readonly manifests: number;
  readonly oldKeyId: string;
  readonly newKeyId: string;
}

export async function rotateKey(log: EventLog, name: string, target: BackupTarget, oldKey: BackupKey, newKey: BackupKey, scratchBase: string): Promise<RotateResult> {
  const scratch = mkdtempSync(join(scratchBase, 'rotate-'));
  try {
    const manifests = await listBackups(target);
    // Authenticate each manifest under whichever key it is sealed with now.
    for (const m of manifests) authenticateManifest(m, m.keyId === newKey.id ? newKey : oldKey);
    const aadOf = new Map<string, string>();
    for (const m of manifests) {
      aadOf.set(m.log.name, logAad(m.backupId));
      for (const o of m.objects) aadOf.set(`objects/${o.hash.slice(0, 2)}/${o.hash}.whenc`, objectAad(o.hash));
    }
    let files = 0;
    for (const [file, aad] of aadOf) {
      const enc = join(scratch, 'in.whenc');
      const plain = join(scratch, 'plain');
      const out = join(scratch, 'out.whenc');
      try {
        await target.get(file, enc);
        if (keyIdOfFile(enc) === newKey.id) continue;
        await decryptFile(enc, plain, oldKey, aad, file);
        await encryptFile(plain, out, newKey, aad);
        await target.put(out, file);
        files += 1;
      } finally {
        for (const f of [enc, plain, out]) rmSync(f, { force: true });
      }
    }
    // Manifests last: each is resealed only once everything it names is under the new key.
    let resealed = 0;
    for (const m of manifests) {
      if (m.keyId === newKey.id) continue;
      const { mac: _mac, ...body } = m;
      const f = join(scratch, 'manifest.json');
      writeFileSync(f, sealManifest({ ...body, keyId: newKey.id }, newKey));
      await target.put(f, manifestName(m.backupId));
      resealed += 1;
    }
    log.append([{ type: 'BackupKeyRotated', data: { name, oldKeyId: oldKey.id, newKeyId: newKey.id, keyFile: newKey.file, files } }]);
    return { files, manifests: resealed, oldKeyId: oldKey.id, newKeyId: newKey.id };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
