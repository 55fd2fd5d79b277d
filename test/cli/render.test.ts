/** The CLI's one rendering module: tables read like a researcher writes numbers; CSV/JSON keep every digit. */
import { describe, expect, it } from 'vitest';
import { csvCell, formatNumber, renderRows, table } from '../../cli/render.js';

describe('rendering', () => {
  it('tables round what a person reads and leave identifiers alone', () => {
    expect(formatNumber(503434809099.99994)).toBe('503,434,809,100.00');
    expect(formatNumber(-0.30000000000000004)).toBe('-0.3');
    expect(formatNumber(0.012345678)).toBe('0.0123457');
    expect(formatNumber(12.5)).toBe('12.5');
    expect(formatNumber(10545)).toBe('10545');
    expect(formatNumber(1.5e-9)).toBe('1.50000e-9');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });

  it('numeric columns are right-aligned, NULL spelled out', () => {
    const t = table([{ permno: 10001, mktcap: 503434809099.99994, ticker: 'AB' }, { permno: 10002, mktcap: null, ticker: 'CDE' }]).split('\n');
    expect(t[0]).toBe('permno              mktcap  ticker');
    expect(t[2]).toBe(' 10001  503,434,809,100.00  AB');
    expect(t[3]).toBe(' 10002                NULL  CDE');
  });

  it('CSV and JSON keep full precision', () => {
    const rows = [{ x: 503434809099.99994, s: 'a,"b"' }];
    expect(renderRows('csv', rows, ['x', 's'])).toBe('x,s\n503434809099.99994,"a,""b"""\n');
    expect(JSON.parse(renderRows('json', rows, ['x', 's']))[0].x).toBe(503434809099.99994);
    expect(csvCell(null)).toBe('');
  });
});
