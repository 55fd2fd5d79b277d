/**
 * `wh health` end to end: ingest prints the one-line summary, --strict exits 3 on findings,
 * --as-of reads an earlier report, and --html writes a self-contained page that a real headless
 * Chromium loads without console errors, with the expected marks in its plots.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/calendar/index.js';
import { cleanupTempDirs, repoRoot, runWh, tempDir } from '../support/wh-cli.js';

afterAll(() => cleanupTempDirs());

const CHROMIUM = '/usr/bin/chromium';

/** The part of playwright-core this test uses (typed here so the test compiles without the package). */
interface Page {
  on(event: string, fn: (arg: never) => void): void;
  goto(url: string): Promise<unknown>;
  waitForSelector(selector: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  locator(selector: string): { count(): Promise<number> };
  screenshot(options: { path: string; fullPage: boolean }): Promise<unknown>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(dir: string, options: Record<string, unknown>): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }>;
  };
}
const JAN = sessions('2024-01-02', '2024-01-31');

function csv(dir: string, name: string, rows: string[][]): string {
  const f = join(dir, name);
  writeFileSync(f, 'date,symbol,close,adj_close,volume\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
  return f;
}

async function warehouseWithFindings(): Promise<{ wh: string; cleanSeq: number }> {
  const tmp = tempDir('wh-health-e2e-');
  const wh = join(tmp, 'wh');
  expect((await runWh(['init', wh])).code).toBe(0);
  const good = JAN.map((d, i) => [d, 'A', String(50 + i / 10), String(50 + i / 10), '100']);
  const first = await runWh(['ingest', 'px', '--partition', '2024', '--key', 'symbol,date', csv(tmp, 'a.csv', good), '--json'], { warehouse: wh });
  expect(first.code, first.stderr).toBe(0);
  const cleanSeq = first.json().seq as number;
  expect(first.json().health.summary).toMatch(/^health px: 1 partitions \(1 checked\), 21 rows, no findings$/);
  const bad = [
    ...good.filter(([d]) => d !== '2024-01-10'),
    ...JAN.map((d, i) => [d, 'B', String(i >= JAN.indexOf('2024-01-17') ? 3000 + i : 20 + i / 10), String(i >= JAN.indexOf('2024-01-17') ? 3000 + i : 20 + i / 10), '5']),
  ];
  const second = await runWh(['ingest', 'px', '--partition', '2024', csv(tmp, 'b.csv', bad)], { warehouse: wh });
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout, second.stdout).toMatch(/health px: 1 partitions \(1 checked\), 41 rows, 2 findings \(1 missing_sessions, 1 price_jump\)/);
  return { wh, cleanSeq };
}

describe('wh health', () => {
  it('reports, fails under --strict, and reads earlier points', async () => {
    const { wh, cleanSeq } = await warehouseWithFindings();
    const lax = await runWh(['health'], { warehouse: wh });
    expect(lax.code, lax.stderr).toBe(0);
    expect(lax.stdout).toContain('price_jump');
    const strict = await runWh(['health', 'px', '--strict', '--json'], { warehouse: wh });
    expect(strict.code).toBe(3);
    const r = strict.json().reports[0];
    expect(r.findings.map((f: { kind: string }) => f.kind).sort()).toEqual(['missing_sessions', 'price_jump']);
    const before = await runWh(['health', '--as-of', String(cleanSeq + 1), '--strict', '--json'], { warehouse: wh });
    expect(before.code, before.stderr).toBe(0);
    expect(before.json().reports[0].findings).toEqual([]);
    const unknown = await runWh(['health', 'nope'], { warehouse: wh });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no dataset nope');
  });

  it('--html: a self-contained page Chromium renders without errors, with the expected marks', async (ctx) => {
    const chromium = existsSync(CHROMIUM);
    let pw: Playwright | undefined;
    try {
      const name = process.env['WH_PLAYWRIGHT_CORE'] ?? 'playwright-core';
      pw = (await import(name)) as Playwright;
    } catch {
      pw = undefined;
    }
    if (!chromium || pw === undefined) {
      const why = !chromium ? `${CHROMIUM} is missing (apt-get install chromium)` : 'playwright-core is not installed';
      if (process.env['CI'] === 'true') throw new Error(`the health page test needs a browser: ${why}`);
      ctx.skip(why);
      return;
    }
    const { wh } = await warehouseWithFindings();
    const page = join(tempDir('wh-health-page-'), 'health.html');
    const res = await runWh(['health', '--html', page], { warehouse: wh, env: { WH_UPLOT_DIR: process.env['WH_UPLOT_DIR'] } });
    expect(res.code, res.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\s(src|href)=/); // nothing to fetch (the request log below proves it)

    const profile = tempDir('wh-chromium-');
    // A fresh profile (Playwright's user-data-dir), no network chatter, no GPU.
    const browser = await pw.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      tab.on('console', (m: { type(): string; text(): string }) => void (m.type() === 'error' && errors.push(m.text())));
      tab.on('pageerror', (e: Error) => errors.push(e.message));
      tab.on('request', (r: { url(): string }) => void (r.url().startsWith('file:') || requests.push(r.url())));
      await tab.goto(`file://${page}`);
      await tab.waitForSelector('body[data-ready="true"]');
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      // Evaluated in the page (strings: the test's TypeScript has no DOM types).
      const charts = (await tab.evaluate('window.whCharts.map((c) => ({ kind: c.kind, points: c.points, y: c.plot.data[1], x: c.plot.data[0] }))')) as { kind: string; points: number; x: number[]; y: (number | null)[] }[];
      const kinds = charts.map((c) => c.kind).sort();
      expect(kinds).toEqual(['history', 'missing_sessions', 'price_jump', 'rows']);
      const rows = charts.find((c) => c.kind === 'rows')!;
      expect(rows.y).toEqual([41]);
      const missing = charts.find((c) => c.kind === 'missing_sessions')!;
      expect(missing.x).toEqual([Date.parse('2024-01-10T00:00:00Z') / 1000]);
      const jump = charts.find((c) => c.kind === 'price_jump')!;
      expect(jump.points).toBe(11);
      expect(Math.max(...(jump.y as number[])) / Math.min(...(jump.y as number[]))).toBeGreaterThan(100);
      expect(await tab.locator('.uplot canvas').count()).toBe(4);
      // Each canvas holds drawn pixels.
      const drawn = (await tab.evaluate(`[...document.querySelectorAll('.uplot canvas')].map((cv) => {
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      })`)) as number[];
      for (const n of drawn) expect(n).toBeGreaterThan(100);
      if (process.env['WH_SCREENSHOT'] === '1') {
        mkdirSync(join(repoRoot, 'docs', 'images'), { recursive: true });
        await tab.screenshot({ path: join(repoRoot, 'docs', 'images', 'health-report.png'), fullPage: true });
      }
    } finally {
      await browser.close();
    }
  });
});
