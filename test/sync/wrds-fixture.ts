/**
 * A small, hand-made WRDS-shaped source for the sync tests: crsp.msf (monthly, 3 years, 40 permnos)
 * and crsp.dsi (daily market file on NYSE sessions), with WRDS's types and vintage comments.
 * Small and explicit so each test can state exactly what changed at the source.
 */
import { openPgSession, type PgConnectionConfig, type PgSession } from '../../src/dev/pg-server.js';
import { sessions } from '../../src/calendar/index.js';

export const YEARS = [2021, 2022, 2023] as const;

export async function loadFixture(cfg: PgConnectionConfig): Promise<void> {
  const s = await openPgSession(cfg);
  try {
    await s.query(`
      CREATE SCHEMA crsp;
      CREATE TABLE crsp.msf (cusip varchar(8), permno integer, date date, prc numeric(11,5), ret numeric(10,6), vol numeric, shrout numeric);
      INSERT INTO crsp.msf
        SELECT 'C,"' || (p % 100000), p, (date_trunc('month', d) + interval '1 month - 1 day')::date,
               CASE WHEN p % 7 = 0 THEN -(10 + p % 13 + extract(month from d)) ELSE 10 + p % 13 + extract(month from d) END,
               CASE WHEN (p + extract(month from d)::int) % 11 = 0 THEN NULL ELSE round(((p * 7 + extract(month from d)::int * 13) % 200 - 100) / 1000.0, 6) END,
               1000 * p, 500 + p
        FROM generate_series('2021-01-01'::date, '2023-12-01', '1 month') d, generate_series(10001, 10040) p;
      COMMENT ON TABLE crsp.msf IS 'Monthly Stock - Securities (Updated 2024-02-08)';
      CREATE TABLE crsp.dsi (date date, vwretd numeric(10,6), ewretd numeric(10,6), spindx double precision, totcnt integer);
      COMMENT ON TABLE crsp.dsi IS 'Last modified: 02/08/2024 02:00:00';
    `);
    const days = sessions('2021-01-04', '2023-12-29');
    await s.copyFrom('COPY crsp.dsi FROM STDIN', days.map((d, i) => `${d}\t${((i % 17) - 8) / 1000}\t${((i % 13) - 6) / 1000}\t${4000 + i}\t${5000 + (i % 10)}\n`));
  } finally {
    await s.end();
  }
}

export async function withSession<T>(cfg: PgConnectionConfig, fn: (s: PgSession) => Promise<T>): Promise<T> {
  const s = await openPgSession(cfg);
  try {
    return await fn(s);
  } finally {
    await s.end();
  }
}
