/**
 * How a pulled TAQ batch reaches DuckDB (pull-day.ts): the records of the COPY's CSV are counted on
 * the way (quote-aware, whatever the chunking) and agree with what DuckDB reads from the file; the
 * large raw files are attached as views and the small ones as tables, every row as pulled (the
 * source keeps the batch's symbols, taq-sync.int.test.ts); and the batch's relations are dropped
 * whether they are tables or views.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, quoteLiteral, type Duck } from '../../src/engine/index.js';
import { attachRawFiles, CsvRecordCounter, dropRelations } from '../../src/sync/taq/index.js';

/** A field as PostgreSQL's COPY (FORMAT csv) writes it: NULL empty, quoted when it must be. */
const csvField = (v: string | null): string => (v === null ? '' : v === '' || /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

let duck: Duck;
const dir = mkdtempSync(join(tmpdir(), 'wh-taq-pull-'));
beforeAll(async () => {
  duck = await openDuck({ threads: 1 });
});
afterAll(() => duck.close());

describe('CsvRecordCounter', () => {
  it('counts the records DuckDB reads, for any fields and any chunking', async () => {
    const field = fc.option(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', 'é') , maxLength: 6 }), { nil: null });
    let file = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(field, field), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (records, cuts, terminated) => {
        const text = records.map(([a, b]) => `${csvField(a)},${csvField(b)}`).join('\n') + (terminated && records.length > 0 ? '\n' : '');
        const bytes = Buffer.from(text);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        const counter = new CsvRecordCounter();
        let from = 0;
        for (const c of [...at, bytes.length]) {
          counter.feed(bytes.subarray(from, c));
          from = c;
        }
        // A lone record of two NULLs is a bare ',' line: still one record.
        expect(counter.records).toBe(records.length);
        const f = join(dir, `r${file++}.csv`);
        writeFileSync(f, bytes);
        const read = await duck.all(
          `SELECT count(*)::INTEGER AS n FROM read_csv(${quoteLiteral(f)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {'a': 'VARCHAR', 'b': 'VARCHAR'})`,
        );
        expect(read.rows[0]!.n).toBe(records.length);
      }),
      { numRuns: 150 },
    );
  });
});

describe('attachRawFiles and dropRelations', () => {
  it('attaches trades as a view and the master as a table, every pulled row', async () => {
    const ctm = join(dir, 'ctm.csv');
    const master = join(dir, 'master.csv');
    writeFileSync(ctm, ['09:30:00,0,N,AAPL,,@,100,190.5,00,1', '09:30:01,5,N,BRK,B,@,10,410.25,00,2', ''].join('\n'));
    writeFileSync(master, ['AAPL,', 'BRK,B', ''].join('\n'));
    await attachRawFiles(duck, { ctm, master });
    const types = await duck.all(`SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_name IN ('raw_ctm', 'raw_master') ORDER BY 1`);
    expect(types.rows).toEqual([
      { name: 'raw_ctm', type: 'VIEW' },
      { name: 'raw_master', type: 'BASE TABLE' },
    ]);
    const trades = await duck.all(`SELECT sym_root, sym_suffix, price, time_m_nano FROM raw_ctm ORDER BY tr_seqnum`);
    expect(trades.rows).toEqual([
      { sym_root: 'AAPL', sym_suffix: null, price: 190.5, time_m_nano: 0 },
      { sym_root: 'BRK', sym_suffix: 'B', price: 410.25, time_m_nano: 5 },
    ]);
    expect((await duck.all(`SELECT count(*)::INTEGER AS n FROM raw_master`)).rows).toEqual([{ n: 2 }]);
    // A second batch replaces them, whichever kind each was; dropping handles both, and absent names.
    writeFileSync(join(dir, 'ctm2.csv'), '09:30:00,0,N,AAPL,,@,100,190.5,00,1\n');
    await attachRawFiles(duck, { ctm: join(dir, 'ctm2.csv'), master });
    expect((await duck.all(`SELECT count(*)::INTEGER AS n FROM raw_ctm`)).rows).toEqual([{ n: 1 }]);
    await dropRelations(duck, ['raw_ctm', 'raw_master', 'raw_nothing']);
    expect((await duck.all(`SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name LIKE 'raw_%'`)).rows).toEqual([{ n: 0 }]);
  });
});
