/**
 * The Fama–French provider over a real warehouse: French files loaded with `loadFrenchFile`, and
 * WRDS-shaped `ff_*` datasets (decimals, monthly rows dated the 1st) ingested through the same
 * write path. Both sources give decimals under one naming; dates are bound parameters; an as-of
 * session shows the values of the load that was current then.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type EventLog, type WarehouseError } from '../../src/log/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { openSession, type WarehouseSession } from '../../src/query/index.js';
import { famaFrenchFactors, type FamaFrenchOptions } from '../../src/providers/fama-french.js';
import type { Duck, DuckParam } from '../../src/engine/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { loadFrenchFile, parseFrenchText, type FrenchSection } from '../../src/sync/french/index.js';
import { cleanupTempDirs, repoRoot, tempDir } from '../support/wh-cli.js';
import { newWarehouse } from '../store/crash-invariants.js';

const DATA = join(repoRoot, '..', 'shared', 'data', 'kenneth_french');
const raw = (f: string): string => readFileSync(join(DATA, f), 'latin1');
const sectionOf = (f: string, key: string): FrenchSection => parseFrenchText(raw(f), f).sections.find((s) => s.key === key)!;
const col = (s: FrenchSection, r: { values: readonly (number | null)[] }, c: string): number | null => r.values[s.columns.indexOf(c)]!;

let dir: string;
let log: EventLog;
let files: string;
let beforeRevision: number;

/** WRDS `ff.*` relations as `wh sync` stores them: decimals; monthly `date` is the month's first day. */
async function ingestWrdsShaped(): Promise<void> {
  const d3 = sectionOf('F-F_Research_Data_Factors_daily.CSV', 'daily');
  const d5 = sectionOf('F-F_Research_Data_5_Factors_2x3_daily.CSV', 'daily');
  const m3 = sectionOf('F-F_Research_Data_Factors.CSV', 'monthly');
  const umd = (i: number) => Number(((i % 13) / 1000 - 0.006).toFixed(4));
  const write = async (dataset: string, partition: string, header: string, lines: string[]) => {
    const p = join(files, `${dataset}.csv`);
    writeFileSync(p, [header, ...lines].join('\n') + '\n');
    await ingestFile({ dir, log, dataset, partition, file: p, key: ['date'], whVersion: 'test' });
  };
  const year2024 = <T extends { date: string }>(rows: readonly T[]) => rows.filter((r) => r.date.startsWith('2024'));
  await write('ff_factors_daily', '2024', 'date,mktrf,smb,hml,rf,umd', year2024(d3.rows).map((r, i) => [r.date, ...['mkt_rf', 'smb', 'hml', 'rf'].map((c) => col(d3, r, c)), umd(i)].join(',')));
  await write('ff_fivefactors_daily', '2024', 'date,mktrf,smb,hml,rmw,cma,rf,umd', year2024(d5.rows).map((r, i) => [r.date, ...['mkt_rf', 'smb', 'hml', 'rmw', 'cma', 'rf'].map((c) => col(d5, r, c)), umd(i)].join(',')));
  const months = m3.rows.filter((r) => r.date >= '2023-01-01');
  await write('ff_factors_monthly', 'all', 'date,mktrf,smb,hml,rf,umd,dateff', months.map((r, i) => [`${r.date.slice(0, 7)}-01`, ...['mkt_rf', 'smb', 'hml', 'rf'].map((c) => col(m3, r, c)), umd(i), r.date].join(',')));
}

