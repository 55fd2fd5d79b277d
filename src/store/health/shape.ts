/**
 * What a dataset's columns let the health checks do: which column is the market date, which
 * identifies a series, which is the price, and where a split shows. Chosen by column name, so any
 * source (CRSP, Yahoo, the unified prices, an ingested file) is checked as far as its columns allow.
 */
import type { Column } from '../../log/index.js';
import { quoteIdent } from '../../engine/index.js';

export interface HealthShape {
  /** The market-date column (DATE or TIMESTAMP), or null: no calendar, jump, stale or late checks. */
  readonly date: string | null;
  /** The series identity (permno, symbol, ...), or null: the dataset is one series. */
  readonly id: string | null;
  /** SQL for the price (e.g. `abs("prc")`), or null. */
  readonly price: string | null;
  /**
   * SQL for a split level `r` such that r(t) / r(t-1) is the split factor on day t (2 for a 2:1
   * split): 1 / cfacpr (CRSP), adj_close / close (adjusted prices), or null.
   */
  readonly splitLevel: string | null;
  readonly key: readonly string[];
  /**
   * The registered key is exactly (series identity, market date) with a DATE date: duplicate keys
   * then show in the series pass as a row dated like the one before it (no separate GROUP BY).
   */
  readonly keyIsSeriesDate: boolean;
  /** With {@link keyIsSeriesDate}: which of the two the key's columns are, in key order. */
  readonly keyRoles: readonly ('id' | 'date')[];
  /**
   * When the key is (K, date) with K not the series identity (e.g. `symbol` beside `series`): K,
   * quoted. Objects are written sorted by their key, so duplicates are adjacent rows in stored
   * order and the streaming pass finds them (it checks that order; a file out of it gets the
   * separate duplicate query).
   */
  readonly adjacentKey: string | null;
  readonly columns: readonly Column[];
  /** The columns any series or calendar check reads (the rest is only counted for null rates). */
  readonly used: readonly string[];
}

const DATE_COLUMNS = ['date', 'caldt', 'datadate', 'dlstdt'];
const ID_COLUMNS = ['series', 'permno', 'symbol', 'ticker', 'gvkey', 'permco', 'secid'];

/** The shape of a dataset with `columns` and registered `key`. */
export function healthShape(columns: readonly Column[], key: readonly string[]): HealthShape {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const has = (n: string) => byName.has(n);
  const q = (n: string) => quoteIdent(byName.get(n)!.name);
  const dateCol = DATE_COLUMNS.find((n) => has(n) && /^(DATE|TIMESTAMP)/.test(byName.get(n)!.type.toUpperCase()));
  const idCol = ID_COLUMNS.find(has);
  const price = has('close') ? `CAST(${q('close')} AS DOUBLE)` : has('prc') ? `abs(CAST(${q('prc')} AS DOUBLE))` : has('adj_close') ? `CAST(${q('adj_close')} AS DOUBLE)` : null;
  const splitLevel = has('cfacpr')
    ? `1.0 / nullif(CAST(${q('cfacpr')} AS DOUBLE), 0)`
    : has('adj_close') && has('close')
      ? `CAST(${q('adj_close')} AS DOUBLE) / nullif(CAST(${q('close')} AS DOUBLE), 0)`
      : has('adjclose') && has('close')
        ? `CAST(${q('adjclose')} AS DOUBLE) / nullif(CAST(${q('close')} AS DOUBLE), 0)`
        : null;
  const used = [...new Set([...key, dateCol, idCol, 'close', 'prc', 'adj_close', 'adjclose', 'cfacpr'].filter((n): n is string => n !== undefined && has(n.toLowerCase())).map((n) => byName.get(n.toLowerCase())!.name))];
  const keyNames = new Set(key.map((k) => k.toLowerCase()));
  const keyIsSeriesDate = dateCol !== undefined && idCol !== undefined && keyNames.size === 2 && key.length === 2 && keyNames.has(dateCol) && keyNames.has(idCol) && byName.get(dateCol)!.type.toUpperCase() === 'DATE';
  const k0 = key[0]?.toLowerCase();
  const adjacentKey = !keyIsSeriesDate && dateCol !== undefined && key.length === 2 && k0 !== undefined && has(k0) && key[1]!.toLowerCase() === dateCol && byName.get(dateCol)!.type.toUpperCase() === 'DATE' ? q(k0) : null;
  return {
    used,
    keyIsSeriesDate,
    adjacentKey,
    keyRoles: keyIsSeriesDate ? key.map((k) => (k.toLowerCase() === dateCol ? ('date' as const) : ('id' as const))) : [],
    date: dateCol === undefined ? null : q(dateCol),
    id: idCol === undefined ? null : q(idCol),
    price,
    splitLevel,
    key,
    columns,
  };
}
