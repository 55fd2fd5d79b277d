/**
 * generateWrdsSample: creates WRDS's schemas and relations in a PostgreSQL database and streams
 * deterministic data into them with COPY ... FROM STDIN. Memory stays bounded: rows are produced
 * one security (or symbol) at a time and sent in 64 KiB chunks.
 */
import { z } from 'zod';
import { isPgSession, openPgSession } from '../pg-server.js';
import type { PgClientLike, PgConnectionConfig, PgSession } from '../pg-server.js';
import { WarehouseError } from '../../log/index.js';
import { earlyCloses } from '../../calendar/index.js';
import { ccmTables, compTables, crspCizTables, crspLegacyTables, ffTables, qualifiedName, taqTables } from './catalog.js';
import type { TableSpec } from './catalog.js';
import { copyChunks } from './copy-text.js';
import type { Cell } from './copy-text.js';
import { createContext } from './context.js';
import type { SampleContext } from './context.js';
import { createStorage, finishRelations, ident, storageOf } from './ddl.js';
import { dsfV2Rows, msfV2Rows, securityInfoRows, stkDelistRows } from './rows-ciz.js';
import { companyRows, cusip9, fundaRows, fundqRows, linkRows } from './rows-comp.js';
import { delistRows, distRows, dsfRows, dsiRows, msfRows, namesRows, stocknamesRows } from './rows-crsp.js';
import { factorsDailyRows, factorsMonthlyRows, fiveFactorsDailyRows } from './rows-ff.js';
import { masterRows, nbboRows, quoteRows, tradeRows } from './rows-taq.js';
import { sp500Rows, sp500Tables } from './rows-sp500.js';
import { iidRows, iidTable } from './rows-iid.js';
import type { TaqSymbol } from './rows-taq.js';
import { spellOn } from './universe.js';

/** Options of {@link generateWrdsSample}, validated with {@link wrdsSampleOptionsSchema}. */
export const wrdsSampleOptionsSchema = z.object({
  /** Same seed (and options) ⇒ byte-identical tables. */
  seed: z.number().int().default(1),
  /** Permnos = 50 × scale (scale 1: ~50 permnos, ~110k daily rows; scale 100: ~10M). */
  scale: z.number().min(1).max(2000).default(1),
  fromYear: z.number().int().min(1995).max(2029).default(2015),
  toYear: z.number().int().min(1996).max(2030).default(2024),
  /** Vintage date in every comment; default `${toYear + 1}-02-08`. */
  vintage: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  /** TAQ days: explicit sessions, or how many of the final year's last sessions (one an early close if any). */
  taqDays: z.union([z.number().int().min(0).max(20), z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/))]).default(3),
  /** Symbols per TAQ day. */
  taqSymbols: z.number().int().min(1).max(5000).default(40),
}).refine((o) => o.toYear - o.fromYear >= 2, { message: 'the sample needs at least three years (toYear - fromYear >= 2)' });

export type WrdsSampleOptions = z.input<typeof wrdsSampleOptionsSchema>;

/** What was loaded. */
export interface WrdsSampleResult {
  readonly tables: readonly { readonly name: string; readonly rows: number; readonly ms: number }[];
  readonly seed: number;
  readonly scale: number;
  readonly fromYear: number;
  readonly toYear: number;
  readonly vintage: string;
  readonly taqDays: readonly string[];
  readonly permnos: number;
  readonly durationMs: number;
}

/** A session, a connection config, or a connected pg.Client the caller owns. */
export type WrdsSampleTarget = PgSession | PgConnectionConfig | PgClientLike;

type RowSource = (ctx: SampleContext) => Iterable<readonly Cell[]>;

const SOURCES: Readonly<Record<string, RowSource>> = {
  'crsp.dsf': dsfRows, 'crsp.msf': msfRows, 'crsp.dsenames': namesRows, 'crsp.msenames': namesRows, 'crsp.stocknames': stocknamesRows,
  'crsp.dsedelist': delistRows, 'crsp.msedelist': delistRows, 'crsp.dsedist': distRows, 'crsp.dsi': dsiRows,
  'crsp.dsf_v2': dsfV2Rows, 'crsp.msf_v2': msfV2Rows, 'crsp.stksecurityinfohist': securityInfoRows, 'crsp.stkdelists': stkDelistRows,
  'crsp.ccmxpf_lnkhist': linkRows, 'comp.funda': fundaRows, 'comp.fundq': fundqRows, 'comp.company': companyRows,
  'crsp.dsp500list': sp500Rows, 'crsp.msp500list': sp500Rows,
  'ff.factors_daily': factorsDailyRows, 'ff.factors_monthly': factorsMonthlyRows, 'ff.fivefactors_daily': fiveFactorsDailyRows,
};

/** Opens a session on any target; `close` ends it only if this call opened it. */
export async function sessionFor(target: WrdsSampleTarget): Promise<{ session: PgSession; close: () => Promise<void> }> {
  if (isPgSession(target)) return { session: target, close: async () => undefined };
  const session = await openPgSession(target);
  return { session, close: () => session.end() };
}

/**
 * Creates WRDS's schemas and relations (dropping any previous ones) and loads a deterministic
 * sample into them. Throws `WarehouseError('INVALID_ARGUMENT')` on bad options.
 *
 * @example
 * const server = await startPostgres();
 * const db = await createDatabase(server, 'wrds');
 * const { tables } = await generateWrdsSample(db, { seed: 7, scale: 1 });
 * // tables: [{ name: 'crsp.dsf', rows: 110_000 }, ...]
 */
