/**
 * A small generated price sample for the demo and tests: daily rows (permno, date, prc, ret, vol)
 * for a few securities over weekdays of the given years, one CSV per year. Deterministic in `seed`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDuck, quoteLiteral } from '../engine/index.js';

export interface DemoSampleOptions {
  readonly outDir: string;
  readonly years: readonly number[];
  readonly securities?: number;
  readonly seed?: number;
}

/** Write one CSV per year; returns their paths in year order. */
export async function writeDemoSample(options: DemoSampleOptions): Promise<{ year: number; file: string }[]> {
  mkdirSync(options.outDir, { recursive: true });
  const duck = await openDuck({ threads: 1 });
  const n = options.securities ?? 5;
  const seed = options.seed ?? 42;
  try {
    const out: { year: number; file: string }[] = [];
    for (const year of options.years) {
      const file = join(options.outDir, `prices-${year}.csv`);
      // hash() is deterministic, so the sample is too: returns are a fat-ish tailed transform of it.
      await duck.run(`COPY (
        WITH d AS (
          SELECT CAST(x AS DATE) AS date FROM range(DATE '${year}-01-01', DATE '${year + 1}-01-01', INTERVAL 1 DAY) t(x)
          WHERE dayofweek(x) BETWEEN 1 AND 5
        ), s AS (SELECT 10000 + i AS permno FROM range(1, ${n + 1}) t(i)),
        r AS (
          SELECT permno, date,
                 ((hash(permno, date, ${seed}) % 20001)::DOUBLE / 10000.0 - 1.0) AS u
          FROM s, d
        )
        SELECT permno, date,
               round(20 + permno % 50 + 10 * sin(epoch(date) / 8e6 + permno), 4) AS prc,
               CASE WHEN hash(permno, date, ${seed} + 1) % 97 = 0 THEN NULL
                    ELSE round(0.02 * u * abs(u) * 2, 6) END AS ret,
               (1000 + hash(permno, date, ${seed} + 2) % 100000)::BIGINT AS vol
        FROM r ORDER BY permno, date
      ) TO ${quoteLiteral(file)} (HEADER, DELIMITER ',')`);
      out.push({ year, file });
    }
    return out;
  } finally {
    duck.close();
  }
}
