/**
 * The architecture is enforced by dependency-cruiser with the rules in .dependency-cruiser.cjs
 * (layers, cycles, deep imports past an index.ts, database drivers outside src/engine). The
 * first test cruises the real tree; the second proves each rule fires, on a small tree that
 * breaks every one of them.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function cruise(cwd: string): Violation[] {
  const r = spawnSync(process.execPath, [depcruise, 'src', 'cli', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.stdout === '') throw new Error(`dependency-cruiser produced no output: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('architecture', () => {
  it('the source tree keeps its layers: no violation of .dependency-cruiser.cjs', () => {
    const violations = cruise(root);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('every rule fires on a tree that breaks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-layers-'));
    scratch.push(dir);
    copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const files: Record<string, string> = {
      'src/log/index.ts': "export * from './up.js';",
      'src/log/up.ts': "import { a } from '../store/index.js';\nexport const up = a;",
      'src/store/index.ts': "export * from './a.js';",
      'src/store/a.ts': 'export const a = 1;',
      'src/sync/index.ts': "export * from './deep.js';\nexport * from './driver.js';",
      'src/sync/deep.ts': "import { a } from '../store/a.js';\nexport const deep = a;",
      'src/sync/driver.ts': "import pg from 'pg';\nexport const driver = pg;",
      'src/query/index.ts': "export * from './cyc-a.js';",
      'src/query/cyc-a.ts': "import { b } from './cyc-b.js';\nexport const a2 = () => b;",
      'src/query/cyc-b.ts': "import { a2 } from './cyc-a.js';\nexport const b = () => a2;",
      'src/dev/index.ts': 'export const dev = 1;',
      'src/index.ts': "export * from './dev/index.js';",
      'cli/main.ts': "import { a } from '../src/store/a.js';\nexport const m = a;",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text + '\n');
    }
    const fired = new Set(cruise(dir).map((v) => v.rule.name));
    for (const rule of ['layer-log', 'no-deep-import', 'no-deep-import-from-top', 'no-circular', 'driver-only-in-engine', 'main-entry-no-dev']) {
      expect(fired, rule).toContain(rule);
    }
  });
});
