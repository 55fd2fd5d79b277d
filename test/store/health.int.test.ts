/**
 * Health checks on hand-made data: each finding kind is triggered by a row written for it, and a
 * clean dataset (including a reverse split the price follows) yields none.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLease, releaseLease, type EventLog, type HealthFinding } from '../../src/log/index.js';
import { openDuck, quoteLiteral, type Duck } from '../../src/engine/index.js';
import { initWarehouse, openWarehouseLog, reportHealth, writePartition } from '../../src/store/index.js';
import { healthAt } from '../../src/projections/index.js';
import { sessions } from '../../src/calendar/index.js';

const columns = [
  { name: 'date', type: 'DATE' },
  { name: 'symbol', type: 'VARCHAR' },
  { name: 'close', type: 'DOUBLE' },
  { name: 'adj_close', type: 'DOUBLE' },
  { name: 'volume', type: 'DOUBLE' },
];
type Row = [string, string, number, number, number | null];

let dir: string;
let log: EventLog;
let duck: Duck;
let n = 0;

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'wh-health-')), 'wh');
  initWarehouse(dir, 'test');
  log = openWarehouseLog(dir);
  duck = await openDuck({ threads: 1 });
});
afterAll(() => {
  duck.close();
  log.close();
});

/** Write `rows` as dataset/partition through the one write path, then report health as a write does. */
async function write(dataset: string, partition: string, rows: readonly Row[]) {
  const csv = join(dir, `in-${++n}.csv`);
  writeFileSync(csv, 'date,symbol,close,adj_close,volume\n' + rows.map((r) => r.map((v) => (v === null ? '' : v)).join(',')).join('\n') + '\n');
  const lease = acquireLease(log, `dataset:${dataset}`);
  const before = log.head().seq;
  try {
    await writePartition(
      { dir, log, duck, lease },
      {
        dataset, partition, columns, key: ['symbol', 'date'], sortKey: ['symbol', 'date'], estimatedBytes: 1000,
        selectSql: `SELECT * FROM read_csv(${quoteLiteral(csv)}, header = true, columns = {'date': 'DATE', 'symbol': 'VARCHAR', 'close': 'DOUBLE', 'adj_close': 'DOUBLE', 'volume': 'DOUBLE'}) ORDER BY symbol, date`,
        lineage: { kind: 'ingest', source: csv, sourceHash: null, sql: null, vintage: null, whVersion: 'test' },
      },
    );
  } finally {
    releaseLease(log, lease);
  }
  return (await reportHealth({ dir, log, duck, dataset, trigger: 'ingest', previousSeq: before }))!;
}

const JAN = sessions('2024-01-02', '2024-01-31');
/** A clean series: a small drift, constant adjustment. */
const clean = (sym: string, base: number, days = JAN): Row[] => days.map((d, i) => [d, sym, base + i * 0.1, base + i * 0.1, 1000 + i]);
const byKind = (fs: readonly HealthFinding[], kind: string) => fs.filter((f) => f.kind === kind);

