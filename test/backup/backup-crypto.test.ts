/**
 * The encrypted file format, through the crypt workers (crypt-core.ts): files are read in 8 MiB
 * pieces and fed to the cipher in 64 KiB slices, so the sizes cross slice and piece boundaries
 * (0, 1 byte, 16 MiB exactly, one byte more, 21 MiB + 7). A flipped byte, a wrong name (AAD) or a
 * truncation fails authentication.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptError, ENCRYPTION_OVERHEAD, decryptFile, encryptFile, loadKey, newKeyText } from '../../src/backup/crypto.js';

const dir = mkdtempSync(join(tmpdir(), 'wh-crypto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'key'), newKeyText(), { mode: 0o600 });
const key = loadKey(join(dir, 'key'));
const MiB = 1024 * 1024;

describe('backup file encryption', () => {
  for (const size of [0, 1, 16 * MiB, 16 * MiB + 1, 21 * MiB + 7]) {
    it(`round-trips ${size} bytes and refuses a flipped byte, a wrong name and a truncation`, async () => {
      const plain = join(dir, `p-${size}`);
      const data = randomBytes(size);
      writeFileSync(plain, data);
      const enc = join(dir, `e-${size}`);
      rmSync(enc, { force: true });
      const n = await encryptFile(plain, enc, key, 'wh-object:x');
      expect(n).toBe(size + ENCRYPTION_OVERHEAD);
      expect(statSync(enc).size).toBe(n);
      if (size >= 48) expect(readFileSync(enc).includes(data.subarray(0, 48))).toBe(false);
      const out = join(dir, `o-${size}`);
      const got = await decryptFile(enc, out, key, 'wh-object:x', 'x');
      expect(got).toEqual({ sha256: createHash('sha256').update(data).digest('hex'), bytes: size });
      expect(readFileSync(out).equals(data)).toBe(true);

      await expect(decryptFile(enc, out, key, 'wh-object:y', 'x')).rejects.toBeInstanceOf(DecryptError);
      const bad = readFileSync(enc);
      bad[Math.floor((bad.length + 24) / 2)]! ^= 1;
      writeFileSync(join(dir, 'bad'), bad);
      await expect(decryptFile(join(dir, 'bad'), out, key, 'wh-object:x', 'x')).rejects.toBeInstanceOf(DecryptError);
      writeFileSync(join(dir, 'bad'), readFileSync(enc).subarray(0, n - 1));
      await expect(decryptFile(join(dir, 'bad'), out, key, 'wh-object:x', 'x')).rejects.toBeInstanceOf(DecryptError);
    });
  }
});

describe('crypt workers', () => {
  it('do not keep a process alive once idle, whether they ran a job or were only started', async () => {
    const { spawnSync } = await import('node:child_process');
    const { ensureBuilt, repoRoot } = await import('../support/wh-cli.js');
    ensureBuilt();
    const pool = join(repoRoot, 'dist', 'src', 'backup', 'crypt-pool.js');
    const plain = join(dir, 'idle-plain');
    writeFileSync(plain, randomBytes(1000));
    for (const body of [
      `cryptPool().warm();`,
      `await cryptPool().seal({ src: ${JSON.stringify(plain)}, dest: ${JSON.stringify(join(dir, 'idle-enc'))}, key: new Uint8Array(32), keyId: '0011223344556677', aad: 'x', fsync: false });`,
    ]) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { cryptPool } = await import(${JSON.stringify(pool)}); ${body} console.log('done');`], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, `${body} kept the process alive`).toBeNull();
      expect(r.stdout.trim(), r.stderr).toBe('done');
      expect(r.status).toBe(0);
    }
  });
});
