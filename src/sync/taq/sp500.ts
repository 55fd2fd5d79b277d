/**
 * `--symbols sp500`: the S&P 500 members on a day, from CRSP's constituent history
 * (`crsp.dsp500list`: permno, start, ending) and each member's ticker that day (`crsp.dsenames`:
 * permno, namedt, nameendt, ticker). A member without a ticker that day is left out (logged by
 * the caller as fewer symbols).
 */
import type { SqlSource } from '../wrds/client.js';

export const SP500_SQL = `SELECT DISTINCT n.ticker AS symbol
  FROM crsp.dsp500list s
  JOIN crsp.dsenames n ON n.permno = s.permno AND $1::date BETWEEN n.namedt AND coalesce(n.nameendt, DATE '9999-12-31')
  WHERE $1::date BETWEEN s.start AND coalesce(s.ending, DATE '9999-12-31') AND n.ticker IS NOT NULL AND n.ticker <> ''
  ORDER BY 1`;

/** The S&P 500 members' tickers on `day`, sorted. */
export async function sp500On(source: SqlSource, day: string): Promise<string[]> {
  const rows = await source.query<{ symbol: string }>(SP500_SQL, [day]);
  return rows.map((r) => r.symbol.trim().replace(/\s+/g, ''));
}
