/** The library writer keeps the same guarantees as the CLI: leases, tail anchors, verification. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse, openWriter, isWarehouseError } from '../../src/index.js';
import { openWarehouseLog, readAnchor } from '../../src/store/index.js';

function csv(dir: string): string {
  const f = join(dir, 'p.csv');
  writeFileSync(f, 'permno,date,ret\n1,2024-01-02,0.01\n1,2024-01-03,-0.02\n2,2024-01-02,0.03\n');
  return f;
}

describe('openWriter', () => {
  it('records the tail anchor after each write, so verify sees no lost events', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wh-writer-'));
    const dir = join(root, 'wh');
    const w = openWriter(dir, { create: true, whVersion: 'test' });
    try {
      const r = await w.ingest({ dataset: 'prices', partition: '2024', file: csv(root), key: ['permno', 'date'] });
      expect(r.status).toBe('written');
      const log = openWarehouseLog(dir, { readonly: true });
      const head = log.head();
      log.close();
      expect(readAnchor(dir)).toMatchObject({ seq: head.seq, hash: head.hash });
      w.tag('v1');
      expect(readAnchor(dir)?.seq).toBe(head.seq + 1);
      const report = await w.verify();
      expect(report.ok).toBe(true);
    } finally {
      w.close();
    }
    const wh = await openWarehouse(dir, { asOf: 'v1' });
    try {
      expect(await wh.rows('SELECT count(*)::INT AS n FROM prices')).toEqual([{ n: 3 }]);
      expect(wh.lineage('prices').map((l) => l.lineage.whVersion)).toEqual(['test']);
    } finally {
      wh.close();
    }
  });

  it('refuses a bad tag name with a named error and writes nothing', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wh-writer-')), 'wh');
    const w = openWriter(dir, { create: true });
    try {
      let caught: unknown;
      try {
        w.tag('a/b');
      } catch (e) {
        caught = e;
      }
      expect(isWarehouseError(caught) && caught.code).toBe('INVALID_ARGUMENT');
      expect(w.snapshots()).toEqual([]);
    } finally {
      w.close();
    }
  });
});
