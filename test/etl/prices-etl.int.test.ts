/**
 * `runPricesEtl` over a real warehouse whose Yahoo-shaped source dataset is ingested from hand-made
 * CSV files: partitions by year, incremental per symbol across a year boundary, a rerun writes no
 * event, incremental equals a full build (same object hashes), newest wins on overlap, ENOSPC
 * during a merge loses nothing and the next run resumes, readers keep their state during a merge.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initWarehouse, openWarehouseLog, verifyWarehouse } from '../../src/store/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { openWarehouse } from '../../src/query/index.js';
import { runPricesEtl, unfinishedRun, type PricesEtlOptions } from '../../src/etl/index.js';
import { sessions } from '../../src/calendar/index.js';
import type { EventLog } from '../../src/log/index.js';

const DAYS = sessions('2022-12-01', '2024-01-31');
const price = (s: number, i: number) => Number((10 + s * 5 + Math.sin(i / 7 + s) * 2).toFixed(4));

/** Yahoo-shaped rows of `symbols` through `last`, with optional overrides of close by `symbol date`. */
function yahooCsv(file: string, symbols: readonly string[], last: string, override: Record<string, number> = {}): string {
  let out = 'date,symbol,open,high,low,close,adjclose,volume\n';
  symbols.forEach((sym, s) => DAYS.filter((d) => d <= last).forEach((d, i) => {
    const p = override[`${sym} ${d}`] ?? price(s, i);
    out += `${d},${sym},${p},${p + 1},${p - 1},${p},${p},${1000 + i}\n`;
  }));
  writeFileSync(file, out);
  return file;
}

const opened: EventLog[] = [];
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
});

async function warehouse(last: string, override: Record<string, number> = {}) {
  const dir = join(mkdtempSync(join(tmpdir(), 'wh-etl-')), 'wh');
  initWarehouse(dir, 'test');
  const log = openWarehouseLog(dir);
  opened.push(log);
  const source = async (upTo: string, ov: Record<string, number> = override) =>
    ingestFile({ dir, log, dataset: 'yahoo_daily', partition: 'all', key: ['symbol', 'date'], file: yahooCsv(join(dir, '..', `y-${upTo}.csv`), ['AAA', 'BBB', 'CCC'], upTo, ov), whVersion: 'test' });
  await source(last);
  const etl = (extra: Partial<PricesEtlOptions> = {}) => runPricesEtl({ dir, log, symbols: ['AAA', 'BBB', 'CCC'], start: '2022-12-01', end: '2024-01-31', source: 'yahoo', whVersion: 'test', ...extra });
  const objects = () => Object.fromEntries(manifestAt(log, undefined, 'prices_daily').map((m) => [m.partition, m.object]));
  return { dir, log, source, etl, objects };
}

