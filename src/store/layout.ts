/**
 * Where things live inside a warehouse directory. Objects are content-addressed and immutable:
 * `objects/ab/abcdef....parquet`. Temporaries are written under `tmp/` on the same volume so the
 * final rename is atomic.
 */
import { join, resolve } from 'node:path';
import { WarehouseError } from '../log/index.js';

export interface WarehousePaths {
  readonly root: string;
  readonly log: string;
  readonly objects: string;
  readonly tmp: string;
  readonly quarantine: string;
  /** The DuckDB catalog file other tools can open read-only. */
  readonly catalog: string;
}

export function warehousePaths(dir: string): WarehousePaths {
  const root = resolve(dir);
  return {
    root,
    log: join(root, 'wh.log'),
    objects: join(root, 'objects'),
    tmp: join(root, 'tmp'),
    quarantine: join(root, 'quarantine'),
    catalog: join(root, 'catalog.duckdb'),
  };
}

const HASH = /^[0-9a-f]{64}$/;

/** Path of the object with SHA-256 `hash`. Refuses anything that is not a hash (no traversal). */
export function objectPath(dir: string, hash: string): string {
  if (!HASH.test(hash)) {
    throw new WarehouseError('INVALID_ARGUMENT', `"${hash}" is not an object hash`, { suggestion: 'object ids are 64 lowercase hex digits' });
  }
  return join(warehousePaths(dir).objects, hash.slice(0, 2), `${hash}.parquet`);
}