beforeAll(async () => {
  dir = newWarehouse('wh-ff-');
  files = tempDir('wh-ff-files-');
  log = openWarehouseLog(dir);
  for (const f of ['F-F_Research_Data_Factors.CSV', 'F-F_Research_Data_Factors_daily.CSV', 'F-F_Research_Data_5_Factors_2x3_daily.CSV', '10_Industry_Portfolios.CSV']) {
    await loadFrenchFile({ dir, log, source: join(DATA, f), whVersion: 'test' });
  }
  await ingestWrdsShaped();
  // French revises history: a later vintage with a changed August 2024.
  beforeRevision = log.head().seq;
  const revised = join(files, 'F-F_Research_Data_Factors.CSV');
  writeFileSync(revised, raw('F-F_Research_Data_Factors.CSV').replace('the 202408 CRSP', 'the 202409 CRSP').replace('202408,    1.61,', '202408,    1.62,'), 'latin1');
  const res = await loadFrenchFile({ dir, log, source: revised, whVersion: 'test' });
  expect(res).toMatchObject({ dataset: 'french_ff3', vintage: '202409', status: 'loaded' });
});
afterAll(() => {
  log.close();
  cleanupTempDirs();
});

async function withSession<T>(fn: (s: WarehouseSession) => Promise<T>, asOf?: string): Promise<T> {
  const s = await openSession(dir, log, { asOf });
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}
const factors = (o: FamaFrenchOptions, asOf?: string) => withSession((s) => famaFrenchFactors(s, o), asOf);

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected a refusal'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

