/**
 * Properties of the providers over warehouses synced from the generated sample (issue 11), at two
 * seeds and scales; fast-check picks securities, months and dates (a failure prints its seed):
 * 1. legacy and CIZ monthly total returns agree for every security-month (within 1e-6);
 * 2. a monthly total return equals the month's compounded daily total returns, delisting included;
 * 3. no row is dated outside the market range asked for; no security appears before its first
 *    trade or after its delisting (prices and universe);
 * 4. every merged CRSP–Compustat row has exactly one link in force on its date.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyPrices, mergedPrices, monthlyPrices, universe } from '../../src/providers/index.js';
import { plain } from '../support/crsp-fixture.js';
import { buildSampleWarehouse, type SampleWarehouse } from '../support/sample-warehouse.js';
import { cleanupTempDirs } from '../support/wh-cli.js';

afterAll(cleanupTempDirs);

const DAY_MS = 86_400_000;
const isoOf = (base: string, days: number): string => new Date(Date.parse(`${base}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const lastDay = (d: string): string => new Date(Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)), 0)).toISOString().slice(0, 10);
const FROM = '2015-01-01';
const TO = '2017-12-31';
/** A market date inside the sample (2015-2017) or a little outside it. */
const marketDate = fc.integer({ min: -20, max: 1115 }).map((n) => isoOf(FROM, n));

interface Life { permno: number; first: string; last: string; dlstdt: string | null }

