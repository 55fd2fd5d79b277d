/**
 * Properties of the providers over real warehouses (fast-check; a failure prints its seed):
 * 1. No look-ahead: no provider returns a row whose availability date is after the market date.
 * 2. Bitemporal reproducibility: the same query at the same warehouse point returns identical
 *    bytes (Arrow IPC) before and after a later ingest.
 * 3. Survivorship: every security with a row on d and a names record passing the screen on d is in
 *    universe(d), and every member of universe(d) is listed on d.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { tableToIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextSession, sessions } from '../../src/calendar/index.js';
import { initWarehouse, openWarehouseLog } from '../../src/store/index.js';
import { openWarehouse, type Warehouse, type WarehouseSession } from '../../src/query/index.js';
import { annual, dailyPrices, linkAsOf, monthlyPrices, quarterly, tickerToPermno, universe } from '../../src/providers/index.js';
import { DSF_HEADER, G, P, SECURITIES, buildCrspFixture, dsfCsvRow, dailyRows, ingestCsv, plain, writeCsv, type CrspFixture } from '../support/crsp-fixture.js';
import { cleanupTempDirs, tempDir } from '../support/wh-cli.js';

const DAY_MS = 86_400_000;
const isoOf = (base: string, days: number): string => new Date(Date.parse(`${base}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
/** A market date between 2019-06-01 and 2021-06-30. */
const marketDate = fc.integer({ min: 0, max: 760 }).map((n) => isoOf('2019-06-01', n));
const permnos = Object.values(P);

afterAll(cleanupTempDirs);

