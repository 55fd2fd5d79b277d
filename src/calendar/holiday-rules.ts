/**
 * The NYSE's recurring full-day holidays as rules (DATA-RULES "Calendars"): each rule names a
 * nominal date per year and says how a weekend date is observed. Reproduces the holiday list
 * of pandas_market_calendars from 1928 and the sessions of exchange_calendars from 1990.
 */
import type { Day } from './day.js';
import { MONDAY, SATURDAY, SUNDAY, THURSDAY, dayOf, easterSunday, lastWeekday, nthWeekday, weekday, FRIDAY } from './day.js';

/** First year the rules describe. */
export const RULES_FIRST_YEAR = 1928;

/**
 * Saturdays were sessions until the NYSE dropped Saturday trading for good on 1952-09-29
 * (the last Saturday session was 1952-05-24; the summer Saturdays after it are closures).
 */
export const SATURDAY_SESSIONS_END: Day = dayOf(1952, 9, 29);

const OPEN_ENDED = 9999;

/** True for the days the exchange opens unless closed: Monday–Friday, and Saturday before 1952-09-29. */
export function isTradingWeekday(day: Day): boolean {
  const wd = weekday(day);
  if (wd >= MONDAY && wd <= FRIDAY) return true;
  return wd === SATURDAY && day < SATURDAY_SESSIONS_END;
}

/** A recurring holiday. */
interface AnnualRule {
  readonly name: string;
  readonly firstYear: number;
  readonly lastYear: number;
  /** Extra filter on the years in [firstYear, lastYear]. */
  readonly inYear?: (year: number) => boolean;
  /** The holiday's own date in a year. */
  readonly nominal: (year: number) => Day;
  /**
   * Whether a holiday falling on a (non-trading) Saturday closes the Friday before. A Sunday
   * holiday always closes the Monday after; a Saturday holiday before 1952-09-29 closes the
   * Saturday itself.
   */
  readonly saturdayToFriday: (year: number) => boolean;
}

const fixed = (month: number, dom: number) => (year: number): Day => dayOf(year, month, dom);
const never = (): boolean => false;
const always = (): boolean => true;
const fromYear = (first: number) => (year: number): boolean => year >= first;

const annualRules: readonly AnnualRule[] = [
  // NYSE Rule 7.2: a Saturday holiday closes the Friday before unless that Friday ends a
  // monthly or yearly accounting period, so a Saturday New Year's Day is never observed on Dec 31.
  { name: "New Year's Day", firstYear: 1928, lastYear: OPEN_ENDED, nominal: fixed(1, 1), saturdayToFriday: never },
  { name: 'Martin Luther King Jr. Day', firstYear: 1998, lastYear: OPEN_ENDED, nominal: (y) => nthWeekday(y, 1, MONDAY, 3), saturdayToFriday: never },
  { name: "Lincoln's Birthday", firstYear: 1928, lastYear: 1953, nominal: fixed(2, 12), saturdayToFriday: never },
  { name: "Washington's Birthday", firstYear: 1928, lastYear: 1970, nominal: fixed(2, 22), saturdayToFriday: fromYear(1964) },
  { name: "Washington's Birthday", firstYear: 1971, lastYear: OPEN_ENDED, nominal: (y) => nthWeekday(y, 2, MONDAY, 3), saturdayToFriday: never },
  { name: 'Good Friday', firstYear: 1928, lastYear: OPEN_ENDED, nominal: (y) => easterSunday(y) - 2, saturdayToFriday: never },
  { name: 'Memorial Day', firstYear: 1928, lastYear: 1970, nominal: fixed(5, 30), saturdayToFriday: (y) => y >= 1964 && y <= 1969 },
  { name: 'Memorial Day', firstYear: 1971, lastYear: OPEN_ENDED, nominal: (y) => lastWeekday(y, 5, MONDAY), saturdayToFriday: never },
  { name: 'Juneteenth National Independence Day', firstYear: 2022, lastYear: OPEN_ENDED, nominal: fixed(6, 19), saturdayToFriday: always },
  { name: 'Independence Day', firstYear: 1928, lastYear: OPEN_ENDED, nominal: fixed(7, 4), saturdayToFriday: fromYear(1954) },
  { name: 'Labor Day', firstYear: 1928, lastYear: OPEN_ENDED, nominal: (y) => nthWeekday(y, 9, MONDAY, 1), saturdayToFriday: never },
  { name: 'Columbus Day', firstYear: 1928, lastYear: 1953, nominal: fixed(10, 12), saturdayToFriday: never },
  // Every year to 1967; then only in presidential election years, the last in 1980.
  {
    name: 'Election Day',
    firstYear: 1928,
    lastYear: 1980,
    inYear: (y) => y <= 1967 || y % 4 === 0,
    nominal: (y) => nthWeekday(y, 11, MONDAY, 1) + 1,
    saturdayToFriday: never,
  },
  { name: 'Armistice Day', firstYear: 1934, lastYear: 1953, nominal: fixed(11, 11), saturdayToFriday: never },
  { name: 'Thanksgiving Day', firstYear: 1928, lastYear: 1938, nominal: (y) => lastWeekday(y, 11, THURSDAY), saturdayToFriday: never },
  // 1939-1941: the "Franksgiving" years, one week before the last Thursday.
  { name: 'Thanksgiving Day', firstYear: 1939, lastYear: 1941, nominal: (y) => lastWeekday(y, 11, THURSDAY, 2), saturdayToFriday: never },
  { name: 'Thanksgiving Day', firstYear: 1942, lastYear: OPEN_ENDED, nominal: (y) => nthWeekday(y, 11, THURSDAY, 4), saturdayToFriday: never },
  { name: 'Christmas Day', firstYear: 1928, lastYear: OPEN_ENDED, nominal: fixed(12, 25), saturdayToFriday: fromYear(1954) },
];

/** A closure produced by a rule or a one-off. */
export interface NamedDay {
  readonly day: Day;
  readonly name: string;
}

function observe(rule: AnnualRule, year: number): NamedDay | undefined {
  const nominal = rule.nominal(year);
  const wd = weekday(nominal);
  if (wd === SUNDAY) return { day: nominal + 1, name: `${rule.name} (observed)` };
  if (wd === SATURDAY && nominal >= SATURDAY_SESSIONS_END) {
    return rule.saturdayToFriday(year) ? { day: nominal - 1, name: `${rule.name} (observed)` } : undefined;
  }
  return { day: nominal, name: rule.name };
}

/** The rule holidays of a year, on the days they close the exchange. */
export function ruleHolidays(year: number): NamedDay[] {
  const out: NamedDay[] = [];
  for (const rule of annualRules) {
    if (year < rule.firstYear || year > rule.lastYear) continue;
    if (rule.inYear !== undefined && !rule.inYear(year)) continue;
    const closed = observe(rule, year);
    if (closed !== undefined) out.push(closed);
  }
  return out;
}
