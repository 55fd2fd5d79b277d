/**
 * The vintage WRDS writes into every relation's comment, in its two forms:
 * current `Daily Stock - Securities (Updated 2025-02-08)` and older `Last modified: 02/08/2025 02:00:00`.
 */
import { toUsDate } from './dates.js';

/** A parsed comment vintage. */
export interface Vintage {
  readonly form: 'updated' | 'modified';
  /** 'YYYY-MM-DD'. */
  readonly date: string;
  /** The description before '(Updated ...)'; null in the 'Last modified' form. */
  readonly title: string | null;
}

const UPDATED = /^(.*) \(Updated (\d{4})-(\d{2})-(\d{2})\)$/;
const MODIFIED = /^Last modified: (\d{2})\/(\d{2})\/(\d{4}) \d{2}:\d{2}:\d{2}$/;

/** The comment text of a relation with `title` and comment `form` at vintage `date` ('YYYY-MM-DD'). */
export function vintageComment(form: 'updated' | 'modified', title: string, date: string): string {
  return form === 'updated' ? `${title} (Updated ${date})` : `Last modified: ${toUsDate(date)} 02:00:00`;
}

/** Parses either form; null when the comment carries no vintage. */
export function parseVintage(comment: string | null): Vintage | null {
  if (comment === null) return null;
  const u = UPDATED.exec(comment);
  if (u !== null) return { form: 'updated', date: `${u[2]}-${u[3]}-${u[4]}`, title: u[1] ?? '' };
  const m = MODIFIED.exec(comment);
  if (m !== null) return { form: 'modified', date: `${m[3]}-${m[1]}-${m[2]}`, title: null };
  return null;
}
