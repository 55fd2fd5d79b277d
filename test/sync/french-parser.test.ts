/**
 * The Kenneth French parser against the real files in ../shared/data/kenneth_french: every file
 * parses; values match the files (checked cell by cell by an independent naive reader, plus spot
 * checks); the same values come out when a file is laid out differently; malformed files give a
 * ValidationError naming the line and the problem.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidationError } from '../../src/log/index.js';
import { datasetForFile, parseFrenchText, sectionKey, type ParsedFrenchFile } from '../../src/sync/french/index.js';
import { LineSplitter } from '../../src/sync/french/lines.js';
import { repoRoot } from '../support/wh-cli.js';

const DATA = join(repoRoot, '..', 'shared', 'data', 'kenneth_french');
const FILES = readdirSync(DATA).filter((f) => /\.csv$/i.test(f)).sort();
const text = (f: string): string => readFileSync(join(DATA, f), 'latin1');
const parse = (f: string, t = text(f)): ParsedFrenchFile => parseFrenchText(t, f);

const section = (p: ParsedFrenchFile, key: string) => {
  const s = p.sections.find((x) => x.key === key);
  if (s === undefined) throw new Error(`no section ${key} (have ${p.sections.map((x) => x.key).join(', ')})`);
  return s;
};
/** Row of a section by raw period, as { column: value }. */
const row = (p: ParsedFrenchFile, key: string, period: number): Record<string, unknown> => {
  const s = section(p, key);
  const r = s.rows.find((x) => x.period === period);
  if (r === undefined) throw new Error(`no row ${period} in ${key}`);
  return { date: r.date, ...Object.fromEntries(s.columns.map((c, i) => [c, r.values[i]])) };
};

const EXPECTED: Record<string, { vintage: string; sections: Record<string, number> }> = {
  '10_Industry_Portfolios.CSV': {
    vintage: '202104',
    sections: { vw_monthly: 1138, ew_monthly: 1138, vw_annual: 94, ew_annual: 94, nfirms_monthly: 1138, size_monthly: 1138, bm_sum_annual: 95, bm_vw_annual: 95 },
  },
  'F-F_Research_Data_5_Factors_2x3_daily.CSV': { vintage: '202408', sections: { daily: 15397 } },
  'F-F_Research_Data_Factors.CSV': { vintage: '202408', sections: { monthly: 1178, annual: 97 } },
  'F-F_Research_Data_Factors_daily.CSV': { vintage: '202408', sections: { daily: 25817 } },
};

