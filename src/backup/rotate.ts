/**
 * `wh backup rotate-key`: re-encrypt every file of a target under a new key, then reseal every
 * manifest (new key id and MAC). Files already under the new key are skipped, so a rotation killed
 * part-way is finished by running it again with the same two keys; each file is replaced
 * atomically, and every file header names its key, so a half-rotated target stays readable with
 * both keys at hand.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    const names = [...aadOf.keys()];
    const BATCH = 64;
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      // A remote: one download and one upload per batch; a directory: each file in place.
      const inDir = target.getTree === undefined ? null : join(scratch, `in-${i}`);
      const outDir = join(scratch, `out-${i}`);
      if (inDir !== null) await target.getTree!(batch, inDir);
      const redone: string[] = [];
      for (const file of batch) {
        const enc = inDir !== null ? join(inDir, file) : (target.localPath?.(file) ?? join(scratch, 'in.whenc'));
        if (inDir === null && target.localPath === undefined) await target.get(file, enc);
        const plain = join(scratch, 'plain');
        const out = join(outDir, file);
        try {
          if (keyIdOfFile(enc) === newKey.id) continue;
          mkdirSync(dirname(out), { recursive: true });
          await decryptFile(enc, plain, oldKey, aadOf.get(file)!, file);
          await encryptFile(plain, out, newKey, aadOf.get(file)!);
          redone.push(file);
        } finally {
          rmSync(plain, { force: true });
          if (inDir === null && target.localPath === undefined) rmSync(enc, { force: true });
        }
      }
      if (target.putWith === undefined) await target.putTree(outDir, redone);
      else for (const f of redone) await target.put(join(outDir, f), f);
      files += redone.length;
      rmSync(outDir, { recursive: true, force: true });
      if (inDir !== null) rmSync(inDir, { recursive: true, force: true });
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