describe.each([
  { seed: 2, scale: 1 },
  { seed: 11, scale: 2 },
])('sample properties (seed $seed, scale $scale)', ({ seed, scale }) => {
  let sw: SampleWarehouse;
  let lives: Life[];
  beforeAll(async () => {
    sw = await buildSampleWarehouse({ seed, scale, fromYear: 2015, toYear: 2017 });
    lives = (await sw.raw(`SELECT CAST(f.permno AS INTEGER) AS permno, CAST(min(f.date) AS VARCHAR) AS first, CAST(max(f.date) AS VARCHAR) AS last,
        CAST(min(d.dlstdt) FILTER (WHERE d.dlstcd <> 100) AS VARCHAR) AS dlstdt
      FROM crsp_dsf f LEFT JOIN crsp_dsedelist d ON d.permno = f.permno GROUP BY 1 ORDER BY 1`)) as unknown as Life[];
  });
  afterAll(() => sw?.close());
  /** Delisted securities are picked as often as the rest. */
  const someLife = (): fc.Arbitrary<Life> => fc.oneof(fc.constantFrom(...lives), fc.constantFrom(...lives.filter((l) => l.dlstdt !== null)));

  it('1. legacy and CIZ monthly total returns agree for every security-month', async () => {
    await fc.assert(
      fc.asyncProperty(someLife(), async (l) => {
        const byMonth = async (format: 'legacy' | 'ciz') =>
          new Map(plain(await monthlyPrices(sw.wh.session, { permnos: [l.permno], start: FROM, end: TO, format })).map((r) => [(r['date'] as string).slice(0, 7), r['total_ret'] as number | null]));
        const legacy = await byMonth('legacy');
        const ciz = await byMonth('ciz');
        for (const m of new Set([...legacy.keys(), ...ciz.keys()])) {
          const a = legacy.get(m) ?? null;
          const b = ciz.get(m) ?? null;
          expect(a === null, `${l.permno} ${m}: legacy ${a}, ciz ${b}`).toBe(b === null);
          if (a !== null && b !== null) expect(Math.abs(a - b), `${l.permno} ${m}`).toBeLessThan(1e-6);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('2. a monthly total return is the month\'s compounded daily total returns, delisting included', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(someLife(), fc.constantFrom('legacy' as const, 'ciz' as const), async (l, format) => {
        const daily = plain(await dailyPrices(sw.wh.session, { permnos: [l.permno], start: FROM, end: TO, format }));
        const gross = new Map<string, number>();
        for (const r of daily) {
          const m = (r['date'] as string).slice(0, 7);
          if (r['total_ret'] !== null) gross.set(m, (gross.get(m) ?? 1) * (1 + (r['total_ret'] as number)));
        }
        const firstMonth = l.first.slice(0, 7);
        for (const r of plain(await monthlyPrices(sw.wh.session, { permnos: [l.permno], start: FROM, end: TO, format }))) {
          const m = (r['date'] as string).slice(0, 7);
          if (r['total_ret'] === null || m === firstMonth) continue;
          // Published returns have 6 decimals: the compounded figure agrees to rounding.
          compared++;
          expect(Math.abs((r['total_ret'] as number) - ((gross.get(m) ?? 1) - 1)), `${format} ${l.permno} ${m}`).toBeLessThan(2e-6);
        }
      }),
      { numRuns: 12 },
    );
    expect(compared).toBeGreaterThan(0);
  });

  it('3. nothing outside the market range; nothing before the first trade or after the delisting', async () => {
    await fc.assert(
      fc.asyncProperty(someLife(), marketDate, fc.integer({ min: 0, max: 200 }), async (l, end, span) => {
        const start = isoOf(end, -span);
        for (const format of ['legacy', 'ciz'] as const) {
          for (const r of plain(await dailyPrices(sw.wh.session, { permnos: [l.permno], start, end, format }))) {
            const d = r['date'] as string;
            expect(d >= start && d <= end, `${d} in ${start}..${end}`).toBe(true);
            expect(d >= l.first).toBe(true);
            if (l.dlstdt !== null) expect(d <= l.dlstdt, `${format} ${l.permno} ${d} after ${l.dlstdt}`).toBe(true);
          }
          for (const r of plain(await monthlyPrices(sw.wh.session, { permnos: [l.permno], start, end, format }))) {
            const d = r['date'] as string;
            expect(d >= start && d <= end).toBe(true);
            expect(d.slice(0, 7) >= l.first.slice(0, 7)).toBe(true);
            if (l.dlstdt !== null) expect(d <= lastDay(l.dlstdt)).toBe(true);
            if (l.dlstdt !== null && d > l.dlstdt) expect(r['price']).toBeNull();
          }
        }
        const byPermno = new Map(lives.map((x) => [x.permno, x]));
        for (const format of ['legacy', 'ciz'] as const) {
          for (const r of plain(await universe(sw.wh.session, end, { format }))) {
            const life = byPermno.get(r['permno'] as number)!;
            expect(life.first <= end, `${r['permno']} before its first trade`).toBe(true);
            if (life.dlstdt !== null) expect(end <= life.dlstdt, `${r['permno']} after its delisting`).toBe(true);
          }
        }
      }),
      { numRuns: 15 },
    );
  });

  it('4. every merged CRSP–Compustat row has exactly one link in force on its date', async () => {
    // The links in force, computed independently: the standard filter, and a link still open on the last
    // trading day (from crsp_dsf) extended through the delisting month.
    const links = (await sw.raw(`WITH lt AS (SELECT CAST(permno AS INTEGER) AS permno, max(CAST(date AS DATE)) AS last FROM crsp_dsf GROUP BY 1),
        dl AS (SELECT CAST(permno AS INTEGER) AS permno, CAST(dlstdt AS DATE) AS dlstdt FROM crsp_dsedelist WHERE dlstcd <> 100)
      SELECT l.gvkey, CAST(l.lpermno AS INTEGER) AS permno, CAST(l.linkdt AS VARCHAR) AS lo,
        CAST(CASE WHEN l.linkenddt IS NULL THEN DATE '9999-12-31' WHEN dl.dlstdt IS NOT NULL AND l.linkenddt >= lt.last THEN greatest(l.linkenddt, last_day(dl.dlstdt)) ELSE l.linkenddt END AS VARCHAR) AS hi
      FROM crsp_ccmxpf_lnkhist l LEFT JOIN lt ON lt.permno = l.lpermno LEFT JOIN dl ON dl.permno = l.lpermno
      WHERE l.linktype IN ('LU', 'LC') AND l.linkprim IN ('P', 'C')`)) as { gvkey: string; permno: number; lo: string; hi: string }[];
    let seen = 0;
    await fc.assert(
      fc.asyncProperty(fc.subarray(lives, { minLength: 1, maxLength: 8 }), marketDate, fc.constantFrom('daily' as const, 'monthly' as const), async (some, end, frequency) => {
        const start = isoOf(end, frequency === 'daily' ? -40 : -400);
        const merged = plain(await mergedPrices(sw.wh.session, { permnos: some.map((l) => l.permno), start, end, frequency }));
        const keys = merged.map((r) => `${r['permno']} ${r['date']}`);
        expect(new Set(keys).size).toBe(keys.length);
        seen += merged.length;
        for (const r of merged) {
          const inForce = links.filter((k) => k.permno === r['permno'] && k.lo <= (r['date'] as string) && (r['date'] as string) <= k.hi);
          expect(inForce.map((k) => k.gvkey), `${r['permno']} ${r['date']}`).toEqual([r['gvkey']]);
        }
      }),
      { numRuns: 12 },
    );
    expect(seen).toBeGreaterThan(0);
  });
});
