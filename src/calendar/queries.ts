/**
 * Day-level queries over the cached year tables. No validation here: callers pass days already
 * checked against the known range (see create-calendar.ts).
 */
import type { Day } from './day.js';
import type { YearTable } from './year-table.js';
import { formatDay, yearOf } from './day.js';
import { REGULAR_CLOSE } from './early-close-rules.js';
import { lowerBound, yearTable } from './year-table.js';

function tables(a: Day, b: Day): YearTable[] {
  const out: YearTable[] = [];
  for (let y = yearOf(a); y <= yearOf(b); y++) out.push(yearTable(y));
  return out;
}

/** True if `day` is a session. */
export function isSessionDay(day: Day): boolean {
  return yearTable(yearOf(day)).sessionSet.has(day);
}

/** Sessions in [a, b] as 'YYYY-MM-DD', ascending. */
export function sessionDatesIn(a: Day, b: Day): string[] {
  return tables(a, b).flatMap((t) => t.sessionDates.slice(lowerBound(t.sessions, a), lowerBound(t.sessions, b + 1)));
}

/** Number of sessions in [a, b]. */
export function countSessions(a: Day, b: Day): number {
  return tables(a, b).reduce((n, t) => n + lowerBound(t.sessions, b + 1) - lowerBound(t.sessions, a), 0);
}

/** Closures in [a, b], ascending. */
export function holidaysIn(a: Day, b: Day): { date: string; name: string }[] {
  return tables(a, b).flatMap((t) => [...t.closures].filter(([d]) => d >= a && d <= b).map(([d, name]) => ({ date: formatDay(d), name })));
}

/** Early closes in [a, b], ascending. */
export function earlyClosesIn(a: Day, b: Day): { date: string; closeTime: string; name: string }[] {
  return tables(a, b).flatMap((t) =>
    [...t.earlyCloses].filter(([d]) => d >= a && d <= b).map(([d, e]) => ({ date: formatDay(d), closeTime: e.closeTime, name: e.name })),
  );
}

/** The close of a session, or why `day` is not one ('weekend' or the closure's name). */
export function closeOf(day: Day): { closeTime: string } | { closedFor: string } {
  const table = yearTable(yearOf(day));
  if (table.sessionSet.has(day)) return { closeTime: table.earlyCloses.get(day)?.closeTime ?? REGULAR_CLOSE };
  return { closedFor: table.closures.get(day) ?? 'weekend' };
}

/** The first session strictly after (`direction` 1) or before (-1) `day`, searching no further than `limit`. */
export function stepSession(day: Day, direction: 1 | -1, limit: Day): Day | undefined {
  for (let y = yearOf(day); direction === 1 ? y <= yearOf(limit) : y >= yearOf(limit); y += direction) {
    const s = yearTable(y).sessions;
    const candidate = direction === 1 ? s[lowerBound(s, day + 1)] : s[lowerBound(s, day) - 1];
    if (candidate === undefined) continue;
    return (direction === 1 ? candidate <= limit : candidate >= limit) ? candidate : undefined;
  }
  return undefined;
}
