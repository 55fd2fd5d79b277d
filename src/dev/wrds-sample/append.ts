/**
 * appendDays: the vendor's daily update. Adds rows for the sessions after the current last date
 * to the daily relations, continuing each still-listed permno from its last row (state comes from
 * the database, the randomness from `(seed, permno, date)`), so appending is deterministic.
 */
import type { PgSession } from '../pg-server.js';
import { WarehouseError } from '../../log/index.js';
import { crspCizTables, crspLegacyTables, ffTables } from './catalog.js';
import type { TableSpec } from './catalog.js';
import { copyChunks, fixed, round } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { nextSession } from './dates.js';
import { ident } from './ddl.js';
import { marketDay } from './market.js';
import { bumpVintage, describeRelation, storageColumns } from './mutate.js';
import { Rng } from './prng.js';
import { dsiRow } from './rows-crsp.js';
import { factorsDailyRow, fiveFactorsDailyRow } from './rows-ff.js';
import { step } from './simulate.js';
import type { DayBar, StepParams } from './simulate.js';

/** The relations appendDays can extend. */
export const appendableTables = ['crsp.dsf', 'crsp.dsf_v2', 'crsp.dsi', 'ff.factors_daily', 'ff.fivefactors_daily'] as const;
export type AppendableTable = (typeof appendableTables)[number];

/** Options of {@link appendDays}. */
export interface AppendDaysOptions {
  /** The seed the sample was generated with (default 1). */
  readonly seed?: number;
  /** How many sessions after the last date of crsp.dsf (default 1). */
  readonly count?: number;
  /** Which relations (default all of {@link appendableTables}). */
  readonly tables?: readonly AppendableTable[];
  /** When set, every appended relation's comment moves to this vintage. */
  readonly vintage?: string;
}

type Row = Record<string, unknown>;

/**
 * Appends `count` new sessions. Returns the new dates and rows added per relation.
 *
 * @example
 * const { days } = await appendDays(session, { seed: 7, count: 2, vintage: '2025-03-01' });
 */
export async function appendDays(session: PgSession, options: AppendDaysOptions = {}): Promise<{ days: string[]; tables: { name: string; rows: number }[] }> {
  const seed = options.seed ?? 1;
  const wanted = new Set(options.tables ?? appendableTables);
  const { rows } = await session.query<{ last: string | null }>('SELECT max(date) AS last FROM crsp.dsf');
  const last = rows[0]?.last ?? null;
  if (last === null) throw new WarehouseError('INVALID_ARGUMENT', 'crsp.dsf is empty: generate the sample first');
  const days: string[] = [];
  for (let d = last, i = 0; i < (options.count ?? 1); i++) days.push((d = nextSession(d)));
  const lastDsf = await lastRows(session, 'crsp.dsf', last);
  const tables: { name: string; rows: number }[] = [];
  const add = async (name: AppendableTable, rowsOf: () => Iterable<Row>): Promise<void> => {
    if (!wanted.has(name)) return;
    tables.push({ name, rows: await copyRows(session, name, rowsOf()) });
    if (options.vintage !== undefined) await bumpVintage(session, name, options.vintage);
  };
  await add('crsp.dsf', () => dsfAppend(seed, days, lastDsf));
  const lastV2 = wanted.has('crsp.dsf_v2') ? await lastRows(session, 'crsp.dsf_v2', last) : new Map<number, Row>();
  await add('crsp.dsf_v2', () => dsfV2Append(seed, days, lastDsf, lastV2));
  const dsiLast = wanted.has('crsp.dsi') ? (await session.query<Row>('SELECT * FROM crsp.dsi ORDER BY date DESC LIMIT 1')).rows[0] : undefined;
  await add('crsp.dsi', () => dsiAppend(seed, days, dsiLast));
  await add('ff.factors_daily', () => days.map((d) => asRow(ffTables[0], factorsDailyRow(d, marketDay(seed, d)))));
  await add('ff.fivefactors_daily', () => days.map((d) => asRow(ffTables[2], fiveFactorsDailyRow(d, marketDay(seed, d)))));
  return { days, tables };
}

/** The last rows of still-listed permnos on `last`, by permno. */
async function lastRows(session: PgSession, table: 'crsp.dsf' | 'crsp.dsf_v2', last: string): Promise<Map<number, Row>> {
  const sql = table === 'crsp.dsf'
    ? 'SELECT * FROM crsp.dsf WHERE date = $1 AND prc IS NOT NULL ORDER BY permno'
    : "SELECT * FROM crsp.dsf_v2 WHERE dlycaldt = $1 AND dlydelflg = 'N' ORDER BY permno";
  const { rows } = await session.query<Row>(sql, [last]);
  return new Map(rows.map((r) => [Number(r['permno']), r]));
}

