/**
 * Recurring early closes (DATA-RULES "Calendars"), derived from exchange_calendars' xnys
 * sessions 1990-2023. Times are New York wall-clock 'HH:MM'. A rule's date only counts when it
 * is a session (a Christmas Eve that is the observed Christmas holiday is not an early close).
 */
import type { Day } from './day.js';
import { THURSDAY, TUESDAY, WEDNESDAY, FRIDAY, dayOf, nthWeekday, weekday } from './day.js';

/** First year whose session hours the calendar knows (the start of the verified xnys data). */
export const HOURS_FIRST_YEAR = 1990;

/** The regular close, New York time, in the years whose hours are known. */
export const REGULAR_CLOSE = '16:00';

interface EarlyCloseRule {
  readonly name: string;
  readonly firstYear: number;
  readonly lastYear: number;
  readonly date: (year: number) => Day | undefined;
  readonly closeTime: (year: number) => string;
}

const OPEN_ENDED = 9999;
const oneOClock = (): string => '13:00';
/** 14:00 through 1992, 13:00 from 1993. */
const twoThenOne = (year: number): string => (year <= 1992 ? '14:00' : '13:00');

/** July 3 when July 4 is a Tuesday, Wednesday or Friday; from 2013 also when it is a Thursday. */
function dayBeforeIndependenceDay(year: number): Day | undefined {
  const july4 = dayOf(year, 7, 4);
  const wd = weekday(july4);
  if (wd === TUESDAY || wd === WEDNESDAY || wd === FRIDAY) return july4 - 1;
  return wd === THURSDAY && year >= 2013 ? july4 - 1 : undefined;
}

/** Before 2013, when July 4 is a Thursday the Friday after closes early instead. */
function fridayAfterIndependenceDay(year: number): Day | undefined {
  const july4 = dayOf(year, 7, 4);
  return weekday(july4) === THURSDAY ? july4 + 1 : undefined;
}

const earlyCloseRules: readonly EarlyCloseRule[] = [
  { name: 'Day before Independence Day', firstYear: 1995, lastYear: OPEN_ENDED, date: dayBeforeIndependenceDay, closeTime: oneOClock },
  { name: 'Day after Independence Day', firstYear: 1995, lastYear: 2012, date: fridayAfterIndependenceDay, closeTime: oneOClock },
  { name: 'Day after Thanksgiving', firstYear: 1992, lastYear: OPEN_ENDED, date: (y) => nthWeekday(y, 11, THURSDAY, 4) + 1, closeTime: twoThenOne },
  { name: 'Christmas Eve', firstYear: HOURS_FIRST_YEAR, lastYear: OPEN_ENDED, date: (y) => dayOf(y, 12, 24), closeTime: twoThenOne },
];

/** A candidate early close; the caller keeps it only if the day is a session. */
export interface EarlyCloseCandidate {
  readonly day: Day;
  readonly name: string;
  readonly closeTime: string;
}

/** Rule early closes of a year (before filtering to sessions); none before {@link HOURS_FIRST_YEAR}. */
export function ruleEarlyCloses(year: number): EarlyCloseCandidate[] {
  const out: EarlyCloseCandidate[] = [];
  if (year < HOURS_FIRST_YEAR) return out;
  for (const rule of earlyCloseRules) {
    if (year < rule.firstYear || year > rule.lastYear) continue;
    const day = rule.date(year);
    if (day !== undefined) out.push({ day, name: rule.name, closeTime: rule.closeTime(year) });
  }
  return out;
}