describe('famaFrenchFactors', () => {
  it('ff3 monthly: both sources give the same decimals, dated by month end', async () => {
    const range = { model: 'ff3', frequency: 'monthly', start: '2024-01', end: '2024-07' } as const;
    const wrds = await factors({ ...range, source: 'wrds' });
    const french = await factors({ ...range, source: 'french' });
    expect(wrds).toMatchObject({ source: 'wrds', dataset: 'ff_factors_monthly', section: null, vintages: [] });
    expect(french).toMatchObject({ source: 'french', dataset: 'french_ff3', section: 'monthly', vintages: ['202409'] });
    expect(wrds.columns).toEqual(['date', 'mktrf', 'smb', 'hml', 'rf']);
    expect(french.columns).toEqual(wrds.columns);
    expect(wrds.rows).toHaveLength(7);
    expect(french.rows).toEqual(wrds.rows);
    expect(wrds.rows[1]).toEqual({ date: '2024-02-29', mktrf: 0.0507, smb: -0.0022, hml: -0.0352, rf: 0.0042 });
  });

  it('defaults to WRDS when synced, else the French files', async () => {
    expect((await factors({ model: 'ff3', frequency: 'daily', start: '2024-08' })).source).toBe('wrds');
    const ind = await factors({ model: 'industry10', frequency: 'monthly', end: '1926-08' });
    expect(ind).toMatchObject({ source: 'french', dataset: 'french_ind10', section: 'vw_monthly', vintages: ['202104'] });
    expect(ind.columns).toEqual(['date', 'nodur', 'durbl', 'manuf', 'enrgy', 'hitec', 'telcm', 'shops', 'hlth', 'utils', 'other']);
    expect(ind.rows[0]).toMatchObject({ date: '1926-07-31', nodur: 0.0145, hlth: 0.0177, other: 0.0216 });
    expect(ind.rows).toHaveLength(2);
    const ew = await factors({ model: 'industry10_ew', frequency: 'monthly', start: '2021-04', end: '2021-04' });
    expect(ew.rows).toEqual([{ date: '2021-04-30', nodur: 0.0423, durbl: 0.0108, manuf: 0.0181, enrgy: -0.0158, hitec: 0.0273, telcm: 0.0259, shops: 0.0367, hlth: -0.0233, utils: 0.0323, other: 0.0279 }]);
  });

  it('ff5 daily and momentum from WRDS, ff5 daily from French: decimals, filtered by inclusive dates', async () => {
    const week = { model: 'ff5', frequency: 'daily', start: '2024-08-05', end: '2024-08-09' } as const;
    const wrds = await factors({ ...week, source: 'wrds' });
    const french = await factors({ ...week, source: 'french', dataset: undefined });
    expect(wrds.rows.map((r) => r.date)).toEqual(['2024-08-05', '2024-08-06', '2024-08-07', '2024-08-08', '2024-08-09']);
    expect(wrds.columns).toEqual(['date', 'mktrf', 'smb', 'hml', 'rmw', 'cma', 'rf']);
    expect(french.rows).toEqual(wrds.rows);
    expect((await factors({ model: 'ff5', frequency: 'daily', start: '2024-08', end: '2024-08' })).rows).toHaveLength(22);
    const mom = await factors({ model: 'mom', frequency: 'monthly', start: '2024' });
    expect(mom.columns).toEqual(['date', 'umd']);
    expect(mom.rows.map((r) => r.date)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30', '2024-07-31', '2024-08-31']);
  });

  it('binds the dates as parameters ($1, $2), never into the SQL', async () => {
    const seen: { sql: string; params: readonly DuckParam[] }[] = [];
    await withSession(async (s) => {
      const duck: Duck = Object.assign(Object.create(s.duck) as Duck, {
        all: (sql: string, params: readonly DuckParam[] = []) => (seen.push({ sql, params }), s.duck.all(sql, params)),
      });
      const spy: WarehouseSession = { ...s, duck };
      await famaFrenchFactors(spy, { model: 'ff3', frequency: 'daily', start: '2024-08-01', end: '2024-08-15', source: 'french' });
    });
    const main = seen.at(-1)!;
    expect(main.sql).toContain('BETWEEN $1::DATE AND $2::DATE');
    expect(main.sql).not.toContain('2024-08');
    expect(main.params).toEqual(['2024-08-01', '2024-08-15', 'daily']);
    const e = await refusal(factors({ model: 'ff3', frequency: 'daily', start: "2024-01-01' OR 1=1 --" }));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('as of a seq before a revised file was loaded: the older values and vintage', async () => {
    const aug = { model: 'ff3', frequency: 'monthly', start: '2024-08-01', end: '2024-08-31', source: 'french' } as const;
    const then = await factors(aug, String(beforeRevision));
    const now = await factors(aug);
    expect(then.rows).toEqual([{ date: '2024-08-31', mktrf: 0.0161, smb: -0.0355, hml: -0.0112, rf: 0.0048 }]);
    expect(then.vintages).toEqual(['202408']);
    expect(then.point.seq).toBe(beforeRevision);
    expect(now.rows).toEqual([{ date: '2024-08-31', mktrf: 0.0162, smb: -0.0355, hml: -0.0112, rf: 0.0048 }]);
    expect(now.vintages).toEqual(['202409']);
    // Before anything was loaded there is no Fama–French data at all.
    expect((await refusal(factors(aug, '1'))).code).toBe('UNKNOWN_DATASET');
  });

  it('refuses what a source does not have, and bad options', async () => {
    const cases: [FamaFrenchOptions, string, RegExp][] = [
      [{ model: 'industry10', frequency: 'monthly', source: 'wrds' }, 'INVALID_ARGUMENT', /WRDS has no monthly industry10/],
      [{ model: 'ff5', frequency: 'monthly', source: 'wrds' }, 'INVALID_ARGUMENT', /WRDS has no monthly ff5/],
      [{ model: 'mom', frequency: 'monthly', source: 'french' }, 'UNKNOWN_DATASET', /french_mom is not in the warehouse/],
      [{ model: 'ff5', frequency: 'monthly', source: 'french' }, 'UNKNOWN_DATASET', /french_ff5 has no section "monthly"/],
      [{ model: 'ff3', frequency: 'monthly', dataset: 'french_ind10', source: 'french' }, 'QUERY_FAILED', /has no column\(s\) mkt_rf, smb, hml, rf/],
      [{ model: 'ff4' as 'ff3', frequency: 'monthly' }, 'INVALID_ARGUMENT', /model/],
      [{ model: 'ff3', frequency: 'monthly', start: '2024-02-30' }, 'INVALID_ARGUMENT', /not a valid date/],
      [{ model: 'ff3', frequency: 'monthly', start: '2024', end: '2023' }, 'INVALID_ARGUMENT', /after end/],
    ];
    for (const [o, code, message] of cases) {
      const e = await refusal(factors(o));
      expect([e.code, e.message], JSON.stringify(o)).toEqual([code, expect.stringMatching(message)]);
      expect(e.suggestion).toBeTruthy();
    }
  });
});