describe('wh etl prices', () => {
  it('builds year partitions with identity and provider; a rerun writes no event; incremental equals a full build', async () => {
    const w = await warehouse('2023-12-15');
    const r1 = await w.etl({ symbols: ['AAA', 'BBB', 'CCC', 'ZZZ'] });
    expect(r1.status).toBe('written');
    expect(r1.unserved).toEqual(['ZZZ']);
    expect(r1.partitions.map((p) => [p.partition, p.status])).toEqual([['2022', 'written'], ['2023', 'written']]);
    expect(r1.health?.trigger).toBe('etl');
    const wh = await openWarehouse(w.dir);
    try {
      const rows = await wh.rows(`SELECT count(*)::INT AS n, count(DISTINCT provider)::INT AS providers, min(provider) AS provider, count(*) FILTER (WHERE series = symbol)::INT AS series_ok, CAST(max(date) AS VARCHAR) AS last FROM prices_daily`);
      expect(rows[0]).toEqual({ n: 3 * DAYS.filter((d) => d <= '2023-12-15').length, providers: 1, provider: 'yahoo', series_ok: rows[0]!['n'], last: '2023-12-15' });
    } finally {
      wh.close();
    }

    // A rerun with the same inputs: no event at all, same objects.
    const head = w.log.head().seq;
    const before = w.objects();
    const again = await w.etl();
    expect(again.status).toBe('unchanged');
    expect(w.log.head().seq).toBe(head);
    expect(w.objects()).toEqual(before);

    // New days across the year boundary: only those are fetched; 2022 untouched; one merge per year.
    await w.source('2024-01-31');
    const r2 = await w.etl();
    expect(r2.fetches).toBe(1);
    expect(r2.fetchedRows).toBe(3 * DAYS.filter((d) => d > '2023-12-15').length);
    expect(r2.partitions.map((p) => [p.partition, p.status])).toEqual([['2023', 'written'], ['2024', 'written']]);
    expect(w.objects()['2022']).toBe(before['2022']);
    const written = w.log.read({ fromSeq: head + 1, types: ['PartitionWritten'] });
    expect(written.flatMap((e) => (e.type === 'PartitionWritten' && e.data.dataset === 'prices_daily' ? [e.data.partition] : []))).toEqual(['2023', '2024']);

    // The same data built in one run into a fresh warehouse: identical objects.
    const full = await warehouse('2024-01-31');
    await full.etl();
    expect(full.objects()).toEqual(w.objects());
    expect((await verifyWarehouse(w.dir, w.log)).ok).toBe(true);
  });

  it('ENOSPC during a merge loses nothing; the next run resumes the unfinished one and newest rows win', async () => {
    const w = await warehouse('2024-01-31');
    let writes = 0;
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await expect(w.etl({ onStep: (step) => { if (step === 'temp-written' && ++writes === 2) throw enospc; } })).rejects.toMatchObject({ code: 'DISK_FULL' });
    // 2022 committed, 2023 not: the run is recorded as unfinished.
    expect(Object.keys(w.objects())).toEqual(['2022']);
    expect(unfinishedRun(w.log, 'prices_daily')).toMatchObject({ start: '2022-12-01', end: '2024-01-31' });

    // Meanwhile the source corrected a 2022 close: the resumed run re-fetches the unfinished range; the newest row wins.
    await w.source('2024-01-31', { 'AAA 2022-12-05': 99.5 });
    const resumed = await w.etl({ symbols: ['AAA'], start: '2024-01-31', end: '2024-01-31' });
    expect(resumed.resumedRun).not.toBeNull();
    expect(unfinishedRun(w.log, 'prices_daily')).toBeNull();
    const ref = await warehouse('2024-01-31', { 'AAA 2022-12-05': 99.5 });
    await ref.etl();
    expect(w.objects()).toEqual(ref.objects());
    expect((await verifyWarehouse(w.dir, w.log)).ok).toBe(true);
  });

  it('a reader opened before a merge keeps reading its state; a new reader sees the merge', async () => {
    const w = await warehouse('2023-06-30');
    await w.etl({ end: '2023-06-30' });
    const reader = await openWarehouse(w.dir);
    try {
      const count = async (wh: typeof reader) => (await wh.rows('SELECT count(*)::INT AS n FROM prices_daily'))[0]!['n'];
      const n0 = await count(reader);
      await w.source('2024-01-31');
      await w.etl();
      expect(await count(reader)).toBe(n0);
      const fresh = await openWarehouse(w.dir);
      try {
        expect(await count(fresh)).toBe(3 * DAYS.length);
      } finally {
        fresh.close();
      }
    } finally {
      reader.close();
    }
  });

  it('bad input is refused with the fix named, nothing recorded', async () => {
    const w = await warehouse('2023-01-31');
    const head = w.log.head().seq;
    await expect(w.etl({ start: '2024-02-01', end: '2024-01-01' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is after') });
    await expect(w.etl({ symbols: ['A B'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not a symbol') });
    await expect(w.etl({ symbols: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--symbols or --universe') });
    await expect(w.etl({ dataset: 'Bad-Name' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(w.log.head().seq).toBe(head);
  });
});
