/**
 * Parsing a French source (path, zip or URL) into memory: for inspection and tests. Loading into
 * the warehouse streams instead (see load.ts).
 */
import { LineSplitter } from './lines.js';
import { FrenchParser, collectingSink, type ParsedFrenchFile } from './parser.js';
import { readFrenchSource, type FrenchSourceOptions, type FrenchSourceRead } from './source.js';

export interface ParsedFrenchSource extends ParsedFrenchFile {
  readonly read: FrenchSourceRead;
}

/**
 * Read and parse a whole French file into memory.
 * @throws ValidationError naming the line and problem; SourceUnavailableError for an unreachable URL.
 * @example
 * ```ts
 * const f = await parseFrench('/data/F-F_Research_Data_Factors_daily_CSV.zip');
 * f.vintage;                         // '202408'
 * f.sections.map((s) => s.key);      // ['daily']
 * ```
 */
export async function parseFrench(source: string, options: FrenchSourceOptions = {}): Promise<ParsedFrenchSource> {
  const sink = collectingSink();
  const parser = new FrenchParser(sink, source);
  const lines = new LineSplitter();
  const read = await readFrenchSource(
    source,
    (text) => {
      for (const l of lines.push(text)) parser.line(l);
    },
    options,
  );
  for (const l of lines.end()) parser.line(l);
  const info = parser.end();
  return { preamble: info.preamble, vintage: info.vintage, sections: sink.sections, read };
}
