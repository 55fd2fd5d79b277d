/**
 * Staging parsed French sections as CSV files under the warehouse's tmp/, one per section, so
 * DuckDB can read them into Parquet through the shared write path. Rows are buffered only
 * between two awaited flushes (one source chunk's worth), so memory stays bounded.
 */
import { appendFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeOwnedTempDir } from '../../store/index.js';
import type { FrenchRow, FrenchSectionInfo, FrenchSink } from './parser.js';

/** One staged section: its CSV has no header and the columns `date, period, <section columns>`. */
export interface StagedSection {
  readonly info: FrenchSectionInfo;
  readonly path: string;
  rows: number;
}

export class FrenchStaging implements FrenchSink {
  readonly dir: string;
  readonly sections: StagedSection[] = [];
  private pending: { path: string; lines: string[] }[] = [];

  constructor(warehouseDir: string) {
    this.dir = makeOwnedTempDir(warehouseDir, 'french');
  }

  section(info: FrenchSectionInfo): void {
    const path = join(this.dir, `${this.sections.length}.csv`);
    this.sections.push({ info, path, rows: 0 });
    this.pending.push({ path, lines: [] });
  }

  row(_info: FrenchSectionInfo, row: FrenchRow): void {
    this.sections.at(-1)!.rows += 1;
    this.pending.at(-1)!.lines.push(`${row.date},${row.period},${row.values.map((v) => (v === null ? '' : String(v))).join(',')}\n`);
  }

  /** Write the rows buffered since the last flush. */
  async flush(): Promise<void> {
    const todo = this.pending;
    const last = todo.at(-1);
    this.pending = last === undefined ? [] : [{ path: last.path, lines: [] }];
    for (const p of todo) if (p.lines.length > 0) await appendFile(p.path, p.lines.join(''));
  }

  async bytes(s: StagedSection): Promise<number> {
    return (await stat(s.path)).size;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
