/**
 * Issue 11, items 1-7, over a warehouse synced from the generated WRDS-shaped sample (seed 1): each
 * expected value is computed independently of the providers, by plain SQL over the synced raw
 * datasets, and compared with what the providers return.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyPrices, monthlyPrices } from '../../src/query/providers/index.js';
import { plain } from '../support/crsp-fixture.js';
import { buildSampleWarehouse, type SampleWarehouse } from '../support/sample-warehouse.js';
import { cleanupTempDirs } from '../support/wh-cli.js';

let sw: SampleWarehouse;
beforeAll(async () => {
  sw = await buildSampleWarehouse({ seed: 1, scale: 1, fromYear: 2015, toYear: 2017 });
});
afterAll(async () => {
  await sw?.close();
  cleanupTempDirs();
});

/** The first and last calendar day of the month of `date`. */
export const monthOf = (date: string): { start: string; end: string } => {
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  return { start: `${date.slice(0, 7)}-01`, end: new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10) };
};

describe('1. CIZ applies Shumway when CRSP has no delisting return for a performance delisting', () => {
  it('daily: the delisting-date return is (1+dlyret)(1-0.30)-1, or -0.30 without dlyret, as legacy gives', async () => {
    const expected = await sw.raw(`
      SELECT CAST(d.permno AS INTEGER) AS permno, CAST(d.delistingdt AS VARCHAR) AS date,
        CASE WHEN f.dlyret IS NULL THEN -0.30 ELSE (1 + CAST(f.dlyret AS DOUBLE)) * 0.70 - 1 END AS total_ret
      FROM crsp_stkdelists d LEFT JOIN crsp_dsf_v2 f ON f.permno = d.permno AND f.dlycaldt = d.delistingdt
      WHERE d.delret IS NULL AND d.delactiontype = 'DEL' ORDER BY 1`);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const e of expected) {
      const date = e['date'] as string;
      const ciz = plain(await dailyPrices(sw.wh.session, { permnos: [e['permno'] as number], start: date, end: date, format: 'ciz' }));
      const legacy = plain(await dailyPrices(sw.wh.session, { permnos: [e['permno'] as number], start: date, end: date }));
      expect(ciz).toHaveLength(1);
      expect(ciz[0]!['total_ret'] as number).toBeCloseTo(e['total_ret'] as number, 9);
      expect(ciz[0]!['dlret']).toBe(-0.3);
      expect(legacy[0]!['total_ret'] as number).toBeCloseTo(ciz[0]!['total_ret'] as number, 6);
    }
  });

  it('monthly: the delisting month is (1+mthret)(1-0.30)-1, or -0.30 without mthret', async () => {
    const expected = await sw.raw(`
      SELECT CAST(d.permno AS INTEGER) AS permno, CAST(d.delistingdt AS VARCHAR) AS dt,
        CASE WHEN m.mthret IS NULL THEN -0.30 ELSE (1 + CAST(m.mthret AS DOUBLE)) * 0.70 - 1 END AS total_ret
      FROM crsp_stkdelists d LEFT JOIN crsp_msf_v2 m ON m.permno = d.permno AND date_trunc('month', m.mthcaldt) = date_trunc('month', d.delistingdt)
      WHERE d.delret IS NULL AND d.delactiontype = 'DEL' ORDER BY 1`);
    for (const e of expected) {
      const rows = plain(await monthlyPrices(sw.wh.session, { permnos: [e['permno'] as number], ...monthOf(e['dt'] as string), format: 'ciz' }));
      expect(rows).toHaveLength(1);
      expect(rows[0]!['total_ret'] as number).toBeCloseTo(e['total_ret'] as number, 9);
    }
  });
});
