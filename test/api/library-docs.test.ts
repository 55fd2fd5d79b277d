/**
 * docs/library.md is executable documentation: each ```ts block is compiled with tsc against the
 * built package (imported as `wh`, the package's self-reference) and run, in order, on a fresh
 * warehouse. A signature change that breaks an example fails here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/wh-cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the package, so `import ... from 'wh'` resolves to this package (self-reference).
const work = join(root, '.wh-tmp', `library-docs-${process.pid}`);

function examples(): string[] {
  const md = readFileSync(join(root, 'docs', 'library.md'), 'utf8');
  return [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function csv(year: number): string {
  const lines = ['permno,date,prc,ret'];
  for (const permno of [10001, 10002]) {
    for (let d = 2; d <= 5; d++) lines.push(`${permno},${year}-01-0${d},${(permno % 100) + d},${((d - 3) / 100).toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

beforeAll(() => {
  ensureBuilt();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'prices-2023.csv'), csv(2023));
  writeFileSync(join(work, 'prices-2024.csv'), csv(2024));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('docs/library.md', () => {
  it('every example compiles against the package types and runs', () => {
    const blocks = examples();
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    blocks.forEach((code, i) => writeFileSync(join(work, `example-${i + 1}.ts`), code));
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, skipLibCheck: true, types: ['node'], outDir: 'out', rootDir: '.' },
        include: ['example-*.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(work, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr, 'the examples must type-check').toBe('');

    const env = { ...process.env, WH_WAREHOUSE: join(work, 'wh') };
    const out: string[] = [];
    blocks.forEach((_code, i) => {
      const r = spawnSync(process.execPath, [join(work, 'out', `example-${i + 1}.js`)], { encoding: 'utf8', env, cwd: work });
      expect(r.status, `example ${i + 1}: ${r.stderr}`).toBe(0);
      out.push(r.stdout);
    });
    // What the examples print is what the warehouse holds.
    expect(out[0]).toContain('2023 written 8');
    expect(out[0]).toMatch(/tagged paper-v1 at seq \d+ \[ \[ 'backtest-2024-07' \] \]/);
    expect(out[1]).toContain("{ permno: 10001, n: 8");
    expect(out[1]).toContain("8 [ 'date', 'ret' ]");
    expect(out[1]).toContain('prices: 16 rows');
    expect(out[2]).toMatch(/2023 [0-9a-f]{12} ingest \d+/);
    expect(out[2]).toContain('verified');
    expect(out[3]).toContain('UNKNOWN_TAG');
  });
});
