/**
 * Progress of `wh backup run` and `wh restore`: a line redrawn in place on stderr when stderr is a
 * terminal, nothing of it (no carriage returns, no escape codes) when the output is piped or --json.
 * The terminal is a real pseudo-terminal made by util-linux's `script`; skipped with the reason when
 * `script` is missing, failing under CI=true.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, cleanupTempDirs, ensureBuilt, runWh, tempDir, whBin } from '../support/wh-cli.js';
import { keyFile, sampleWarehouse } from '../backup/backup-fixture.js';

afterAll(cleanupTempDirs);

const haveScript = spawnSync('script', ['--version']).status === 0;
if (!haveScript && process.env['CI'] === 'true') throw new Error('`script` (util-linux) is required under CI=true (apt-get install -y util-linux)');

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run `wh ...args` with stdout and stderr on a pseudo-terminal; resolves with everything it printed. */
function runWhOnTty(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  ensureBuilt();
  const command = [process.execPath, whBin, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${command}\n${output}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const ESC = '\x1b';

describe.skipIf(!haveScript)('backup progress (skipped: `script` from util-linux is not installed)', () => {
  it('is shown on a terminal, redrawn in place, and absent from piped and --json output', async () => {
    const dir = await sampleWarehouse(4, 300);
    const target = join(tempDir('wh-prog-tgt-'), 'nas');
    expect((await runWh(['backup', 'add', 'nas', target, '--key-file', keyFile()], { warehouse: dir })).code).toBe(0);

    const tty = await runWhOnTty(['--warehouse', dir, 'backup', 'run', 'nas']);
    expect(tty.code, tty.output).toBe(0);
    // One line, redrawn: a carriage return, the counts, then erase-to-end-of-line.
    expect(tty.output).toMatch(/\rnas: objects \d+\/4 objects, [\d.]+ \w*B\x1b\[K/);
    expect(tty.output).toContain(`\rnas: objects 4/4 objects`);
    expect(tty.output).toMatch(/\rnas: manifest \d+\/4 objects/);
    // The line is cleared before the summary is printed.
    expect(tty.output).toMatch(/\r\x1b\[K[^\r]*nas: backup \S+ at seq \d+: 4 objects, 4 uploaded/);

    // Piped: the summary only.
    const piped = await runWh(['backup', 'run', 'nas'], { warehouse: dir });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^nas: backup \S+ at seq \d+: 4 objects, 0 uploaded/);
    for (const text of [piped.stdout, piped.stderr]) {
      expect(text).not.toContain(ESC);
      expect(text).not.toContain('\r');
      expect(text).not.toContain('objects 0/');
    }
    const json = await runWh(['backup', 'run', 'nas', '--json'], { warehouse: dir });
    expect(json.code).toBe(0);
    expect(json.json()[0]).toMatchObject({ name: 'nas', objects: 4, uploadedObjects: 0 });
    for (const text of [json.stdout, json.stderr]) {
      expect(text).not.toContain(ESC);
      expect(text).not.toContain('\r');
    }

    // wh restore: the same on a terminal, and nothing of it when piped.
    const out = join(tempDir('wh-prog-r-'), 'wh');
    const restore = await runWhOnTty(['--warehouse', dir, 'restore', 'nas', out]);
    expect(restore.code, restore.output).toBe(0);
    expect(restore.output).toMatch(/\rrestoring 1\/4 objects\x1b\[K/);
    expect(restore.output).toContain('\rrestoring 4/4 objects');
    const out2 = join(tempDir('wh-prog-r-'), 'wh');
    const quiet = await runWh(['restore', 'nas', out2, '--json'], { warehouse: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.json()).toMatchObject({ objects: 4, fetched: 4 });
    for (const text of [quiet.stdout, quiet.stderr]) {
      expect(text).not.toContain(ESC);
      expect(text).not.toContain('restoring 1/4');
    }
  }, 120_000);
});