export async function generateWrdsSample(target: WrdsSampleTarget, options: WrdsSampleOptions = {}): Promise<WrdsSampleResult> {
  const parsed = wrdsSampleOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new WarehouseError('INVALID_ARGUMENT', `bad WRDS sample options: ${parsed.error.message}`, { cause: parsed.error });
  }
  const o = parsed.data;
  const started = Date.now();
  const vintage = o.vintage ?? `${o.toYear + 1}-02-08`;
  const ctx = createContext(o.seed, o.scale, o.fromYear, o.toYear, vintage);
  const { session, close } = await sessionFor(target);
  try {
    const specs = [...crspLegacyTables, ...crspCizTables, ...ccmTables, ...compTables, ...ffTables, ...sp500Tables];
    const days = taqDaysOf(ctx, o.taqDays);
    const iidSpecs = [...new Set(days.map((d) => d.slice(0, 4)))].map(iidTable);
    const taqSpecs = [...days.flatMap(taqTables), ...iidSpecs];
    await createStorage(session, [...specs, ...taqSpecs]);
    const tables: { name: string; rows: number; ms: number }[] = [];
    const timed = async (spec: TableSpec, rows: Iterable<readonly Cell[]>): Promise<void> => {
      const t0 = Date.now();
      const count = await load(session, spec, rows);
      tables.push({ name: qualifiedName(spec), rows: count, ms: Date.now() - t0 });
    };
    for (const spec of specs) {
      const source = SOURCES[qualifiedName(spec)];
      if (source === undefined) throw new Error(`no row source for ${qualifiedName(spec)}`);
      await timed(spec, source(ctx));
    }
    for (const day of days) {
      const symbols = await taqSymbols(session, ctx, day, o.taqSymbols);
      const [ctm, cqm, nbbo, mast] = taqTables(day) as [TableSpec, TableSpec, TableSpec, TableSpec];
      await timed(ctm, tradeRows(o.seed, day, symbols));
      await timed(cqm, quoteRows(o.seed, day, symbols));
      await timed(nbbo, nbboRows(o.seed, day, symbols));
      await timed(mast, masterRows(day, symbols));
      await timed(iidSpecs.find((x) => x.name === `wrds_iid_${day.slice(0, 4)}`)!, iidRows(o.seed, day, symbols));
    }
    await finishRelations(session, [...specs, ...taqSpecs], vintage);
    return {
      tables, seed: o.seed, scale: o.scale, fromYear: o.fromYear, toYear: o.toYear, vintage, taqDays: days,
      permnos: ctx.securities.length, durationMs: Date.now() - started,
    };
  } finally {
    await close();
  }
}

/** Streams `rows` into the storage table of `spec` with COPY; returns the row count. */
export async function load(session: PgSession, spec: TableSpec, rows: Iterable<readonly Cell[]>): Promise<number> {
  const counter = { rows: 0 };
  const columns = spec.columns.map((c) => ident(c.name)).join(', ');
  await session.copyFrom(`COPY ${storageOf(spec)} (${columns}) FROM STDIN`, copyChunks(rows, counter));
  return counter.rows;
}

/** The TAQ days: explicit, or the last `count` sessions of the final year with its last early close among them. */
function taqDaysOf(ctx: SampleContext, taqDays: number | readonly string[]): string[] {
  if (typeof taqDays !== 'number') {
    const known = new Set(ctx.days);
    const bad = taqDays.filter((d) => !known.has(d));
    if (bad.length > 0) throw new WarehouseError('INVALID_ARGUMENT', `TAQ days are not sessions of the sample: ${bad.join(', ')}`);
    return [...new Set(taqDays)].sort();
  }
  if (taqDays === 0) return [];
  const early = earlyCloses(`${ctx.toYear}-01-01`, `${ctx.toYear}-12-31`).map((e) => e.date).at(-1);
  const chosen = new Set<string>(early === undefined ? [] : [early]);
  for (let i = ctx.days.length - 1; i >= 0 && chosen.size < taqDays; i--) chosen.add(ctx.days[i] as string);
  return [...chosen].sort();
}

/** The symbols traded on `day`, with open/close/volume read back from the loaded crsp.dsf. */
async function taqSymbols(session: PgSession, ctx: SampleContext, day: string, limit: number): Promise<TaqSymbol[]> {
  const { rows } = await session.query<{ permno: number; open: string; close: string; vol: string }>(
    `SELECT permno, coalesce(openprc, abs(prc)) AS open, abs(prc) AS close, coalesce(vol, 0) AS vol
       FROM crsp_a_stock.dsf WHERE date = $1 AND prc IS NOT NULL ORDER BY permno LIMIT $2`, [day, limit]);
  const byPermno = new Map(ctx.securities.map((s) => [s.permno, s]));
  const seen = new Set<string>();
  const symbols: TaqSymbol[] = [];
  for (const r of rows) {
    const sec = byPermno.get(r.permno);
    if (sec === undefined) continue;
    const spell = spellOn(sec, day);
    if (seen.has(spell.ticker)) continue;
    seen.add(spell.ticker);
    symbols.push({ symRoot: spell.ticker, cusip: cusip9(spell.ncusip), exchcd: spell.exchcd, open: Number(r.open), close: Number(r.close), vol: Number(r.vol) });
  }
  return symbols.sort((a, b) => a.symRoot.localeCompare(b.symRoot));
}