function paramsFor(seed: number, permno: number, nasdaq: boolean): StepParams {
  const rng = Rng.from(seed, 'append-params', permno);
  return { alpha: 0, beta: rng.uniform(0.5, 1.6), sigma: rng.uniform(0.01, 0.03), spread: rng.uniform(0.0003, 0.002),
    turnover: rng.uniform(0.002, 0.012), pNoTrade: 0.01, pMissing: 0, nasdaq };
}

/** The new bars of one permno, continuing from its last crsp.dsf row. */
function barsFor(seed: number, days: readonly string[], last: Row): { date: string; bar: DayBar }[] {
  const permno = Number(last['permno']);
  const price = Math.abs(Number(last['prc']));
  const state = { latent: price, lastReported: price, sinceFactor: 1, sinceDiv: 0, shrout: Number(last['shrout']) };
  const params = paramsFor(seed, permno, Number(last['hexcd']) === 3);
  return days.map((date) => ({ date, bar: step(params, state, marketDay(seed, date), Rng.from(seed, 'append', permno, date), 1, 0, false) }));
}

function* dsfAppend(seed: number, days: readonly string[], last: Map<number, Row>): Generator<Row> {
  for (const prev of last.values()) {
    for (const { date, bar: b } of barsFor(seed, days, prev)) {
      yield { ...pick(prev, ['cusip', 'permno', 'permco', 'issuno', 'hexcd', 'hsiccd']), date, bidlo: b.low, askhi: b.high, prc: b.prc, vol: b.vol,
        ret: fixed(b.ret, 6), bid: b.bid, ask: b.ask, shrout: b.shrout, cfacpr: 1, cfacshr: 1, openprc: b.open, numtrd: b.numtrd, retx: fixed(b.retx, 6) };
    }
  }
}

function* dsfV2Append(seed: number, days: readonly string[], lastDsf: Map<number, Row>, lastV2: Map<number, Row>): Generator<Row> {
  for (const [permno, prev] of lastDsf) {
    const meta = lastV2.get(permno);
    if (meta === undefined) continue;
    for (const { date, bar: b } of barsFor(seed, days, prev)) {
      const price = b.prc === null ? null : Math.abs(b.prc);
      yield { ...meta, dlycaldt: date, dlyprc: price, dlyopen: b.open, dlyhigh: b.traded ? b.high : null, dlylow: b.traded ? b.low : null, dlyvol: b.vol,
        shrout: b.shrout, dlyret: b.ret === null ? null : round(b.ret, 6), dlyretx: b.retx === null ? null : round(b.retx, 6), dlyfacprc: 1,
        dlyprcflg: b.traded ? 'TR' : 'BA', dlydelflg: 'N', dlyretmissflg: null, dlybid: b.bid, dlyask: b.ask, dlyclose: b.traded ? b.prc : null,
        dlynumtrd: b.numtrd, dlycap: price === null ? null : round(price * b.shrout, 2), dlycumfacpr: 1, dlycumfacshr: 1 };
    }
  }
}

function* dsiAppend(seed: number, days: readonly string[], last: Row | undefined): Generator<Row> {
  if (last === undefined) return;
  const state = { spindx: Number(last['spindx']), totval: Number(last['totval']), totcnt: Number(last['totcnt']) };
  const spec = crspLegacyTables.find((t) => t.name === 'dsi') as TableSpec;
  for (const d of days) {
    const m = marketDay(seed, d);
    yield asRow(spec, dsiRow(seed, d, m.mkt, m.smb, state));
  }
}

function pick(row: Row, keys: readonly string[]): Row {
  return Object.fromEntries(keys.map((k) => [k, row[k]]));
}

function asRow(spec: TableSpec | undefined, cells: readonly Cell[]): Row {
  return Object.fromEntries((spec?.columns ?? []).map((c, i) => [c.name, cells[i] ?? null]));
}

/** COPY named values into the relation's storage, using whichever columns it has now (after add/drop column). */
async function copyRows(session: PgSession, table: string, rows: Iterable<Row>): Promise<number> {
  const rel = await describeRelation(session, table);
  const known = new Set([...crspLegacyTables, ...crspCizTables, ...ffTables].flatMap((t) => t.columns.map((c) => c.name)));
  const columns = (await storageColumns(session, rel)).filter((c) => known.has(c));
  const counter = { rows: 0 };
  const cells = function* (): Generator<Cell[]> {
    for (const row of rows) yield columns.map((c) => toCell(row[c]));
  };
  await session.copyFrom(`COPY ${rel.storageSql} (${columns.map(ident).join(', ')}) FROM STDIN`, copyChunks(cells(), counter));
  return counter.rows;
}

function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}
