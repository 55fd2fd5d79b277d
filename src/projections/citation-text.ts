/**
 * The citation texts (BibTeX and plain) for a {@link Citation}: they name every dataset with its
 * source and vintages, the point, and the digest a reader checks with `wh cite --check`.
 */
import type { Citation } from './citation.js';

/** Where the cited state was taken, for the text only (the digest never depends on it). */
export interface CitationContext {
  /** How the point was named, e.g. `tag paper-v1 (seq 42)`. */
  readonly pointLabel: string;
  /** Commit time of the event at the point (ISO). */
  readonly pointTime: string;
  readonly warehouseId: string | null;
  readonly whVersion: string;
}

function describe(c: Citation): string[] {
  return c.datasets.map((d) => {
    const vintage = d.vintages.length === 0 ? 'no source vintage' : `vintage${d.vintages.length > 1 ? 's' : ''} ${d.vintages.join(', ')}`;
    const source = d.sources.length === 0 ? '' : `${d.sources.slice(0, 3).join(', ')}${d.sources.length > 3 ? `, +${d.sources.length - 3} more` : ''}; `;
    return `${d.dataset} (${source}${vintage}; ${d.partitions} partition${d.partitions === 1 ? '' : 's'}, ${d.rows.toLocaleString('en-US')} rows)`;
  });
}

/** A plain-text citation, one paragraph. */
export function plainCitation(c: Citation, ctx: CitationContext): string {
  return (
    `Data: ${describe(c).join('; ')}. ` +
    `As held by wh ${ctx.whVersion} warehouse${ctx.warehouseId === null ? '' : ` ${ctx.warehouseId}`} at ${ctx.pointLabel}, ${ctx.pointTime}. ` +
    `Data-state digest (SHA-256, ${c.partitions.length} partitions): ${c.digest}. ` +
    `Check with: wh cite --check ${c.digest}`
  );
}

const bib = (s: string): string => s.replace(/[{}\\]/g, '');

/** A BibTeX `@misc` entry; its key is `wh_` plus the digest's first 12 hex digits. */
export function bibtexCitation(c: Citation, ctx: CitationContext): string {
  const year = ctx.pointTime.slice(0, 4);
  return [
    `@misc{wh_${c.digest.slice(0, 12)},`,
    `  title        = {{Data state ${c.digest.slice(0, 12)}: ${bib(c.datasets.map((d) => d.dataset).join(', '))}}},`,
    `  howpublished = {wh ${bib(ctx.whVersion)} warehouse${ctx.warehouseId === null ? '' : ` ${bib(ctx.warehouseId)}`}, ${bib(ctx.pointLabel)}},`,
    `  year         = {${year}},`,
    `  note         = {${bib(describe(c).join('; '))}. SHA-256 data-state digest ${c.digest}; verify with wh cite --check},`,
    `}`,
  ].join('\n');
}
