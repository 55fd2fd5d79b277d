/**
 * The same TAQ day aggregated again gives the same rows, bit for bit, with DuckDB running on two
 * threads: its parallel sums of doubles meet in whichever order the threads finish, so every
 * floating-point sum and average of the aggregates is exact and order-free (aggregates.ts
 * exactSum / exactAvg). The day is large enough that the NBBO spans several of DuckDB's row groups
 * (about 250,000 rows), which is what lets two threads split one symbol's rows. And the day's
 * symbols cleaned as two batches at once, on two connections, give the rows of one batch.
 */
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../src/engine/index.js';
import { hms, simulateSymbolDay, type TaqSymbol } from '../../src/dev/wrds-sample/index.js';
import { aggregateInBatches, attachRawFiles, carriesNbbo, dailyRv, minuteBars, sessionWindow, spreads, ticks, type RawKind } from '../../src/sync/taq/index.js';

const DAY = '2024-03-15';
const datasets = [minuteBars, dailyRv, spreads];

/**
 * Raw files of the symbols numbered `from` to `to` - 1 in the sync's column order (RAW_COLUMNS), as
 * the COPY writes them (in `dir`; a symbol's rows are the same whichever files hold it).
 */
async function writeDay(dir: string, from: number, to: number): Promise<{ files: Partial<Record<RawKind, string>>; symbols: string[] }> {
  mkdirSync(dir, { recursive: true });
  const kinds = ['ctm', 'cqm', 'nbbo', 'master'] as const;
  const files = Object.fromEntries(kinds.map((k) => [k, join(dir, `${k}.csv`)])) as Record<(typeof kinds)[number], string>;
  const out = Object.fromEntries(kinds.map((k) => [k, createWriteStream(files[k])])) as Record<(typeof kinds)[number], ReturnType<typeof createWriteStream>>;
  const line = (cells: unknown[]) => `${cells.map((c) => (c === null ? '' : String(c))).join(',')}\n`;
  const symbols: string[] = [];
  for (let i = from; i < to; i++) {
    const s: TaqSymbol = { symRoot: `S${String(i).padStart(3, '0')}`, cusip: '000000000', exchcd: i % 3 === 0 ? 3 : 1, open: 20 + i, close: 20.5 + i, vol: 2_000_000 + 10_000 * i, intensity: 3, quoteIntensity: 90 };
    symbols.push(s.symRoot);
    const d = simulateSymbolDay(1, DAY, s);
    const src = s.exchcd === 3 ? 'N' : 'C';
    out.ctm.write(d.trades.map((t) => line([hms(t.t), t.t % 1000, t.ex, s.symRoot, null, t.cond, t.size, t.price, t.corr, t.seq])).join(''));
    out.cqm.write(
      d.quotes.filter((q) => carriesNbbo(src, q.natbbo)).map((q) => line([hms(q.t), q.t % 1000, q.ex, s.symRoot, null, q.bid, q.bidsiz, q.ask, q.asksiz, q.cond, q.seq, q.natbbo, q.cancel, src])).join(''),
    );
    out.nbbo.write(d.nbbo.map((b) => line([hms(b.t), b.t % 1000, s.symRoot, null, 'R', null, b.bid, b.bidsiz * 100, b.ask, b.asksiz * 100])).join(''));
    out.master.write(line([s.symRoot, null]));
  }
  await Promise.all(Object.values(out).map((w) => new Promise<void>((r) => w.end(() => r()))));
  return { files, symbols };
}

let duck: Duck;
let day: Awaited<ReturnType<typeof writeDay>>;
const dir = mkdtempSync(join(tmpdir(), 'wh-taq-det-'));
beforeAll(async () => {
  day = await writeDay(join(dir, 'all'), 0, 90);
  duck = await openDuck({ threads: 2, memoryLimit: '1GB', returnMemory: true });
}, 120_000);
afterAll(() => duck?.close());