describe('every file in shared/data/kenneth_french', () => {
  it('is covered by this test', () => {
    expect(FILES).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(FILES)('%s parses into its sections, with its CRSP vintage', (f) => {
    const p = parse(f);
    expect(p.vintage).toBe(EXPECTED[f]!.vintage);
    expect(Object.fromEntries(p.sections.map((s) => [s.key, s.rows.length]))).toEqual(EXPECTED[f]!.sections);
    expect(p.preamble).toMatch(/^This file was created by CMPT_\w+ using the \d{6} CRSP database\./);
  });

  it.each(FILES)('%s: every cell equals the file (an independent naive reader, percent → decimals)', (f) => {
    const p = parse(f);
    // Naive reader: each data line, in order, in the order the sections come.
    const lines = text(f).split(/\r?\n/).filter((l) => /^\s*\d{4,8}\s*,/.test(l));
    const rows = p.sections.flatMap((s) => s.rows.map((r) => ({ s, r })));
    expect(rows).toHaveLength(lines.length);
    rows.forEach(({ s, r }, i) => {
      const cells = lines[i]!.split(',').map((c) => c.trim());
      expect(r.period).toBe(Number(cells[0]));
      cells.slice(1).forEach((c, j) => {
        const raw = Number(c);
        const want = raw === -99.99 || raw === -999 ? null : s.unit === 'decimal' ? Number(`${c}e-2`) : raw;
        expect(r.values[j], `${f} line ${i} cell ${j}`).toBe(want);
      });
    });
  });
});

describe('values and names', () => {
  it('F-F_Research_Data_Factors: monthly and annual, first and last rows, in decimals', () => {
    const p = parse('F-F_Research_Data_Factors.CSV');
    const m = section(p, 'monthly');
    expect(m).toMatchObject({ title: null, frequency: 'monthly', unit: 'decimal', headers: ['Mkt-RF', 'SMB', 'HML', 'RF'], columns: ['mkt_rf', 'smb', 'hml', 'rf'], line: 4 });
    expect(m.rows[0]).toEqual({ date: '1926-07-31', period: 192607, values: [0.0296, -0.0256, -0.0243, 0.0022] });
    expect(m.rows.at(-1)).toEqual({ date: '2024-08-31', period: 202408, values: [0.0161, -0.0355, -0.0112, 0.0048] });
    expect(row(p, 'monthly', 202402)).toMatchObject({ date: '2024-02-29' });
    const a = section(p, 'annual');
    expect(a).toMatchObject({ title: 'Annual Factors: January-December', frequency: 'annual', unit: 'decimal', line: 1185 });
    expect(row(p, 'annual', 1927)).toEqual({ date: '1927-12-31', mkt_rf: 0.2947, smb: -0.0204, hml: -0.0454, rf: 0.0312 });
    expect(row(p, 'annual', 2023)).toEqual({ date: '2023-12-31', mkt_rf: 0.2168, smb: -0.0329, hml: -0.137, rf: 0.0495 });
  });

  it('daily files: ISO dates, RF to five decimals', () => {
    const d = parse('F-F_Research_Data_Factors_daily.CSV');
    expect(row(d, 'daily', 19260701)).toEqual({ date: '1926-07-01', mkt_rf: 0.001, smb: -0.0025, hml: -0.0027, rf: 0.00009 });
    expect(row(d, 'daily', 20240830)).toEqual({ date: '2024-08-30', mkt_rf: 0.0098, smb: -0.0055, hml: 0.0004, rf: 0.00022 });
    const f5 = parse('F-F_Research_Data_5_Factors_2x3_daily.CSV');
    expect(section(f5, 'daily').columns).toEqual(['mkt_rf', 'smb', 'hml', 'rmw', 'cma', 'rf']);
    expect(row(f5, 'daily', 19630701)).toEqual({ date: '1963-07-01', mkt_rf: -0.0067, smb: 0.0002, hml: -0.0035, rmw: 0.0003, cma: 0.0013, rf: 0.00012 });
    // The file ends on this row, with no line ending and no footer.
    expect(row(f5, 'daily', 20240830)).toEqual({ date: '2024-08-30', mkt_rf: 0.0098, smb: -0.0056, hml: 0.0004, rmw: -0.002, cma: -0.0014, rf: 0.00022 });
  });

  it('10_Industry_Portfolios: eight titled sections, trimmed headers, units kept for non-returns', () => {
    const p = parse('10_Industry_Portfolios.CSV');
    const vw = section(p, 'vw_monthly');
    expect(vw.title).toBe('Average Value Weighted Returns -- Monthly');
    expect(vw.headers).toContain('Hlth');
    expect(vw.columns).toEqual(['nodur', 'durbl', 'manuf', 'enrgy', 'hitec', 'telcm', 'shops', 'hlth', 'utils', 'other']);
    expect(row(p, 'vw_monthly', 192607)).toMatchObject({ date: '1926-07-31', nodur: 0.0145, durbl: 0.1555, hlth: 0.0177, other: 0.0216 });
    expect(row(p, 'vw_monthly', 202104)).toMatchObject({ date: '2021-04-30', nodur: 0.0343, other: 0.058 });
    expect(row(p, 'ew_annual', 2020)).toMatchObject({ date: '2020-12-31', nodur: 0.2071, durbl: 0.8831 });
    expect(Object.fromEntries(p.sections.map((s) => [s.key, s.unit]))).toEqual({
      vw_monthly: 'decimal', ew_monthly: 'decimal', vw_annual: 'decimal', ew_annual: 'decimal',
      nfirms_monthly: 'count', size_monthly: 'usd_millions', bm_sum_annual: 'ratio', bm_vw_annual: 'ratio',
    });
    expect(row(p, 'nfirms_monthly', 192607)).toMatchObject({ nodur: 90, durbl: 37, hlth: 7 });
    expect(row(p, 'size_monthly', 192607)).toMatchObject({ nodur: 31.58, telcm: 350.36 });
    expect(row(p, 'bm_sum_annual', 1926)).toMatchObject({ date: '1926-12-31', nodur: 0.76, other: 1.33 });
    expect(row(p, 'bm_vw_annual', 2020)).toMatchObject({ nodur: 0.27, enrgy: 1.57 });
  });

  it('-99.99 and -999 are missing (null), in returns and in counts', () => {
    // The shipped file says so in its prose but has no missing cell: put two in.
    const t = text('10_Industry_Portfolios.CSV')
      .replace('192607,   1.45,', '192607,-99.99,')
      .replace(/(\r\n192607,\s+90,\s+37,)\s+127,/, '$1   -999,');
    const p = parse('10_Industry_Portfolios.CSV', t);
    expect(row(p, 'vw_monthly', 192607)).toMatchObject({ nodur: null, durbl: 0.1555 });
    expect(row(p, 'nfirms_monthly', 192607)).toMatchObject({ nodur: 90, durbl: 37, manuf: null, enrgy: 51 });
  });

  it('names datasets by family and sections by title and frequency', () => {
    expect(datasetForFile('F-F_Research_Data_Factors.CSV')).toBe('french_ff3');
    expect(datasetForFile('F-F_Research_Data_Factors_daily_CSV.zip')).toBe('french_ff3');
    expect(datasetForFile('F-F_Research_Data_5_Factors_2x3_daily.CSV')).toBe('french_ff5');
    expect(datasetForFile('F-F_Momentum_Factor_CSV.zip')).toBe('french_mom');
    expect(datasetForFile('/x/10_Industry_Portfolios.CSV')).toBe('french_ind10');
    expect(datasetForFile('49_Industry_Portfolios_daily.csv')).toBe('french_ind49');
    expect(datasetForFile('Portfolios_Formed_on_ME_CSV.zip')).toBe('french_portfolios_formed_on_me');
    expect(sectionKey(null, 'daily')).toBe('daily');
    expect(sectionKey('Average Equal Weighted Returns -- Daily', 'daily')).toBe('ew_daily');
    expect(sectionKey('Value Weight Returns -- Annual from January to December', 'annual')).toBe('vw_annual');
    expect(sectionKey('Equally Weighted Average of Prior Returns', 'monthly')).toBe('equally_weighted_average_of_prior_returns_monthly');
    // Weekly files have 8-digit dates like daily ones: the file name tells them apart.
    const weekly = parseFrenchText(text('F-F_Research_Data_Factors_daily.CSV'), 'F-F_Research_Data_Factors_weekly.CSV');
    expect(weekly.sections.map((s) => [s.key, s.frequency])).toEqual([['weekly', 'weekly']]);
  });
});

// ---- re-laid-out variants: the same values whatever the layout ----

/** Apply `f` to every data row's cells (the first is the date), keeping other lines. */
const mapRows = (t: string, f: (cells: string[], i: number) => string): string => {
  let i = 0;
  return t
    .split(/\r?\n/)
    .map((l) => (/^\s*\d{4,8}\s*,/.test(l) ? f(l.split(',').map((c) => c.trim()), i++) : l))
    .join('\n');
};

const VARIANTS: Record<string, (t: string) => string> = {
  'LF line endings': (t) => t.replace(/\r\n/g, '\n'),
  'CR line endings': (t) => t.replace(/\r\n/g, '\r'),
  'no padding': (t) => mapRows(t, (c) => c.join(',')).replace(/^\s+,/gm, ','),
  'wide padding, right-aligned': (t) => mapRows(t, (c) => c.map((x, i) => (i === 0 ? x : x.padStart(14))).join(',')),
  'left-aligned with trailing spaces, tabs around commas': (t) => mapRows(t, (c) => c.map((x) => `${x}\t `).join(', \t')),
  'more decimals and explicit signs': (t) =>
    mapRows(t, (c) => c.map((x, i) => (i === 0 ? x : `${x.startsWith('-') ? '' : '+'}${x}${x.includes('.') ? '00' : '.00'}`)).join(',')),
  'extra blank lines inside and between sections': (t) =>
    mapRows(t, (c, i) => (i % 7 === 3 ? `\n\n${c.join(',')}\n` : c.join(','))).replace(/\n(\s*\n)+(?=\s*,)/g, '\n\n\n\n'),
  'header cells padded, title indented differently': (t) =>
    t.replace(/^,(.*)$/gm, (_m, rest: string) => `  , ${rest.split(',').map((h) => `  ${h.trim()}  `).join(',')}`).replace(/^ +(\S.*-- \w+)\s*$/gm, '\t$1   '),
  'footer removed (or added where there is none)': (t) =>
    /Copyright/.test(t) ? t.replace(/\r?\n\s*Copyright[^\n]*\n?$/, '\n') : `${t}\r\n\r\n Copyright 2024 Eugene F. Fama and Kenneth R. French\r\n`,
  'a UTF-8 byte-order mark': (t) => `\uFEFF${t}`,
};

describe('the same values whatever the layout', () => {
  for (const f of FILES) {
    const original = parse(f);
    it.each(Object.keys(VARIANTS))(`${f}: %s`, (name) => {
      const v = VARIANTS[name]!(text(f));
      expect(v).not.toBe(text(f));
      const p = parse(f, v);
      expect(p.vintage).toBe(original.vintage);
      expect(p.sections.map(({ line: _l, ...s }) => s)).toEqual(original.sections.map(({ line: _l, ...s }) => s));
    });
  }
});

describe('streamed text', () => {
  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
    ['CR', '\r'],
  ])('splits %s lines the same whatever the chunk boundaries', (_name, eol) => {
    const t = text('F-F_Research_Data_Factors.CSV').replace(/\r\n/g, eol);
    const want = t.split(eol);
    if (want.at(-1) === '') want.pop();
    for (const size of [1, 2, 3, 7, 4096]) {
      const s = new LineSplitter();
      const got: string[] = [];
      for (let i = 0; i < t.length; i += size) got.push(...s.push(t.slice(i, i + size)));
      got.push(...s.end());
      expect(got, `chunks of ${size}`).toEqual(want);
    }
  });
});

