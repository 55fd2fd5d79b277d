/**
 * WRDS connection settings and the password, resolved the way libpq does: flags, then environment
 * (`WRDS_HOST`, `WRDS_PORT`, `WRDS_DATABASE`, `WRDS_USERNAME`, `WRDS_SSLMODE`), then the warehouse's
 * `wrds.json` (never a password), then defaults (the real WRDS). The password comes only from
 * `PGPASSWORD` or `~/.pgpass`, which must not be readable by group or others.
 * The password is held in a `Secret` whose `toString`/`toJSON` print `***`, so it cannot leak into
 * logs, events or error messages by accident.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { WarehouseError } from '../../log/index.js';

/** A value that refuses to print itself. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(***)';
  }
}

export const sslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

export interface WrdsSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly sslmode: SslMode;
}

export const WRDS_DEFAULTS = { host: 'wrds-pgdata.wharton.upenn.edu', port: 9737, database: 'wrds', sslmode: 'require' as SslMode };

const partialSchema = z.object({
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().min(1).max(65535).optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  sslmode: z.enum(sslModes).optional(),
});
export type PartialWrdsSettings = z.infer<typeof partialSchema>;

/** Settings stored in `<warehouse>/wrds.json` (no password: it is refused there). */
export function readWarehouseSettings(warehouseDir: string): PartialWrdsSettings {
  const p = join(warehouseDir, 'wrds.json');
  if (!existsSync(p)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    throw new WarehouseError('INVALID_ARGUMENT', `${p} is not valid JSON`, { suggestion: 'fix or remove it' });
  }
  if (typeof raw === 'object' && raw !== null && 'password' in raw) {
    throw new WarehouseError('INVALID_ARGUMENT', `${p} contains a password`, {
      suggestion: 'remove it; put the password in ~/.pgpass (mode 0600) or PGPASSWORD',
    });
  }
  const r = partialSchema.strict().safeParse(raw);
  if (!r.success) throw new WarehouseError('INVALID_ARGUMENT', `${p}: ${r.error.issues[0]?.message}`, { suggestion: 'allowed keys: host, port, database, user, sslmode' });
  return r.data;
}

/** Settings from the environment (only cli passes process.env here). */
export function settingsFromEnv(env: Record<string, string | undefined>): PartialWrdsSettings {
  const r = partialSchema.safeParse({
    host: env['WRDS_HOST'],
    port: env['WRDS_PORT'],
    database: env['WRDS_DATABASE'],
    user: env['WRDS_USERNAME'],
    sslmode: env['WRDS_SSLMODE'],
  });
  if (!r.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `invalid WRDS_* environment: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`, {
      suggestion: 'WRDS_PORT is a number; WRDS_SSLMODE one of ' + sslModes.join(', '),
    });
  }
  return r.data;
}

/** Merge layers (earlier wins) over the defaults; a username is required. */
export function resolveSettings(...layers: PartialWrdsSettings[]): WrdsSettings {
  const pick = <K extends keyof PartialWrdsSettings>(k: K) => layers.find((l) => l[k] !== undefined)?.[k];
  const user = pick('user');
  if (user === undefined) {
    throw new WarehouseError('INVALID_ARGUMENT', 'no WRDS username given', {
      suggestion: 'pass --wrds-user, set WRDS_USERNAME, or put "user" in <warehouse>/wrds.json',
    });
  }
  return {
    host: pick('host') ?? WRDS_DEFAULTS.host,
    port: pick('port') ?? WRDS_DEFAULTS.port,
    database: pick('database') ?? WRDS_DEFAULTS.database,
    user,
    sslmode: pick('sslmode') ?? WRDS_DEFAULTS.sslmode,
  };
}

function pgpassFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) cur += line[++i];
    else if (c === ':') (out.push(cur), (cur = ''));
    else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Find the password for `settings` in a .pgpass file (libpq rules: `host:port:db:user:password`,
 * `*` wildcards, `\:` escapes). Refuses a file readable by group or others, as libpq does.
 */
export function passwordFromPgpass(path: string, s: WrdsSettings): Secret | undefined {
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  // /dev/null (a common way to say "no pgpass") and other non-files hold no password: not a permission problem.
  if (!st.isFile()) return undefined;
  const mode = st.mode;
  if ((mode & 0o077) !== 0) {
    throw new WarehouseError('AUTH_FAILED', `${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); refusing to use it`, {
      suggestion: `run: chmod 600 ${path}`,
    });
  }
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = pgpassFields(line);
    if (f.length < 5) continue;
    const [host, port, db, user] = f;
    const match = (pattern: string | undefined, value: string) => pattern === '*' || pattern === value;
    if (match(host, s.host) && match(port, String(s.port)) && match(db, s.database) && match(user, s.user)) return new Secret(f.slice(4).join(':'));
  }
  return undefined;
}

/** The password: `PGPASSWORD`, else the .pgpass entry, else an AUTH_FAILED error saying where to put it. */
export function resolvePassword(s: WrdsSettings, env: Record<string, string | undefined>, home: string): Secret {
  const fromEnv = env['PGPASSWORD'];
  if (fromEnv !== undefined && fromEnv !== '') return new Secret(fromEnv);
  const path = env['PGPASSFILE'] ?? join(home, '.pgpass');
  const found = passwordFromPgpass(path, s);
  if (found !== undefined) return found;
  const line = `"${s.host}:${s.port}:${s.database}:${s.user}:<password>"`;
  // PGPASSFILE=/dev/null (or another non-file) is a deliberate "no pgpass": never suggest editing or chmod-ing it.
  const usable = !existsSync(path) || statSync(path).isFile();
  throw new WarehouseError('AUTH_FAILED', `no password for ${s.user}@${s.host}:${s.port}/${s.database}`, {
    suggestion: usable
      ? `add a line ${line} to ${path} (chmod 600), or set PGPASSWORD`
      : `PGPASSFILE is ${path}, which is not a file: set PGPASSWORD, or point PGPASSFILE at a file (mode 0600) with a line ${line}`,
  });
}
