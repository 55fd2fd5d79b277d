/**
 * Test support for tiers that need the built `wh` binary (`*.e2e.test.ts`, and the integration
 * tests that spawn real writer processes).
 *
 * Build policy: `npm test` runs `tsc` before vitest, so the binary is normally fresh. When a test
 * file is run on its own (`npx vitest run test/cli/cli.e2e.test.ts`), `ensureBuilt()` rebuilds
 * once if `dist/cli/main.js` is missing or older than any `.ts` file under `src/` or `cli/` (or
 * `package.json`). Concurrent test workers serialize the build through a lock directory, so only
 * one `tsc` runs. A compile error is reported on stderr but does not stop the tests when tsc
 * still emitted JavaScript (the default): `npm run build` is where compile errors fail the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI entry point. */
export const whBin = join(repoRoot, 'dist', 'cli', 'main.js');
/** Directory of the test support scripts (plain .mjs, importing from dist/). */
export const supportDir = join(repoRoot, 'test', 'support');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/ is missing or older than a source file. */
export function isBuildStale(): boolean {
  if (!existsSync(whBin)) return true;
  const built = statSync(whBin).mtimeMs;
  const sources = Math.max(
    newestSourceMtime(join(repoRoot, 'src')),
    newestSourceMtime(join(repoRoot, 'cli')),
    statSync(join(repoRoot, 'package.json')).mtimeMs,
  );
  return sources > built;
}

let built = false;

/** Build dist/ once per process if it is missing or stale (see the file comment). */
export function ensureBuilt(): void {
  if (built) return;
  const lock = join(repoRoot, 'dist', '.wh-test-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  while (isBuildStale()) {
    let owner = false;
    try {
      mkdirSync(lock);
      owner = true;
    } catch {
      // Another worker is building: wait for it (a lock older than 2 minutes is abandoned).
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // lock vanished meanwhile
      }
    }
    if (owner) {
      try {
        const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
        const r = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.json')], { cwd: repoRoot, encoding: 'utf8' });
        if (r.status !== 0) {
          process.stderr.write(`[wh-cli] tsc reported errors (JavaScript was still emitted):\n${r.stdout}${r.stderr}\n`);
        }
        if (!existsSync(whBin)) throw new Error(`build failed: ${whBin} missing\n${r.stdout}${r.stderr}`);
        // Mark the build as fresh even if tsc left main.js untouched.
        const now = new Date();
        utimesSync(whBin, now, now);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for another worker to build dist/');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  built = true;
}

/** Environment for children: no database or WRDS credentials, no inherited warehouse. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(PG|WRDS|WH_)/.test(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface WhResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = any>(): T;
  /** stderr's `{"error": ...}` line (with --json). */
  errorJson(): { code: string; message: string; suggestion?: string; details?: Record<string, unknown> };
}

export interface WhOptions {
  /** Passed as `--warehouse <dir>` before the command. */
  readonly warehouse?: string;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export interface WhProcess {
  readonly child: ChildProcess;
  readonly result: Promise<WhResult>;
}

function makeResult(code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): WhResult {
  return {
    code,
    signal,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
    errorJson() {
      const line = stderr.split('\n').find((l) => l.startsWith('{"error"'));
      if (line === undefined) throw new Error(`no JSON error on stderr (exit ${code}):\n${stderr}`);
      return (JSON.parse(line) as { error: ReturnType<WhResult['errorJson']> }).error;
    },
  };
}

/** Start `node dist/cli/main.js [--warehouse dir] ...args` and collect its output. */
export function spawnWh(args: readonly string[], options: WhOptions = {}): WhProcess {
  ensureBuilt();
  return spawnNode(whBin, [...(options.warehouse === undefined ? [] : ['--warehouse', options.warehouse]), ...args], options);
}

/** Start `node <script> ...args` (a support script) with the same capture as `spawnWh`. */
export function spawnNode(script: string, args: readonly string[], options: WhOptions = {}): WhProcess {
  ensureBuilt();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timeout = options.timeoutMs ?? 60_000;
  const result = new Promise<WhResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeout} ms: ${script} ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise(makeResult(code, signal, stdout, stderr));
    });
  });
  return { child, result };
}

/** Run `wh ...args` to completion. */
export function runWh(args: readonly string[], options: WhOptions = {}): Promise<WhResult> {
  return spawnWh(args, options).result;
}

/** A fresh temporary directory; `cleanup()` removes every one made by this process. */
const made: string[] = [];
export function tempDir(prefix = 'wh-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Resolve when `predicate()` is true, polling every `intervalMs`; reject after `timeoutMs`. */
export async function pollUntil(predicate: () => boolean, what: string, timeoutMs = 10_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Read JSON lines a support script prints on stdout, one at a time. */
export function lineReader(child: ChildProcess): (match?: (msg: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>> {
  const queue: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  let ended = false;
  child.stdout!.on('data', (d: Buffer | string) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) {
        queue.push(JSON.parse(line) as Record<string, unknown>);
        waiters.splice(0).forEach((w) => w());
      }
    }
  });
  child.on('close', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
  return async (match = () => true, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex(match);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      if (ended) throw new Error(`process ended before the expected message (seen: ${JSON.stringify(queue)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message (seen: ${JSON.stringify(queue)})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
}
