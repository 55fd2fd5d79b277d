/**
 * Kenneth French Data Library files: one structural parser for every layout, reading a path, a
 * zip or a URL, and the loader that writes each section as a partition with the CRSP vintage in
 * its lineage. See docs/concepts/fama-french.md.
 *
 * @example
 * ```ts
 * const file = await parseFrench('F-F_Research_Data_Factors_CSV.zip');
 * const res = await loadFrenchFile({ dir, log, source: 'https://.../F-F_Research_Data_Factors_CSV.zip', whVersion });
 * ```
 */
export { FrenchParser, parseFrenchText, collectingSink } from './parser.js';
export type { FrenchSectionInfo, FrenchRow, FrenchSink, FrenchFileInfo, FrenchSection, ParsedFrenchFile, FrenchFrequency, FrenchUnit } from './parser.js';
export { parseFrench } from './read.js';
export type { ParsedFrenchSource } from './read.js';
export { readFrenchSource, isUrl } from './source.js';
export type { FrenchSourceOptions, FrenchSourceRead } from './source.js';
export { datasetForFile, sectionKey, sectionUnit, columnNames, vintageOf, FRENCH_FIXED_COLUMNS } from './naming.js';
export { loadFrenchFile } from './load.js';
export type { LoadFrenchOptions, LoadFrenchResult, FrenchPartitionOutcome } from './load.js';
