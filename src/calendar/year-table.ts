/**
 * One year of the calendar, built lazily from the rules and one-offs and cached for the life
 * of the process (tables do not depend on the configured known range).
 */
import type { Day } from './day.js';
import { dayOf, formatDay } from './day.js';
import { isTradingWeekday, ruleHolidays } from './holiday-rules.js';
import { oneOffClosuresIn, oneOffEarlyClosesIn } from './one-offs.js';
import { ruleEarlyCloses } from './early-close-rules.js';

/** An early close on a session. */
export interface EarlyCloseEntry {
  readonly name: string;
  readonly closeTime: string;
}

/** Sessions, closures and early closes of one calendar year. */
export interface YearTable {
  readonly year: number;
  /** Sessions in ascending order. */
  readonly sessions: readonly Day[];
  /** The same sessions as 'YYYY-MM-DD' strings (formatted once, reused by every query). */
  readonly sessionDates: readonly string[];
  readonly sessionSet: ReadonlySet<Day>;
  /** Full-day closures of trading weekdays, ascending, named. */
  readonly closures: ReadonlyMap<Day, string>;
  /** Early closes, ascending. */
  readonly earlyCloses: ReadonlyMap<Day, EarlyCloseEntry>;
}

const cache = new Map<number, YearTable>();

function closuresOf(year: number, first: Day, last: Day): Map<Day, string> {
  const found = new Map<Day, string>();
  for (const { day, name } of [...ruleHolidays(year), ...oneOffClosuresIn(year)]) {
    if (day < first || day > last || !isTradingWeekday(day) || found.has(day)) continue;
    found.set(day, name);
  }
  return new Map([...found].sort((a, b) => a[0] - b[0]));
}

function buildYear(year: number): YearTable {
  const first = dayOf(year, 1, 1);
  const last = dayOf(year + 1, 1, 1) - 1;
  const closures = closuresOf(year, first, last);
  const sessions: Day[] = [];
  for (let day = first; day <= last; day++) {
    if (isTradingWeekday(day) && !closures.has(day)) sessions.push(day);
  }
  const sessionSet = new Set(sessions);
  const early: [Day, EarlyCloseEntry][] = [];
  for (const { day, name, closeTime } of [...ruleEarlyCloses(year), ...oneOffEarlyClosesIn(year)]) {
    if (sessionSet.has(day)) early.push([day, { name, closeTime }]);
  }
  early.sort((a, b) => a[0] - b[0]);
  return { year, sessions, sessionDates: sessions.map(formatDay), sessionSet, closures, earlyCloses: new Map(early) };
}

/** The (cached) table of a year. */
export function yearTable(year: number): YearTable {
  let table = cache.get(year);
  if (table === undefined) {
    table = buildYear(year);
    cache.set(year, table);
  }
  return table;
}

/** Index of the first element of `sorted` that is >= `day` (sorted.length if none). */
export function lowerBound(sorted: readonly Day[], day: Day): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as Day) < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