// ---- malformed files ----

const FACTORS = text('F-F_Research_Data_Factors.CSV');

function refusal(t: string, name = 'F-F_Research_Data_Factors.CSV'): { message: string; line: unknown } {
  try {
    parseFrenchText(t, name);
  } catch (e) {
    if (!isValidationError(e)) throw e;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.suggestion).toBeTruthy();
    return { message: e.message, line: e.details['line'] };
  }
  throw new Error('expected a ValidationError');
}

describe('malformed files give an error naming the line and the problem', () => {
  it('truncated in the middle of a row', () => {
    const cut = FACTORS.indexOf('192610,') + '192610,    -3.24,   -0'.length;
    const e = refusal(FACTORS.slice(0, cut));
    expect(e.message).toBe('line 8: 3 cells, but the header on line 4 has 5 (date + 4 columns); the row is cut short (truncated file?)');
    expect(e.line).toBe(8);
  });

  it('truncated in the date of a row', () => {
    const cut = FACTORS.indexOf('192610,') + 4;
    expect(refusal(FACTORS.slice(0, cut)).message).toBe('line 8: 1 cell, but the header on line 4 has 5 (date + 4 columns); the row is cut short (truncated file?)');
  });

  it('a non-numeric cell', () => {
    const e = refusal(FACTORS.replace('192609,    0.36,   -1.40,', '192609,    0.36,   abc,'));
    expect(e.message).toBe('line 7: column "SMB": "abc" is not a number');
  });

  it('an empty cell', () => {
    expect(refusal(FACTORS.replace('192609,    0.36,   -1.40,', '192609,    0.36,   ,')).message).toBe('line 7: column "SMB": "" is not a number');
  });

  it('a header with the wrong number of columns', () => {
    const e = refusal(FACTORS.replace(',Mkt-RF,SMB,HML,RF', ',Mkt-RF,SMB,HML'));
    expect(e.message).toMatch(/^line 5: 5 cells, but the header on line 4 has 4 \(date \+ 3 columns\)$/);
  });

  it('a header with an empty cell', () => {
    expect(refusal(FACTORS.replace(',Mkt-RF,SMB,HML,RF', ',Mkt-RF,,HML,RF')).message).toBe('line 4: header cell 3 is empty');
  });

  it('a header with no rows below it', () => {
    const e = refusal(FACTORS.replace(/\r\n,Mkt-RF,SMB,HML,RF\r\n  1927,[^\r]*/, '\r\n,Mkt-RF,SMB,HML,RF\r\nsome text'));
    expect(e.message).toBe('line 1186: the header on line 1185 is not followed by any data row');
  });

  it('data rows with their header missing', () => {
    const e = refusal(FACTORS.replace(/\r\n,Mkt-RF,SMB,HML,RF\r\n  1927,/, '\r\n  1927,'));
    expect(e.message).toMatch(/^line 1185: a data row outside any section/);
  });

  it('a duplicate or out-of-order date', () => {
    expect(refusal(FACTORS.replace('192609,', '192607,')).message).toBe("line 7: date 192607 is not after the previous row's 192608 (duplicate or out-of-order row)");
  });

  it('an impossible month or day', () => {
    expect(refusal(FACTORS.replace('192609,', '192613,')).message).toBe('line 7: "192613" is not a date: month 13 does not exist');
    const daily = text('F-F_Research_Data_Factors_daily.CSV');
    expect(refusal(daily.replace('19260702,', '19260732,'), 'F-F_Research_Data_Factors_daily.CSV').message).toBe('line 7: "19260732" is not a date: day 32 does not exist in 1926-07');
  });

  it('a date of the wrong width inside a section', () => {
    expect(refusal(FACTORS.replace('192609,', '19260901,')).message).toMatch(/^line 7: date "19260901" has 8 digits, but this section's rows \(header on line 4\) have 6$/);
  });

  it('not a French file at all', () => {
    expect(refusal('').message).toMatch(/^no section found/);
    expect(refusal('<html><body>Not Found</body></html>\n').message).toMatch(/^no section found/);
    expect(refusal('id,date,prc\n1,2024-01-02,10\n').message).toMatch(/^line 2: a data row outside any section/);
  });
});