describe('health report', () => {
  it('a clean dataset, with a 1:200 reverse split the price follows, has no finding', async () => {
    const d = clean('D', 1);
    const split = JAN.indexOf('2024-01-22');
    for (let i = split; i < d.length; i++) d[i] = [d[i]![0], 'D', d[i]![2] * 200, d[i]![2], d[i]![4]]; // close x200; adj_close continuous
    const r = await write('clean', '2024', [...clean('A', 50), ...d]);
    expect(r.findings).toEqual([]);
    expect(r.partitions).toEqual([expect.objectContaining({ partition: '2024', rows: JAN.length * 2, previousRows: null, checked: true })]);
    expect(healthAt(log, undefined, 'clean')[0]?.findings).toEqual([]);
  });

  it('triggers every finding on the data made for it', async () => {
    const a = clean('A', 50).filter(([d]) => d !== '2024-01-10'); // a missing session
    a.push(['2024-01-15', 'A', 55, 55, 1]); // MLK day: not a session
    const b = clean('B', 20);
    for (let i = JAN.indexOf('2024-01-17'); i < b.length; i++) b[i] = [b[i]![0], 'B', b[i]![2] * 150, b[i]![3] * 150, b[i]![4]]; // x150, no split
    const c = clean('C', 80);
    for (let i = JAN.indexOf('2024-01-22'); i < c.length; i++) c[i] = [c[i]![0], 'C', c[i]![2], c[i]![3] * 2, c[i]![4]]; // 2:1 split level, price unmoved
    const e: Row[] = JAN.map((d) => [d, 'E', 7, 7, 10]); // stale
    const dup: Row = ['2024-01-05', 'B', 20.3, 20.3, 1]; // B on 2024-01-05 twice
    const r1 = await write('px', '2024', [...a, ...b, ...c, ...e, dup]);
    const f1 = r1.findings;
    expect(byKind(f1, 'missing_sessions')[0]).toMatchObject({ partition: '2024', count: 1, samples: [{ date: '2024-01-10', missing: 1 }] });
    expect(byKind(f1, 'non_session_dates')[0]).toMatchObject({ count: 1, samples: [{ date: '2024-01-15' }] });
    expect(byKind(f1, 'duplicate_keys')[0]).toMatchObject({ count: 1, samples: [{ symbol: 'B', date: '2024-01-05', copies: 2 }] });
    const jump = byKind(f1, 'price_jump')[0]!;
    expect(jump.samples).toEqual([expect.objectContaining({ id: 'B', date: '2024-01-17' })]);
    expect(jump.windows[0]!.points.length).toBeGreaterThanOrEqual(6);
    expect(jump.windows[0]!.points.map((p) => p[0])).toContain('2024-01-17');
    expect(byKind(f1, 'split_without_move')[0]!.samples).toEqual([expect.objectContaining({ id: 'C', date: '2024-01-22', factor: 2 })]);
    expect(byKind(f1, 'stale_series')[0]!.samples).toEqual([expect.objectContaining({ id: 'E', rows: JAN.length, price: 7 })]);
    expect(byKind(f1, 'rows_decreased')).toEqual([]);
    expect(byKind(f1, 'late_data')).toEqual([]);

    // Version 2: E dropped (rows fall), volume nulled for A (null rate), and A's missing 2024-01-10 arrives late.
    const a2: Row[] = [...clean('A', 50).map(([d, s, c1, c2]) => [d, s, c1, c2, null] as Row)];
    const r2 = await write('px', '2024', [...a2, ...clean('B', 20), ...clean('C', 80)]);
    const f2 = r2.findings;
    expect(r2.partitions[0]).toMatchObject({ previousRows: a.length + b.length + c.length + e.length + 1, rows: JAN.length * 3, checked: true });
    expect(byKind(f2, 'rows_decreased')[0]).toMatchObject({ count: a.length + b.length + c.length + e.length + 1 - JAN.length * 3 });
    expect(byKind(f2, 'null_rate_change')[0]!.samples).toEqual([{ column: 'volume', before: 0, after: 1 / 3 }]);
    expect(byKind(f2, 'late_data')[0]).toMatchObject({ count: 1, samples: [{ symbol: 'A', date: '2024-01-10' }] });
    expect(byKind(f2, 'missing_sessions')).toEqual([]);
    expect(byKind(f2, 'price_jump')).toEqual([]);

    // Another partition's write examines only it; 2024 keeps its findings (carried, not re-checked).
    const r3 = await write('px', '2023', clean('A', 40, sessions('2023-12-01', '2023-12-29')));
    expect(r3.partitions.map((p) => [p.partition, p.checked])).toEqual([['2023', true], ['2024', false]]);
    expect(r3.findings.filter((f) => f.partition === '2024')).toEqual(f2);
    expect(healthAt(log, undefined, 'px')[0]!.reportSeq).toBe(log.head().seq);

    // Examined one partition at a time (bounded memory), every partition re-checked: the same findings, nothing recorded.
    const d22 = sessions('2022-12-01', '2022-12-30');
    await write('px', '2022', d22.map((d, i): Row => [d, 'J', i < 10 ? 5 : 900, i < 10 ? 5 : 900, 1]));
    const head = log.head().seq;
    const all = await reportHealth({ dir, log, duck, dataset: 'px', trigger: 'manual', previousSeq: null, all: true, record: false });
    const one = await reportHealth({ dir, log, duck, dataset: 'px', trigger: 'manual', previousSeq: null, all: true, record: false, groupRows: 1 });
    expect(one!.findings).toEqual(all!.findings);
    expect(all!.findings.map((f) => `${f.partition}:${f.kind}`)).toContain('2022:price_jump');
    expect(all!.partitions.map((p) => p.checked)).toEqual([true, true, true]);
    expect(log.head().seq).toBe(head);
  });

  it('late data: an append or a restatement in place is not late; a row swapped for a late one in the same series is', async () => {
    const feb = sessions('2024-02-01', '2024-02-29');
    const base = [...clean('A', 50, feb), ...clean('B', 20, feb)].filter(([d, sym]) => !(sym === 'B' && d === '2024-02-14'));
    await write('late', '2024', base);
    // One more session for both (an append) and A's values restated in place: same keys up to the last date.
    const next: Row[] = [...base.map(([d, sym, c, a, v]): Row => [d, sym, sym === 'A' ? c + 1 : c, sym === 'A' ? a + 1 : a, v]), ['2024-03-01', 'A', 60, 60, 1], ['2024-03-01', 'B', 30, 30, 1]];
    const r1 = await write('late', '2024', next);
    expect(byKind(r1.findings, 'late_data')).toEqual([]);
    // B's missing 2024-02-14 arrives while its 2024-02-15 disappears: B's row count is unchanged, its keys are not.
    const swapped = next.filter(([d, sym]) => !(sym === 'B' && d === '2024-02-15'));
    swapped.push(['2024-02-14', 'B', 21, 21, 1]);
    const r2 = await write('late', '2024', swapped);
    expect(byKind(r2.findings, 'late_data')[0]).toMatchObject({ count: 1, samples: [{ symbol: 'B', date: '2024-02-14' }] });
  });
});
