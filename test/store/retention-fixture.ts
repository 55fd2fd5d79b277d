/**
 * A warehouse with a manual clock, for retention and backup tests: ingest small CSVs as
 * partitions, advance days, read a point back as Arrow IPC bytes.
 */
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import type { EventLog } from '../../src/log/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { openSession, toArrow } from '../../src/query/index.js';
import { newWarehouse, writeCsv } from './crash-invariants.js';

export const DAY = 86_400_000;

export interface ClockedWarehouse {
  readonly dir: string;
  log: EventLog;
  now: number;
  advanceDays(days: number): void;
  ingest(dataset: string, partition: string, seed: number, rows?: number): Promise<number>;
  reopen(): void;
  close(): void;
}

export function clockedWarehouse(prefix = 'wh-ret-'): ClockedWarehouse {
  const dir = newWarehouse(prefix);
  let n = 0;
  const w: ClockedWarehouse = {
    dir,
    now: Date.now() + DAY,
    log: undefined as unknown as EventLog,
    advanceDays(days) {
      w.now += days * DAY;
    },
    async ingest(dataset, partition, seed, rows = 50) {
      const file = writeCsv(join(dir, '..', `in-${n++}.csv`), rows, seed);
      const r = await ingestFile({ dir, log: w.log, dataset, partition, file, key: ['id'], whVersion: 'test' });
      return w.log.head().seq + (r ? 0 : 0);
    },
    reopen() {
      w.log.close();
      w.log = openWarehouseLog(dir, { clock: () => w.now });
    },
    close() {
      w.log.close();
    },
  };
  w.log = openWarehouseLog(dir, { clock: () => w.now });
  return w;
}

/** Every dataset at `asOf`, as Arrow IPC bytes (rows in key order), keyed by dataset. */
export async function arrowAt(dir: string, log: EventLog, asOf: string): Promise<Map<string, Buffer>> {
  const s = await openSession(dir, log, { asOf, threads: 1 });
  try {
    const out = new Map<string, Buffer>();
    for (const d of s.datasets) {
      const cols = await s.duck.columns(`SELECT * FROM "${d}" ORDER BY ALL`);
      out.set(d, Buffer.from(tableToIPC(await toArrow(cols), 'stream')));
    }
    return out;
  } finally {
    s.close();
  }
}
