/**
 * `wh diff`: partitions added/removed/replaced, rows added/removed/changed on the key, changed
 * cells (column, old, new), streamed rows, and the Parquet output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePoint } from '../../src/projections/index.js';
import { diffSummary, streamDiffRows, writeDiffParquet } from '../../src/store/index.js';
import { openDuck } from '../../src/engine/index.js';
import { cleanupTempDirs, runWh } from '../support/wh-cli.js';
import { writeCsv } from './crash-invariants.js';
import { clockedWarehouse } from './retention-fixture.js';

afterAll(cleanupTempDirs);

/** writeCsv with ids shifted by `offset`, so partitions hold disjoint keys as real datasets do. */
function csvFrom(path: string, rows: number, seed: number, offset: number): string {
  writeCsv(path, rows, seed);
  const [head, ...body] = readFileSync(path, 'utf8').trim().split('\n');
  writeFileSync(path, [head, ...body.map((l) => { const [id, ...rest] = l.split(','); return [Number(id) + offset, ...rest].join(','); })].join('\n') + '\n');
  return path;
}

describe('diff', () => {
  it('reports partitions, rows and cells between two vintages', async () => {
    const w = clockedWarehouse('wh-diff-');
    try {
      const f1 = writeCsv(join(w.dir, '..', 'v1.csv'), 100, 7);
      const { ingestFile } = await import('../../src/sync/index.js');
      const ingest = (dataset: string, partition: string, file: string) => ingestFile({ dir: w.dir, log: w.log, dataset, partition, file, key: ['id'], whVersion: 'test' });
      await ingest('prices', '2023', f1);
      await ingest('prices', '2024', csvFrom(join(w.dir, '..', 'v1b.csv'), 10, 8, 2000));
      await ingest('prices', '2022', csvFrom(join(w.dir, '..', 'v1c.csv'), 10, 9, 3000));
      const a = w.log.head().seq;
      // Vintage 2: in 2023 one value corrected, row 5 gone, row 1000 new; 2022 removed; 2025 added; 2024 unchanged.
      const lines = readFileSync(f1, 'utf8').trim().split('\n');
      const cells = lines[3]!.split(',');
      const oldVal = cells[2]!;
      cells[2] = '0.123456789';
      lines[3] = cells.join(',');
      const v2 = [...lines.filter((l) => !l.startsWith('5,')), '1000,1,0.5,abc'];
      const f2 = join(w.dir, '..', 'v2.csv');
      writeFileSync(f2, v2.join('\n') + '\n');
      await ingest('prices', '2023', f2);
      await ingest('prices', '2025', csvFrom(join(w.dir, '..', 'v2d.csv'), 4, 10, 4000));
      const { acquireLease, releaseLease } = await import('../../src/log/index.js');
      const lease = acquireLease(w.log, 'dataset:prices');
      w.log.append([{ type: 'PartitionRemoved', data: { dataset: 'prices', partition: '2022', reason: 'test' } }], lease);
      releaseLease(w.log, lease);
      const pa = resolvePoint(w.log, String(a));
      const pb = resolvePoint(w.log, 'head');

      const s = await diffSummary(w.dir, w.log, pa, pb);
      expect(s.datasets).toHaveLength(1);
      const d = s.datasets[0]!;
      expect(d.key).toEqual(['id']);
      expect(d.partitions).toEqual({ added: 1, removed: 1, replaced: 1, unchanged: 1 });
      expect(d.rows).toEqual({ added: 5, removed: 11, changed: 1 });
      expect(d.columns).toEqual([{ column: 'val', changed: 1 }]);
      const rows: { change: string; key: string; column: string | null; old: string | null; new: string | null }[] = [];
      for await (const chunk of streamDiffRows(w.dir, w.log, pa, pb)) rows.push(...chunk);
      const changedCell = rows.find((r) => r.change === 'changed' && r.key === '{"id":2}' && r.column === 'val');
      expect(changedCell).toMatchObject({ old: String(Number(oldVal)), new: '0.123456789' });
      expect(rows.filter((r) => r.change === 'added').length).toBe(d.rows.added);
      expect(rows.filter((r) => r.change === 'removed').length).toBe(d.rows.removed);
      expect(d.columns.reduce((n, c) => n + c.changed, 0)).toBe(rows.filter((r) => r.change === 'changed').length);
      expect(rows.some((r) => r.change === 'added' && r.key === '{"id":1000}')).toBe(true);

      const out = join(w.dir, '..', 'diff.parquet');
      const n = await writeDiffParquet(w.dir, w.log, pa, pb, out);
      expect(n).toBe(rows.length);
      const duck = await openDuck();
      try {
        const r = await duck.all(`SELECT count(*) AS n, count(*) FILTER (WHERE change = 'changed') AS c FROM read_parquet('${out}')`);
        expect(r.rows[0]).toEqual({ n: rows.length, c: rows.filter((x) => x.change === 'changed').length });
      } finally {
        duck.close();
      }

      // The CLI: summary, --json, an unknown dataset.
      w.close();
      const cli = await runWh(['diff', String(a), 'head', '--json'], { warehouse: w.dir });
      expect(cli.code).toBe(0);
      expect(cli.json().datasets[0].rows).toEqual(d.rows);
      const human = await runWh(['diff', String(a), 'head', 'prices', '--rows'], { warehouse: w.dir });
      expect(human.stdout).toContain('0.123456789');
      const bad = await runWh(['diff', String(a), 'head', 'nope'], { warehouse: w.dir });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('no dataset nope');
      w.reopen();
    } finally {
      try {
        w.close();
      } catch {
        // closed above
      }
    }
  }, 120_000);

  it('two identical points differ in nothing', async () => {
    const w = clockedWarehouse('wh-diff0-');
    try {
      await w.ingest('prices', '2023', 1);
      const p = resolvePoint(w.log, 'head');
      const s = await diffSummary(w.dir, w.log, p, p);
      expect(s.datasets[0]).toMatchObject({ partitions: { added: 0, removed: 0, replaced: 0, unchanged: 1 }, rows: { added: 0, removed: 0, changed: 0 } });
    } finally {
      w.close();
    }
  });

  it('diffs a dataset without a key as whole rows, and --columns limits the cells compared', async () => {
    const w = clockedWarehouse('wh-diff-nokey-');
    try {
      const { ingestFile } = await import('../../src/sync/index.js');
      const f = (name: string, body: string) => {
        const p = join(w.dir, '..', name);
        writeFileSync(p, body);
        return p;
      };
      await ingestFile({ dir: w.dir, log: w.log, dataset: 'notes', partition: 'all', file: f('n1.csv', 'a,b\n1,x\n2,y\n2,y\n'), whVersion: 'test' });
      const a = resolvePoint(w.log, 'head');
      await ingestFile({ dir: w.dir, log: w.log, dataset: 'notes', partition: 'all', file: f('n2.csv', 'a,b\n1,x\n2,y\n3,z\n'), whVersion: 'test' });
      const b = resolvePoint(w.log, 'head');
      const s = await diffSummary(w.dir, w.log, a, b);
      expect(s.datasets[0]).toMatchObject({ key: [], rows: { added: 1, removed: 1, changed: 0 } });
      const rows: { change: string; key: string }[] = [];
      for await (const c of streamDiffRows(w.dir, w.log, a, b)) rows.push(...c);
      expect(rows.map((r) => [r.change, r.key]).sort()).toEqual([['added', '{"a":3,"b":"z"}'], ['removed', '{"a":2,"b":"y"}']]);

      await w.ingest('prices', 'all', 1);
      const c = resolvePoint(w.log, 'head');
      await w.ingest('prices', 'all', 2);
      const d = resolvePoint(w.log, 'head');
      const all = (await diffSummary(w.dir, w.log, c, d, { datasets: ['prices'] })).datasets[0]!;
      const only = (await diffSummary(w.dir, w.log, c, d, { datasets: ['prices'], columns: ['val'] })).datasets[0]!;
      expect(all.columns.map((x) => x.column).sort()).toEqual(['txt', 'val']);
      expect(only.columns.map((x) => x.column)).toEqual(['val']);
    } finally {
      w.close();
    }
  });
});
