/**
 * One parser for every layout of the Kenneth French Data Library CSV files, reading by structure
 * (DATA-RULES "Fama–French": parse each section by its header, not by line numbers or widths):
 *
 * - a section starts at a header row whose first cell is empty (the line starts with a comma);
 * - its title is the one-line text block just before the header (the prose opening the file is
 *   the preamble, never a title);
 * - data rows start with a date: YYYYMMDD (daily), YYYYMM (monthly) or YYYY (annual);
 * - blank lines are ignored; a text line ends a section (a new title, or the copyright footer).
 *
 * Values are percent in the files: return sections are converted to decimals; counts, sizes and
 * ratios are kept and their unit recorded. -99.99 and -999 mean missing (null). The parser is a
 * push state machine, fed line by line, so a file of any size parses in bounded memory.
 */
import { ValidationError } from '../../log/index.js';
import { LineSplitter } from './lines.js';
import { columnNames, frequencyOf, sectionKey, sectionUnit, vintageOf, type FrenchFrequency, type FrenchUnit } from './naming.js';

export type { FrenchFrequency, FrenchUnit } from './naming.js';

/** A section, known once its first data row is read. */
export interface FrenchSectionInfo {
  /** Partition key: `monthly`, `annual`, `daily`, `vw_monthly`, `nfirms_monthly`... */
  readonly key: string;
  /** The title above the header, trimmed; null for an untitled section. */
  readonly title: string | null;
  readonly frequency: FrenchFrequency;
  readonly unit: FrenchUnit;
  /** Header cells after the date column, as written (trimmed): `Mkt-RF`, `Hlth`. */
  readonly headers: readonly string[];
  /** Column names for them: `mkt_rf`, `hlth`. */
  readonly columns: readonly string[];
  /** 1-based line number of the header. */
  readonly line: number;
}

/** One data row. */
export interface FrenchRow {
  /** ISO date: the day (daily), the month's last day (monthly), December 31 (annual). */
  readonly date: string;
  /** The date exactly as the file writes it: YYYYMMDD, YYYYMM (the raw yyyymm) or YYYY. */
  readonly period: number;
  /** One value per column, in decimals for `unit: 'decimal'`; null where the file says missing. */
  readonly values: readonly (number | null)[];
}

/** Receives sections and rows as they are parsed. */
export interface FrenchSink {
  section(section: FrenchSectionInfo): void;
  row(section: FrenchSectionInfo, row: FrenchRow): void;
}

/** What the whole file said besides its rows. */
export interface FrenchFileInfo {
  /** The prose before the first section. */
  readonly preamble: string;
  /** The CRSP vintage (`YYYYMM`) the preamble names, or null. */
  readonly vintage: string | null;
  readonly sections: readonly (FrenchSectionInfo & { readonly rows: number })[];
}

interface Open {
  readonly headerLine: number;
  readonly title: string | null;
  readonly headers: readonly string[];
  readonly columns: readonly string[];
  readonly unit: FrenchUnit;
  info: FrenchSectionInfo | null;
  digits: number;
  last: number;
  rows: number;
}

const DATE_CELL = /^\d+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const MISSING = new Set([-99.99, -999]);

const bad = (line: number, problem: string, suggestion?: string): ValidationError =>
  new ValidationError(`line ${line}: ${problem}`, {
    suggestion: suggestion ?? 'the file is not a well-formed Kenneth French CSV (truncated download or edited by hand?); fetch it again. Nothing was written',
    details: { line },
  });

/** Is a text block a section title: one short line that is not a sentence? */
function asTitle(block: readonly string[]): string | null {
  if (block.length !== 1) return null;
  const t = block[0]!.trim();
  return t.length > 0 && t.length <= 120 && !t.endsWith('.') ? t : null;
}

