/**
 * The series pass streams rows in stored order when they are in (series, date) order and falls
 * back to a sorted pass otherwise: the same data stored symbol-major and date-major yields the same
 * findings (jump, split, stale, missing session, duplicate key).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireLease, releaseLease, type EventLog } from '../../src/log/index.js';
import { openDuck, quoteLiteral, type Duck } from '../../src/engine/index.js';
import { initWarehouse, openWarehouseLog, reportHealth, writePartition } from '../../src/store/index.js';
import { sessions } from '../../src/calendar/index.js';

const columns = [
  { name: 'date', type: 'DATE' },
  { name: 'symbol', type: 'VARCHAR' },
  { name: 'close', type: 'DOUBLE' },
  { name: 'adj_close', type: 'DOUBLE' },
];
let dir: string;
let log: EventLog;
let duck: Duck;

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'wh-health-order-')), 'wh');
  initWarehouse(dir, 'test');
  log = openWarehouseLog(dir);
  duck = await openDuck({ threads: 1 });
});
afterAll(() => {
  duck.close();
  log.close();
});

const JAN = sessions('2024-01-02', '2024-01-31');
const rows: string[] = [];
for (const [s, base] of [['A', 50], ['B', 20], ['C', 80], ['E', 7]] as const) {
  JAN.forEach((d, i) => {
    if (s === 'A' && d === '2024-01-10') return; // a missing session
    const close = s === 'E' ? 7 : s === 'B' && d >= '2024-01-17' ? (base + i * 0.1) * 150 : base + i * 0.1;
    const adj = s === 'C' && d >= '2024-01-22' ? close * 2 : s === 'E' ? 7 : close;
    rows.push(`${d},${s},${close},${adj}`);
  });
}
rows.push('2024-01-05,B,20.3,20.3'); // a duplicate key

async function write(dataset: string, order: string): Promise<string[]> {
  const csv = join(dir, `${dataset}.csv`);
  writeFileSync(csv, 'date,symbol,close,adj_close\n' + rows.join('\n') + '\n');
  const lease = acquireLease(log, `dataset:${dataset}`);
  const before = log.head().seq;
  try {
    await writePartition({ dir, log, duck, lease }, {
      dataset, partition: '2024', columns, key: ['symbol', 'date'], sortKey: [], estimatedBytes: 1000,
      selectSql: `SELECT * FROM read_csv(${quoteLiteral(csv)}, header = true, columns = {'date': 'DATE', 'symbol': 'VARCHAR', 'close': 'DOUBLE', 'adj_close': 'DOUBLE'}) ORDER BY ${order}`,
      lineage: { kind: 'ingest', source: csv, sourceHash: null, sql: null, vintage: null, whVersion: 'test' },
    });
  } finally {
    releaseLease(log, lease);
  }
  const r = await reportHealth({ dir, log, duck, dataset, trigger: 'ingest', previousSeq: before });
  return r!.findings.map((f) => `${f.kind}:${f.count}:${JSON.stringify(f.samples.slice(0, 3))}`);
}

it('finds the same in rows stored in (series, date) order (streaming) and in date order (sorted fallback)', async () => {
  const streamed = await write('by_symbol', 'symbol, date');
  const sorted = await write('by_date', 'date DESC, symbol DESC');
  expect(streamed.map((f) => f.split(':')[0]).sort()).toEqual(['duplicate_keys', 'missing_sessions', 'price_jump', 'split_without_move', 'stale_series']);
  expect(sorted).toEqual(streamed);
});

it('duplicates on a (symbol, date) key beside a series column: found in stored order, the same as by the query a file out of order gets', async () => {
  const cols = [...columns, { name: 'series', type: 'VARCHAR' }];
  const csv = join(dir, 'with-series.csv');
  // Ticker S is two securities in January (the series changes on 2024-01-16); 2024-01-05 and 2024-01-22 are duplicated.
  const lines = JAN.map((d) => `${d},S,10,10,${d < '2024-01-16' ? 'p:1' : 'p:2'}`);
  lines.push('2024-01-05,S,10.1,10.1,p:1', '2024-01-22,S,10,10,p:2', '2024-01-22,S,10,10,p:2');
  writeFileSync(csv, 'date,symbol,close,adj_close,series\n' + lines.join('\n') + '\n');
  const report = async (dataset: string, order: string) => {
    const lease = acquireLease(log, `dataset:${dataset}`);
    const before = log.head().seq;
    try {
      await writePartition({ dir, log, duck, lease }, {
        dataset, partition: '2024', columns: cols, key: ['symbol', 'date'], sortKey: [], estimatedBytes: 1000,
        selectSql: `SELECT * FROM read_csv(${quoteLiteral(csv)}, header = true, columns = {'date': 'DATE', 'symbol': 'VARCHAR', 'close': 'DOUBLE', 'adj_close': 'DOUBLE', 'series': 'VARCHAR'}) ORDER BY ${order}`,
        lineage: { kind: 'ingest', source: csv, sourceHash: null, sql: null, vintage: null, whVersion: 'test' },
      });
    } finally {
      releaseLease(log, lease);
    }
    return (await reportHealth({ dir, log, duck, dataset, trigger: 'ingest', previousSeq: before }))!.findings.filter((f) => f.kind === 'duplicate_keys');
  };
  const adjacent = await report('dup_by_key', 'symbol, date');
  const queried = await report('dup_by_date', 'date DESC');
  expect(adjacent).toEqual([expect.objectContaining({ count: 3, samples: [{ symbol: 'S', date: '2024-01-22', copies: 3 }, { symbol: 'S', date: '2024-01-05', copies: 2 }] })]);
  expect(queried).toEqual(adjacent);
});
