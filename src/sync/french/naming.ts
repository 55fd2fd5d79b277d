/**
 * Names and units for Kenneth French files, decided from structure and titles only: the column
 * names a header becomes, the partition key and unit of a section, and the dataset a file loads
 * into. See docs/concepts/fama-french.md for the table of names.
 */

/** How often a section's rows come: by the width of its date field (YYYYMMDD, YYYYMM, YYYY). */
export type FrenchFrequency = 'daily' | 'weekly' | 'monthly' | 'annual';

/**
 * What a section's values are. `decimal`: returns, converted from the file's percent (value/100).
 * The others are kept as the file gives them: `count` (number of firms), `usd_millions` (average
 * firm size), `ratio` (BE/ME), `raw` (a section whose title names no known quantity).
 */
export type FrenchUnit = 'decimal' | 'count' | 'usd_millions' | 'ratio' | 'raw';

/** Columns every French dataset row carries besides the file's own series. */
export const FRENCH_FIXED_COLUMNS = ['date', 'period', 'section', 'frequency', 'unit', 'vintage'] as const;

const SYMBOLS: readonly [RegExp, string][] = [
  [/<=/g, ' le '],
  [/>=/g, ' ge '],
  [/</g, ' lt '],
  [/>/g, ' gt '],
  [/%/g, ' pct '],
];

/** `Mkt-RF` → `mkt_rf`, `Hlth ` → `hlth`, `<= 0` → `le_0`; empty when nothing is left. */
export function slug(text: string): string {
  let s = text.toLowerCase();
  for (const [re, word] of SYMBOLS) s = s.replace(re, word);
  return s.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * Column names for a header's series cells: slugged, unique, never one of the fixed columns
 * (a clash gets `_2`, `_3`...). A cell with nothing nameable becomes `col<N>`.
 */
export function columnNames(headers: readonly string[]): string[] {
  const used = new Set<string>(FRENCH_FIXED_COLUMNS);
  return headers.map((h, i) => {
    const base = slug(h) || `col${i + 1}`;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  });
}

/** Frequency from the date field's width; `weekly` when the file's name says so (same width as daily). */
export function frequencyOf(digits: number, fileName: string | undefined): FrenchFrequency | null {
  if (digits === 4) return 'annual';
  if (digits === 6) return 'monthly';
  if (digits === 8) return /weekly/i.test(fileName ?? '') ? 'weekly' : 'daily';
  return null;
}

/** Known section titles → short names (the frequency is added from the rows). */
const KNOWN_TITLES: readonly [RegExp, string][] = [
  [/^(average )?value[- ]weight(ed)? returns\b/i, 'vw'],
  [/^(average )?equal[- ]weight(ed)? returns\b/i, 'ew'],
  [/^number of firms\b/i, 'nfirms'],
  [/^average firm size\b/i, 'size'],
  [/^sum of be\s*\/\s*sum of me\b/i, 'bm_sum'],
  [/^value[- ]weight(ed)? average of be\s*\/\s*me\b/i, 'bm_vw'],
  [/^annual factors\b/i, ''],
];

/**
 * The partition key of a section: `<name>_<frequency>`, or the frequency alone for an untitled
 * section or one whose title only names the frequency (`monthly`, `annual`, `vw_monthly`...).
 */
export function sectionKey(title: string | null, frequency: FrenchFrequency): string {
  if (title === null) return frequency;
  const known = KNOWN_TITLES.find(([re]) => re.test(title.trim()));
  const name =
    known !== undefined
      ? known[1]
      : slug(title.replace(/--?\s*(daily|weekly|monthly|annual)\b/gi, ' ').replace(/\b(from )?(january-december|january to december)\b/gi, ' ')).slice(0, 48).replace(/_+$/, '');
  return name === '' ? frequency : `${name}_${frequency}`;
}

/** The unit of a section's values, from its title (DATA-RULES "Fama–French": returns are percent). */
export function sectionUnit(title: string | null): FrenchUnit {
  if (title === null) return 'decimal';
  if (/number of firms/i.test(title)) return 'count';
  if (/firm size/i.test(title)) return 'usd_millions';
  if (/\bBE\s*\/\s*(sum of\s+)?ME\b|book[- ]to[- ]market/i.test(title)) return 'ratio';
  if (/return|factor/i.test(title)) return 'decimal';
  return 'raw';
}

/** Family names of the files French publishes, keyed by the slug of the file name. */
const KNOWN_FILES: readonly [RegExp, string | ((m: RegExpExecArray) => string)][] = [
  [/^f_f_research_data_factors$/, 'ff3'],
  [/^f_f_research_data_5_factors_2x3$/, 'ff5'],
  [/^f_f_momentum_factor$/, 'mom'],
  [/^f_f_st_reversal_factor$/, 'st_rev'],
  [/^f_f_lt_reversal_factor$/, 'lt_rev'],
  [/^(\d+)_industry_portfolios$/, (m) => `ind${m[1]}`],
];

/**
 * The default dataset of a file: `french_<family>`, where daily, weekly and monthly files of one
 * family share the dataset (their sections are different partitions). `F-F_Research_Data_Factors`
 * and `..._daily` → `french_ff3`; `10_Industry_Portfolios` → `french_ind10`; anything else → the
 * slug of its name, e.g. `Portfolios_Formed_on_ME_CSV.zip` → `french_portfolios_formed_on_me`.
 */
export function datasetForFile(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.(zip|csv|txt)$/gi, '').replace(/\.(zip|csv|txt)$/gi, '');
  const s = slug(base).replace(/_(csv|txt)$/, '').replace(/_(daily|weekly)$/, '');
  let family: string | undefined;
  for (const [re, name] of KNOWN_FILES) {
    const m = re.exec(s);
    if (m !== null) {
      family = typeof name === 'string' ? name : name(m);
      break;
    }
  }
  family ??= s.replace(/^f_f_research_data_/, '').replace(/^f_f_/, '') || 'file';
  return `french_${family}`.slice(0, 64).replace(/_+$/, '');
}

/** A CRSP vintage (`YYYYMM`) named in a file's opening prose, e.g. "... using the 202408 CRSP database". */
export function vintageOf(preamble: string): string | null {
  const m = /using\s+the\s+(\d{6})\s+CRSP\s+database/i.exec(preamble) ?? /\b(\d{6})\s+CRSP\b/i.exec(preamble) ?? /using\s+the\s+(\d{6})\s+\w+\s+database/i.exec(preamble);
  return m?.[1] ?? null;
}
