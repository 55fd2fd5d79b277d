/** wh's version, read from the package.json above this file (works from source and from dist/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let versionCache: string | undefined;

export function whVersion(): string {
  if (versionCache !== undefined) return versionCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wh') return (versionCache = pkg.version ?? '0.0.0');
    }
    dir = dirname(dir);
  }
  return (versionCache = '0.0.0');
}