describe('TAQ aggregation on two threads', () => {
  it('gives the same rows, bit for bit, every time', async () => {
    const nbbo = await duck.all(`SELECT count(*)::INTEGER AS n FROM read_csv('${day.files.nbbo}')`);
    expect(nbbo.rows[0]!.n).toBeGreaterThan(2 * 122_880);
    const runs = 4;
    for (let r = 0; r < runs; r++) {
      await aggregateInBatches(duck, DAY, sessionWindow('16:00'), datasets, [day], (b, conn) => attachRawFiles(conn, b.files), { partsDir: join(dir, 'parts') });
      for (const d of datasets) await duck.run(`CREATE OR REPLACE TABLE run${r}_${d.name} AS SELECT * FROM acc_${d.name}`);
    }
    for (const d of datasets) {
      const n = (await duck.all(`SELECT count(*)::INTEGER AS n FROM run0_${d.name}`)).rows[0]!.n;
      expect(n).toBeGreaterThanOrEqual(90);
      for (let r = 1; r < runs; r++) {
        const differing = await duck.all(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM run0_${d.name} EXCEPT ALL SELECT * FROM run${r}_${d.name})`);
        expect({ dataset: d.name, run: r, differing: differing.rows[0]!.n }).toEqual({ dataset: d.name, run: r, differing: 0 });
      }
    }
  }, 120_000);

  it('gives the same rows whether the matched trades are stored (with taq_ticks) or computed by their one reader', async () => {
    await aggregateInBatches(duck, DAY, sessionWindow('16:00'), [...datasets, ticks], [day], (b, conn) => attachRawFiles(conn, b.files), { partsDir: join(dir, 'parts-ticks') });
    for (const d of datasets) {
      const differing = await duck.all(
        `SELECT (SELECT count(*) FROM (SELECT * FROM run0_${d.name} EXCEPT ALL SELECT * FROM acc_${d.name}))::INTEGER + (SELECT count(*) FROM (SELECT * FROM acc_${d.name} EXCEPT ALL SELECT * FROM run0_${d.name}))::INTEGER AS n`,
      );
      expect({ dataset: d.name, differing: differing.rows[0]!.n }).toEqual({ dataset: d.name, differing: 0 });
    }
    const t = await duck.all(`SELECT count(*)::INTEGER AS n FROM acc_taq_ticks WHERE kind = 'trade'`);
    expect(t.rows[0]!.n).toBeGreaterThan(0);
  }, 120_000);

  it('gives the same rows when the symbols are cleaned in two batches at once, on two connections', async () => {
    // Each batch's files hold its symbols only, as pullSelect pulls them.
    const two = [await writeDay(join(dir, 'first'), 0, 45), await writeDay(join(dir, 'second'), 45, 90)];
    const run = async (batches: (typeof day)[], atOnce: number, tag: string) => {
      await aggregateInBatches(duck, DAY, sessionWindow('16:00'), datasets, batches, (b, conn) => attachRawFiles(conn, b.files), { partsDir: join(dir, `parts-${tag}`), atOnce });
      for (const d of [...datasets.map((x) => x.name), 'symbols', 'orphans']) await duck.run(`CREATE OR REPLACE TABLE ${tag}_${d} AS SELECT * FROM acc_${d}`);
    };
    await run([day], 1, 'one');
    await run(two, 2, 'two');
    for (const d of [...datasets.map((x) => x.name), 'symbols', 'orphans']) {
      const n = Number((await duck.all(`SELECT count(*)::INTEGER AS n FROM one_${d}`)).rows[0]!.n);
      const differing = await duck.all(
        `SELECT (SELECT count(*) FROM (SELECT * FROM one_${d} EXCEPT ALL SELECT * FROM two_${d}))::INTEGER + (SELECT count(*) FROM (SELECT * FROM two_${d} EXCEPT ALL SELECT * FROM one_${d}))::INTEGER AS n`,
      );
      expect({ d, n: n > 0 || d === 'orphans', differing: differing.rows[0]!.n }).toEqual({ d, n: true, differing: 0 });
    }
  }, 120_000);
});
