/**
 * Kenneth French Data Library files in the library's own CSV layout, generated: a free-text
 * preamble naming the CRSP vintage, then sections each headed by a title line and a column line,
 * values in percent, CRLF line ends. The 10-industry file carries the library's missing-value
 * codes -99.99 and -999 in some cells (the parser must read them as missing, never as returns).
 * Deterministic in the seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from './prng.js';

/** The industries of `10_Industry_Portfolios.CSV`, as the file spells them (note `Hlth `). */
export const FRENCH_INDUSTRIES = ['NoDur', 'Durbl', 'Manuf', 'Enrgy', 'HiTec', 'Telcm', 'Shops', 'Hlth ', 'Utils', 'Other'] as const;

/** Options of {@link writeFrenchSample}. */
export interface FrenchSampleOptions {
  readonly seed?: number;
  readonly fromYear?: number;
  readonly toYear?: number;
  /** The 'YYYYMM' CRSP database named in the preamble (default: December of toYear). */
  readonly crspVintage?: string;
}

/**
 * Whether a cell is written missing, and with which code: about 2 % of cells -99.99, 1 % -999,
 * and always at least one of each per section (the first month's `Durbl`, the second month's `Telcm`).
 */
function missingCode(seed: number, section: string, row: number, col: number): string | null {
  if (row === 0 && col === 1) return '-99.99';
  if (row === 1 && col === 5) return '-999';
  const u = Rng.from(seed, 'french-missing', section, row, col).uniform(0, 1);
  return u < 0.02 ? '-99.99' : u < 0.03 ? '-999' : null;
}

/** A percent return with two decimals, right-aligned as the library writes them. */
const cell = (x: number): string => x.toFixed(2).padStart(7);

/**
 * Writes `10_Industry_Portfolios.CSV` (value- and equal-weighted monthly and annual sections, and a
 * firm-count section) into `dir` and returns its path.
 *
 * @example
 * ```ts
 * const file = writeFrenchSample(tmp, { seed: 1, fromYear: 2015, toYear: 2017 });
 * await loadFrenchFile({ dir, log, source: file, whVersion });
 * ```
 */
export function writeFrenchSample(dir: string, options: FrenchSampleOptions = {}): string {
  const seed = options.seed ?? 1;
  const from = options.fromYear ?? 2015;
  const to = options.toYear ?? 2024;
  const vintage = options.crspVintage ?? `${to}12`;
  const lines: string[] = [
    `This file was created by CMPT_IND_RETS using the ${vintage} CRSP database.`,
    'It contains value- and equal-weighted returns for 10 industry portfolios.',
    '', 'The portfolios are constructed at the end of June.', '', 'The annual returns are from January to December.', '',
    'Missing data are indicated by -99.99 or -999.', '', '',
  ];
  const header = `,${FRENCH_INDUSTRIES.join(',')}`;
  const section = (title: string, key: string, dates: readonly string[], value: (rng: Rng) => number, missing: boolean): void => {
    lines.push(`  ${title}`, header);
    dates.forEach((date, row) => {
      const rng = Rng.from(seed, 'french', key, date);
      const cells = FRENCH_INDUSTRIES.map((_, col) => (missing ? missingCode(seed, key, row, col) : null) ?? cell(value(rng)));
      lines.push(`${date},${cells.join(',')}`);
    });
    lines.push('', '');
  };
  const months: string[] = [];
  for (let y = from; y <= to; y++) for (let m = 1; m <= 12; m++) months.push(`${y}${String(m).padStart(2, '0')}`);
  const years = Array.from({ length: to - from + 1 }, (_, i) => `  ${from + i}`);
  section('Average Value Weighted Returns -- Monthly', 'vw_monthly', months, (r) => 0.8 + 4.5 * r.studentT(5), true);
  section('Average Equal Weighted Returns -- Monthly', 'ew_monthly', months, (r) => 0.9 + 5.5 * r.studentT(5), true);
  section('Average Value Weighted Returns -- Annual', 'vw_annual', years, (r) => 9 + 18 * r.normal(), true);
  section('Average Equal Weighted Returns -- Annual', 'ew_annual', years, (r) => 11 + 22 * r.normal(), true);
  lines.push('  Number of Firms in Portfolios', header);
  for (const date of months) lines.push(`${date},${FRENCH_INDUSTRIES.map((_, i) => String(40 + i * 17).padStart(7)).join(',')}`);
  lines.push('', '', `Copyright ${to + 1} Kenneth R. French`, '');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '10_Industry_Portfolios.CSV');
  writeFileSync(path, lines.join('\r\n'));
  return path;
}
