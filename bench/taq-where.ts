/**
 * Where should TAQ aggregation run? One sample day on a local PostgreSQL, measured in the same run:
 * - transfer: `COPY (SELECT * …) TO STDOUT` of the day's trades, quotes and complete NBBO (rows/s);
 * - source-side SQL: PostgreSQL matching each trade to the NBBO before it (LATERAL + index, as SQL
 *   without ASOF JOIN must) — only the first of the aggregation's steps (rows/s of trades + NBBO);
 * - here: `syncTaq` end to end (pull + clean + aggregate in DuckDB + write), with its split.
 * The local socket flatters the transfer: over the network to WRDS it is slower still.
 *
 *   node dist/bench/taq-where.js [--symbols N]
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { createDatabase, openPgSession, startPostgres } from '../src/dev/pg-server.js';
import { generateWrdsSample } from '../src/dev/wrds-sample/index.js';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';
import { connectWrds, Secret, syncTaq } from '../src/sync/index.js';
import { isMain, nowMs, parseCli, report, row, say, tempDir, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/taq-where.js [--symbols N] [--keep]`;
const optionsSchema = z.object({ symbols: z.coerce.number().int().positive().optional() });

export async function runWhere(o: CommonOptions & z.infer<typeof optionsSchema>): Promise<BenchRow[]> {
  const n = o.symbols ?? (o.quick ? 100 : 300);
  const day = '2024-12-31';
  const tmp = tempDir('taq-where', o.keep);
  const server = await startPostgres();
  try {
    const db = await createDatabase(server, 'w');
    await generateWrdsSample(db, { seed: 3, scale: Math.ceil(n / 40), fromYear: 2022, toYear: 2024, taqDays: [day], taqSymbols: n });
    const s = await openPgSession(db);
    const count = async (t: string) => Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM taqm_2024.${t}_20241231`)).rows[0]!.n);
    const rows = { ctm: await count('ctm'), cqm: await count('cqm'), nbbo: await count('complete_nbbo') };
    const total = rows.ctm + rows.cqm + rows.nbbo;
    const carrying = Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM taqm_2024.cqm_20241231 WHERE (qu_source = 'C' AND natbbo_ind = '1') OR (qu_source = 'N' AND natbbo_ind = '4')`)).rows[0]!.n);
    say(`day ${day}: ${rows.ctm} trades, ${rows.cqm} quotes (${carrying} carry the NBBO: the only ones the sync pulls), ${rows.nbbo} NBBO rows`);
    const source = await connectWrds({ settings: { host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }, password: new Secret(db.password), queriesPerMinute: 1e6 });
    try {
      let t0 = nowMs();
      for (const t of ['ctm', 'cqm', 'complete_nbbo']) await pipeline(await source.copyOut(`SELECT * FROM taqm_2024.${t}_20241231`), createWriteStream(join(tmp.path, t)));
      const copyRate = total / ((nowMs() - t0) / 1000);
      t0 = nowMs();
      await s.query(`SELECT count(*), sum(n.best_bid) FROM taqm_2024.ctm_20241231 tr CROSS JOIN LATERAL (SELECT best_bid FROM taqm_2024.complete_nbbo_20241231 n
        WHERE n.sym_root = tr.sym_root AND n.time_m < tr.time_m ORDER BY n.time_m DESC LIMIT 1) n WHERE tr.tr_corr = '00'`);
      const matchRate = (rows.ctm + rows.nbbo) / ((nowMs() - t0) / 1000);
      const wh = join(tmp.path, 'wh');
      initWarehouse(wh, 'bench');
      const log = openWarehouseLog(wh);
      const symbols = (await s.query<{ s: string }>('SELECT sym_root AS s FROM taqm_2024.mastm_20241231')).rows.map((x) => x.s);
      t0 = nowMs();
      const res = await syncTaq({ dir: wh, log, source, symbols: { kind: 'list', symbols }, start: day, end: day, whVersion: 'bench' });
      const syncRate = total / ((nowMs() - t0) / 1000);
      log.close();
      const ms = res.days.find((d) => d.day === day)?.ms;
      say(`transfer ${Math.round(copyRate)} rows/s; PostgreSQL match only ${Math.round(matchRate)} rows/s; wh taq sync ${Math.round(syncRate)} rows/s (pull ${ms?.pull} ms, aggregate ${ms?.aggregate} ms, write ${ms?.write} ms)`);
      await s.end();
      return [
        row('taq-where', 'COPY transfer (local socket)', copyRate, 'rows/s', null, null),
        row('taq-where', 'PostgreSQL trade->NBBO match only', matchRate, 'rows/s', copyRate, 'match/transfer'),
        row('taq-where', 'wh taq sync end to end', syncRate, 'rows/s', copyRate, 'sync/transfer'),
      ];
    } finally {
      await source.close();
    }
  } finally {
    await server.stop();
    tmp.dispose();
  }
}

if (isMain(import.meta.url)) {
  const o = parseCli(process.argv.slice(2), { symbols: { type: 'string' } }, optionsSchema, USAGE);
  report(await runWhere(o), o);
}