describe('no look-ahead', () => {
  let fx: CrspFixture;
  let wh: Warehouse;
  beforeAll(async () => {
    fx = await buildCrspFixture();
    wh = await openWarehouse(fx.dir);
  });
  afterAll(() => {
    wh?.close();
    fx?.close();
  });

  it('fundamentals: available_date <= asOfDate, computed by the rule', async () => {
    await fc.assert(
      fc.asyncProperty(marketDate, fc.integer({ min: 0, max: 400 }), async (d, lag) => {
        for (const r of plain(await annual(wh.session, { asOfDate: d, lagDays: lag }))) {
          expect(r['available_date'] as string <= d).toBe(true);
          expect(r['available_date']).toBe(isoOf(r['datadate'] as string, lag));
        }
        for (const r of plain(await quarterly(wh.session, { asOfDate: d, lagDays: lag }))) {
          expect(r['available_date'] as string <= d).toBe(true);
          expect(r['available_date']).toBe(r['rdq'] === null ? isoOf(r['datadate'] as string, lag) : nextSession(r['rdq'] as string));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('universe, links, ticker lookup and prices: nothing after the market date', async () => {
    await fc.assert(
      fc.asyncProperty(marketDate, fc.subarray(permnos, { minLength: 1 }), fc.integer({ min: 0, max: 120 }), async (d, some, span) => {
        for (const r of plain(await universe(wh.session, d))) {
          expect(r['namedt'] as string <= d).toBe(true);
          const first = dailyRows(SECURITIES.find((s) => s.permno === r['permno'])!)[0]!.date;
          expect(first <= d).toBe(true);
        }
        for (const r of plain(await linkAsOf(wh.session, d))) expect(r['linkdt'] as string <= d).toBe(true);
        const permno = await tickerToPermno(wh.session, 'OLD', d);
        if (permno !== null) {
          const spell = SECURITIES.find((s) => s.permno === permno)!.names.find((n) => n.ticker === 'OLD')!;
          expect(spell.namedt <= d && d <= spell.nameendt).toBe(true);
        }
        const start = isoOf(d, -span);
        for (const fn of [dailyPrices, monthlyPrices]) {
          for (const r of plain(await fn(wh.session, { permnos: some, start, end: d }))) {
            expect(r['date'] as string <= d).toBe(true);
            expect(r['date'] as string >= start).toBe(true);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('bitemporal reproducibility', () => {
  let fx: CrspFixture;
  beforeAll(async () => {
    fx = await buildCrspFixture();
  });
  afterAll(() => fx?.close());

  type Query = (s: WarehouseSession) => Promise<Table>;
  const query: fc.Arbitrary<Query> = fc.oneof(
    fc.tuple(fc.subarray(permnos, { minLength: 1 }), marketDate).map(([p, d]): Query => (s) => dailyPrices(s, { permnos: p, start: '2019-12-01', end: d < '2019-12-01' ? '2019-12-01' : d })),
    fc.tuple(marketDate, fc.constantFrom('legacy' as const, 'ciz' as const)).map(([d, format]): Query => (s) => universe(s, d, { format })),
    fc.tuple(marketDate, fc.integer({ min: 0, max: 200 })).map(([d, lagDays]): Query => (s) => quarterly(s, { asOfDate: d, lagDays })),
    fc.tuple(marketDate, fc.boolean()).map(([d, latest]): Query => (s) => annual(s, { asOfDate: d, latest })),
    marketDate.map((d): Query => (s) => linkAsOf(s, d)),
  );

  /** A later pull: restated prices for 2020, a restated fundq, or a names history with a new ticker. */
  const laterIngest = fc.record({ kind: fc.constantFrom('dsf', 'fundq', 'names'), factor: fc.double({ min: 0.5, max: 2, noNaN: true }), n: fc.nat() });

  async function ipcAt(seq: number, q: Query): Promise<Uint8Array> {
    const w = await openWarehouse(fx.dir, { asOf: String(seq) });
    try {
      return tableToIPC(await q(w.session));
    } finally {
      w.close();
    }
  }

  it('the same query at the same point returns identical Arrow IPC bytes after a later ingest', async () => {
    await fc.assert(
      fc.asyncProperty(query, laterIngest, async (q, later) => {
        const seq = fx.log.head().seq;
        const before = await ipcAt(seq, q);
        const f = `later-${later.kind}-${later.n}.csv`;
        if (later.kind === 'dsf') {
          const rows = SECURITIES.flatMap(dailyRows).filter((r) => r.date.startsWith('2020'));
          const csv = writeCsv(fx.files, f, DSF_HEADER, rows.map((r) => dsfCsvRow({ ...r, prc: r.prc === null ? null : r.prc * later.factor })));
          await ingestCsv(fx.dir, fx.log, 'crsp_dsf', '2020', csv, ['permno', 'date']);
        } else if (later.kind === 'fundq') {
          const csv = writeCsv(fx.files, f, ['gvkey', 'datadate', 'fyearq', 'fqtr', 'fyr', 'rdq', 'indfmt', 'consol', 'popsrc', 'datafmt', 'tic', 'conm', 'atq', 'niq'], [
            [G.BASE, '2019-12-31', '2019.0', '4.0', '12.0', '2019-12-30', 'INDL', 'C', 'D', 'STD', 'NEG', 'X', (100 * later.factor).toFixed(3), (later.n % 1000).toFixed(1)],
          ]);
          await ingestCsv(fx.dir, fx.log, 'comp_fundq', 'all', csv);
        } else {
          const names = SECURITIES.flatMap((s) => s.names.map((n) => [s.permno, n.namedt, n.nameendt, n.shrcd === 11 ? 10 : 11, n.exchcd, `${n.ticker}${later.n % 10}`, 'X', s.permno]));
          await ingestCsv(fx.dir, fx.log, 'crsp_dsenames', 'all', writeCsv(fx.files, f, ['permno', 'namedt', 'nameendt', 'shrcd', 'exchcd', 'ticker', 'comnam', 'permco'], names), ['permno', 'namedt']);
        }
        expect(fx.log.head().seq).toBeGreaterThan(seq);
        const after = await ipcAt(seq, q);
        expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
      }),
      { numRuns: 8 },
    );
  }, 300_000);
});

describe('survivorship', () => {
  const WINDOW = sessions('2020-01-02', '2020-03-31');
  const secArb = fc.record({
    first: fc.nat({ max: WINDOW.length - 1 }),
    len: fc.integer({ min: 1, max: WINDOW.length }),
    switchAt: fc.option(fc.nat({ max: WINDOW.length - 1 }), { nil: undefined }),
    codes: fc.array(fc.tuple(fc.constantFrom(10, 11, 12, 31), fc.constantFrom(1, 2, 3, 4)), { minLength: 2, maxLength: 2 }),
    delisted: fc.boolean(),
    holes: fc.uniqueArray(fc.nat({ max: WINDOW.length - 1 }), { maxLength: 5 }),
    namesEarly: fc.nat({ max: 10 }),
  });

  it('universe(d) holds exactly the securities listed on d that pass the screen', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(secArb, { minLength: 1, maxLength: 6 }), fc.uniqueArray(fc.nat({ max: WINDOW.length - 1 }), { minLength: 1, maxLength: 4 }), async (secs, dayIdx) => {
        const root = tempDir('wh-surv-');
        const dir = join(root, 'wh');
        initWarehouse(dir, 'test');
        const log = openWarehouseLog(dir);
        try {
          const dsf: (string | number | null)[][] = [];
          const names: (string | number | null)[][] = [];
          const delist: (string | number | null)[][] = [];
          const model = secs.map((s, i) => {
            const permno = 20000 + i;
            const lastIdx = Math.min(WINDOW.length - 1, s.first + s.len - 1);
            const days = WINDOW.slice(s.first, lastIdx + 1);
            const rowDays = days.filter((_, k) => k === 0 || !s.holes.includes(s.first + k)); // vendor gaps, never the first day
            rowDays.forEach((d, k) => dsf.push([permno, d, (10 + k / 10).toFixed(2), '0.010000']));
            // The names history may start before the first trade (namesEarly sessions).
            const start = isoOf(days[0]!, -s.namesEarly);
            const end = s.delisted ? days.at(-1)! : '2020-03-31';
            const cut = s.switchAt !== undefined && s.switchAt > s.first && s.switchAt <= lastIdx ? WINDOW[s.switchAt]! : undefined;
            const spells = cut === undefined ? [[start, end, ...s.codes[0]!]] : [[start, isoOf(cut, -1), ...s.codes[0]!], [cut, end, ...s.codes[1]!]];
            spells.forEach(([a, b, shrcd, exchcd]) => names.push([permno, a!, b!, shrcd!, exchcd!, `T${i}`, `FIRM ${i}`, permno + 1000]));
            const dlstdt = s.delisted ? (lastIdx + 1 < WINDOW.length ? WINDOW[lastIdx + 1]! : '2020-04-01') : '2020-03-31';
            delist.push([permno, dlstdt, s.delisted ? 231 : 100]);
            return { permno, rowDays: new Set(rowDays), firstDay: rowDays[0]!, spells, dlstdt, delisted: s.delisted };
          });
          const files = join(root, 'csv');
          await ingestCsv(dir, log, 'crsp_dsf', '2020', writeCsv(files, 'dsf.csv', ['permno', 'date', 'prc', 'ret'], dsf), ['permno', 'date']);
          await ingestCsv(dir, log, 'crsp_dsenames', 'all', writeCsv(files, 'names.csv', ['permno', 'namedt', 'nameendt', 'shrcd', 'exchcd', 'ticker', 'comnam', 'permco'], names), ['permno', 'namedt']);
          await ingestCsv(dir, log, 'crsp_dsedelist', 'all', writeCsv(files, 'delist.csv', ['permno', 'dlstdt', 'dlstcd'], delist), ['permno', 'dlstdt']);
          const wh = await openWarehouse(dir);
          try {
            for (const d of dayIdx.map((k) => WINDOW[k]!)) {
              const got = plain(await universe(wh.session, d)).map((r) => r['permno']);
              const screened = (m: (typeof model)[number]) => m.spells.some(([a, b, shrcd, exchcd]) => (a as string) <= d && d <= (b as string) && [10, 11].includes(shrcd as number) && [1, 2, 3].includes(exchcd as number));
              // Every security with a row on d and a names record passing the screen is in the universe.
              for (const m of model) if (m.rowDays.has(d) && screened(m)) expect(got).toContain(m.permno);
              // Every member is listed on d: screened, traded on or before d, not delisted before d.
              for (const p of got) {
                const m = model.find((x) => x.permno === p)!;
                expect(screened(m) && m.firstDay <= d && !(m.delisted && m.dlstdt < d)).toBe(true);
              }
            }
          } finally {
            wh.close();
          }
        } finally {
          log.close();
        }
      }),
      { numRuns: 8 },
    );
  }, 300_000);
});
