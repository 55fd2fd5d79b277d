/**
 * WRDS relation comments carry the data's vintage, in two forms:
 * `Daily Stock - Securities (Updated 2025-02-08)` and `Last modified: 02/08/2025 02:00:00`.
 */

/** The vintage date (YYYY-MM-DD) a comment states, or null when it states none. */
export function parseVintage(comment: string | null | undefined): string | null {
  if (comment === null || comment === undefined) return null;
  const current = /\(Updated (\d{4}-\d{2}-\d{2})\)/.exec(comment);
  if (current !== null) return current[1]!;
  const older = /Last modified:\s*(\d{2})\/(\d{2})\/(\d{4})/.exec(comment);
  if (older !== null) return `${older[3]}-${older[1]}-${older[2]}`;
  return null;
}