function isoDate(period: number, digits: number, line: number): string {
  const s = String(period);
  const y = Number(s.slice(0, 4));
  if (digits === 4) return `${s}-12-31`;
  const m = Number(s.slice(4, 6));
  if (m < 1 || m > 12) throw bad(line, `"${s}" is not a date: month ${s.slice(4, 6)} does not exist`);
  const monthEnd = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (digits === 6) return `${s.slice(0, 4)}-${s.slice(4, 6)}-${String(monthEnd).padStart(2, '0')}`;
  const d = Number(s.slice(6, 8));
  if (d < 1 || d > monthEnd) throw bad(line, `"${s}" is not a date: day ${s.slice(6, 8)} does not exist in ${s.slice(0, 4)}-${s.slice(4, 6)}`);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

/** The push parser. Feed lines with `line()`, then call `end()`; errors are ValidationErrors naming the line. */
export class FrenchParser {
  private lineNo = 0;
  private blocks: string[][] = [];
  private preamble: string[] | null = null;
  private open: Open | null = null;
  private readonly done: (FrenchSectionInfo & { rows: number })[] = [];
  private readonly keys = new Set<string>();

  constructor(
    private readonly sink: FrenchSink,
    /** The file's name (a `weekly` file has 8-digit dates like a daily one). */
    private readonly fileName?: string,
  ) {}

  line(raw: string): void {
    this.lineNo += 1;
    const t = (this.lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (t === '') {
      if (this.blocks.at(-1)?.length) this.blocks.push([]);
      return;
    }
    if (t.startsWith(',')) return this.header(t);
    if (this.open !== null && /^[+\-.\d]/.test(t)) return this.data(t);
    if (/^\d+\s*,/.test(t)) {
      throw bad(this.lineNo, `a data row outside any section: no header row (",col1,col2,...") above it`);
    }
    if (this.open !== null) this.close();
    if (this.blocks.length === 0) this.blocks.push([]);
    this.blocks.at(-1)!.push(t);
  }

  end(): FrenchFileInfo {
    this.close();
    if (this.done.length === 0) {
      throw new ValidationError('no section found: a Kenneth French CSV has a header row starting with a comma (",Mkt-RF,SMB,...") followed by dated rows', {
        suggestion: 'check that the source is a French Data Library CSV file (or a zip holding one), not an HTML page or another format. Nothing was written',
      });
    }
    const preamble = (this.preamble ?? []).join('\n');
    return { preamble, vintage: vintageOf(preamble), sections: this.done };
  }

  private header(t: string): void {
    this.close();
    const cells = t.split(',').map((c) => c.trim());
    const headers = cells.slice(1);
    const empty = headers.findIndex((h) => h === '');
    if (headers.length === 0 || empty >= 0) {
      throw bad(this.lineNo, headers.length === 0 ? 'header row names no columns' : `header cell ${empty + 2} is empty`);
    }
    const blocks = this.blocks.filter((b) => b.length > 0);
    let title: string | null = null;
    if (this.preamble === null) {
      // The first block is always the file's prose; a later one-line block is the first title.
      title = blocks.length >= 2 ? asTitle(blocks.at(-1)!) : null;
      this.preamble = (title === null ? blocks : blocks.slice(0, -1)).flat();
    } else if (blocks.length > 0) {
      title = asTitle(blocks.at(-1)!);
    }
    this.blocks = [];
    this.open = { headerLine: this.lineNo, title, headers, columns: columnNames(headers), unit: sectionUnit(title), info: null, digits: 0, last: -1, rows: 0 };
  }

  private data(t: string): void {
    const s = this.open!;
    const cells = t.split(',').map((c) => c.trim());
    const first = cells[0]!;
    if (!DATE_CELL.test(first) || frequencyOf(first.length, this.fileName) === null) {
      throw bad(this.lineNo, `"${first.slice(0, 20)}" is not a date (YYYYMMDD, YYYYMM or YYYY) at the start of a data row`);
    }
    if (cells.length !== s.headers.length + 1) {
      throw bad(
        this.lineNo,
        `${cells.length} cell${cells.length === 1 ? '' : 's'}, but the header on line ${s.headerLine} has ${s.headers.length + 1} (date + ${s.headers.length} columns)${cells.length < s.headers.length + 1 ? '; the row is cut short (truncated file?)' : ''}`,
      );
    }
    if (s.digits === 0) s.digits = first.length;
    else if (first.length !== s.digits) {
      throw bad(this.lineNo, `date "${first}" has ${first.length} digits, but this section's rows (header on line ${s.headerLine}) have ${s.digits}`);
    }
    const period = Number(first);
    const date = isoDate(period, first.length, this.lineNo);
    if (period <= s.last) throw bad(this.lineNo, `date ${first} is not after the previous row's ${s.last} (duplicate or out-of-order row)`);
    const values = cells.slice(1).map((c, i) => this.value(c, s.headers[i]!, s.unit));
    if (s.info === null) s.info = this.announce(s, first.length);
    s.last = period;
    s.rows += 1;
    this.sink.row(s.info, { date, period, values });
  }

  private value(cell: string, column: string, unit: FrenchUnit): number | null {
    if (!NUMBER.test(cell)) throw bad(this.lineNo, `column "${column}": "${cell.slice(0, 20)}" is not a number`);
    const v = Number(cell);
    if (MISSING.has(v)) return null;
    // Shift the decimal point in the text, so 2.96 becomes exactly the double nearest 0.0296.
    return unit === 'decimal' ? Number(`${cell}e-2`) : v;
  }

  private announce(s: Open, digits: number): FrenchSectionInfo {
    const frequency = frequencyOf(digits, this.fileName)!;
    const base = sectionKey(s.title, frequency);
    let key = base;
    for (let n = 2; this.keys.has(key); n++) key = `${base}_${n}`;
    this.keys.add(key);
    const info: FrenchSectionInfo = { key, title: s.title, frequency, unit: s.unit, headers: s.headers, columns: s.columns, line: s.headerLine };
    this.sink.section(info);
    return info;
  }

  private close(): void {
    const s = this.open;
    if (s === null) return;
    if (s.info === null) throw bad(this.lineNo, `the header on line ${s.headerLine} is not followed by any data row`);
    this.done.push({ ...s.info, rows: s.rows });
    this.open = null;
  }
}

/** A parsed section with its rows in memory. */
export interface FrenchSection extends FrenchSectionInfo {
  readonly rows: readonly FrenchRow[];
}

/** A parsed file in memory. */
export interface ParsedFrenchFile {
  readonly preamble: string;
  readonly vintage: string | null;
  readonly sections: readonly FrenchSection[];
}

/** A sink that keeps every section and row in memory. */
export function collectingSink(): FrenchSink & { readonly sections: FrenchSection[] } {
  const sections: (FrenchSectionInfo & { rows: FrenchRow[] })[] = [];
  return {
    sections,
    section: (info) => void sections.push({ ...info, rows: [] }),
    row: (_info, row) => void sections.at(-1)!.rows.push(row),
  };
}

/**
 * Parse the text of a French CSV file in memory.
 * @throws ValidationError naming the line and the problem.
 * @example
 * ```ts
 * const file = parseFrenchText(readFileSync('F-F_Research_Data_Factors.CSV', 'utf8'));
 * file.vintage;             // '202408'
 * file.sections[0].key;     // 'monthly'
 * file.sections[0].rows[0]; // { date: '1926-07-31', period: 192607, values: [0.0296, -0.0256, -0.0243, 0.0022] }
 * ```
 */
export function parseFrenchText(text: string, fileName?: string): ParsedFrenchFile {
  const sink = collectingSink();
  const parser = new FrenchParser(sink, fileName);
  const lines = new LineSplitter();
  for (const l of [...lines.push(text), ...lines.end()]) parser.line(l);
  const info = parser.end();
  return { preamble: info.preamble, vintage: info.vintage, sections: sink.sections };
}
