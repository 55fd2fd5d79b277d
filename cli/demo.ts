import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { initWarehouse, openWarehouseLog, resolvePoint } from '../src/projections/index.js';
import { ingestFile, verifyWarehouse, writeDemoSample } from '../src/sync/index.js';
import { lineageOf, runQuery, replayState, writeReplayDatabase } from '../src/query/index.js';
import { action, emit, makeLogger, parseOptions, table, whVersion } from './context.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('create a warehouse from a generated sample, then query, tag, replay and audit it')
    .argument('[dir]', 'new warehouse directory (default: a fresh temporary directory)')
    .option('--seed <n>', 'sample seed', '42')
    .action(
      action(async (g, dir: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ seed: z.coerce.number().int() }), raw);
        const root = dir === undefined ? mkdtempSync(join(tmpdir(), 'wh-demo-')) : resolve(dir);
        const say = (s: string) => !g.json && process.stdout.write(s + '\n');
        const init = initWarehouse(root, whVersion());
        say(`1. initialized warehouse in ${root}`);
        const files = await writeDemoSample({ outDir: mkdtempSync(join(tmpdir(), 'wh-demo-sample-')), years: [2022, 2023], seed: opts.seed });
        const log = openWarehouseLog(root);
        try {
          for (const f of files) {
            const r = await ingestFile({ dir: root, log, dataset: 'prices', partition: String(f.year), file: f.file, key: ['permno', 'date'], whVersion: whVersion(), logger: makeLogger(g) });
            say(`2. ingested prices/${f.year}: ${r.entry.rows} rows -> object ${r.entry.object.slice(0, 12)}…`);
          }
          const tagSeq = log.head().seq;
          log.append([{ type: 'SnapshotTagged', data: { tag: 'demo-v1', seq: tagSeq, note: 'demo snapshot' } }]);
          say(`3. tagged demo-v1 at seq ${tagSeq}`);
          const sql = 'SELECT permno, count(*) AS days, round(avg(prc), 2) AS avg_prc, count(*) FILTER (WHERE ret IS NULL) AS missing_ret FROM prices GROUP BY permno ORDER BY permno';
          const q = await runQuery(root, log, sql);
          say(`4. wh query "${sql}"\n${table(q.rows)}`);
          const replay = replayState(log, 'demo-v1');
          const db = await writeReplayDatabase(root, replay, join(root, 'replays', 'demo-v1'));
          say(`5. wh replay --until demo-v1: ${replay.partitions.length} partitions at ${replay.point.label}; DuckDB file ${db}`);
          const lineage = lineageOf(log, { kind: 'dataset', name: 'prices' });
          const verify = await verifyWarehouse(root, log);
          say(`6. wh audit prices: ${lineage.length} object versions, written under ${[...new Set(lineage.map((l) => l.lease?.scope))].join(', ')}; --verify: ${verify.ok ? 'OK' : 'FAILED'}`);
          say(`\ntry:  wh query "SELECT * FROM prices LIMIT 5" --warehouse ${root}\n      wh status --warehouse ${root}\n      wh audit --verify --warehouse ${root}`);
          emit(g, { warehouse: root, warehouseId: init.warehouseId, head: resolvePoint(log, undefined).seq, query: q.rows, verified: verify.ok }, () => '');
        } finally {
          log.close();
        }
      }),
    );
}
