/**
 * One DuckDB view per dataset over exactly the objects a manifest names at a point. Views list
 * object paths explicitly: never a glob, so a file being written can never be read.
 */
import { existsSync } from 'node:fs';
import { WarehouseError } from '../log/index.js';
import { quoteIdent, quoteLiteral } from '../engine/index.js';
import { objectPath } from './layout.js';
import type { ManifestEntry } from '../projections/index.js';
import type { ObjectFault } from './object-health.js';

/** `CREATE VIEW` statements for the datasets in `entries`. */
export function viewStatements(dir: string, entries: readonly ManifestEntry[], options: { checkFiles?: boolean; replace?: boolean; faults?: readonly ObjectFault[] } = {}): string[] {
  const by = new Map<string, ManifestEntry[]>();
  for (const e of entries) by.set(e.dataset, [...(by.get(e.dataset) ?? []), e]);
  const out: string[] = [];
  for (const [dataset, parts] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) {
    parts.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
    const files = parts.map((p) => objectPath(dir, p.object));
    // A dataset with a refused object gets no view at all: a query naming it fails to bind (and the
    // query layer names the fault), a query over other datasets is unaffected, and no byte of a
    // refused object is ever opened.
    if (options.faults?.some((f) => f.dataset === dataset)) continue;
    if (options.checkFiles !== false) {
      const missing = files.find((f) => !existsSync(f));
      if (missing !== undefined) {
        throw new WarehouseError('OBJECT_MISSING', `object ${missing} of dataset ${dataset} is missing from the store`, {
          suggestion: 'run `wh audit --verify` to list every damaged object, then restore them from a backup (docs/runbooks/object-recovery.md)',
        });
      }
    }
    // Partitions written under different schemas (an accepted drift) are unioned by column name;
    // when they all share one schema the plain reader is cheaper.
    const uniform = new Set(parts.map((p) => p.schemaFingerprint)).size === 1;
    out.push(
      `CREATE ${options.replace === false ? '' : 'OR REPLACE '}VIEW ${quoteIdent(dataset)} AS SELECT * FROM read_parquet([${files.map(quoteLiteral).join(', ')}]${uniform ? '' : ', union_by_name = true'})`,
    );
  }
  return out;
}
