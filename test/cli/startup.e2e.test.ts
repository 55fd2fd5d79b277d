/**
 * A thin CLI: `wh --help` loads no command module and no heavy library; `wh query` loads neither
 * zod (the event schemas), apache-arrow, pg nor pino. A loader hook lists every module a real
 * process resolves.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWarehouse } from '../../src/store/index.js';
import { cleanupTempDirs, ensureBuilt, repoRoot, tempDir } from '../support/wh-cli.js';

let hooks: string;
let wh: string;

beforeAll(() => {
  ensureBuilt();
  const dir = tempDir('wh-startup-');
  const resolveHook = join(dir, 'hooks.mjs');
  writeFileSync(resolveHook, "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n");
  hooks = join(dir, 'register.mjs');
  writeFileSync(hooks, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(resolveHook).href)});\n`);
  wh = join(dir, 'wh');
  initWarehouse(wh, 'test');
  return () => cleanupTempDirs();
});

function loaded(args: readonly string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', hooks, join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
}

const packages = (urls: readonly string[]): Set<string> =>
  new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined));

describe('start-up', () => {
  it('wh --help loads commander and no command module', () => {
    const urls = loaded(['--help']);
    expect([...packages(urls)]).toEqual(['commander']);
    expect(urls.filter((u) => u.includes('/dist/cli/') && !/\/(main|commands|version|threadpool)\.js$/.test(u))).toEqual([]);
  });

  it('wh query loads no zod, apache-arrow, pg or pino', () => {
    const p = packages(loaded(['-w', wh, 'query', 'SELECT 42 AS answer']));
    for (const heavy of ['zod', 'apache-arrow', 'pg', 'pg-copy-streams', 'pino']) expect(p.has(heavy), heavy).toBe(false);
    expect(p.has('@duckdb/node-api')).toBe(true);
  });
});
