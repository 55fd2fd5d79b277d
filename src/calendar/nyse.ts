/**
 * The NYSE calendar over {@link NYSE_KNOWN_RANGE}: the functions most callers use. Each one
 * delegates to one shared {@link TradingCalendar} built by {@link createNyseCalendar}.
 */
import type { EarlyClose, Holiday, TradingCalendar } from './create-calendar.js';
import { createNyseCalendar } from './create-calendar.js';

const nyse: TradingCalendar = createNyseCalendar();

/**
 * True if the NYSE holds a session on `date` ('YYYY-MM-DD'). Before 1952-09-29 Saturdays that
 * were not closed are sessions too.
 *
 * @throws CalendarRangeError if `date` is outside {@link NYSE_KNOWN_RANGE}.
 * @throws CalendarError (`CALENDAR_INVALID_DATE`) if `date` is not 'YYYY-MM-DD'.
 * @example
 * isSession('2025-01-09'); // false: national day of mourning for former President Carter
 * isSession('2025-01-10'); // true
 */
export function isSession(date: string): boolean {
  return nyse.isSession(date);
}

/**
 * The sessions from `from` to `to` (inclusive), ascending. Year tables are built once and
 * cached, so the whole range 1928-2030 takes milliseconds.
 *
 * @throws CalendarRangeError if either end is outside {@link NYSE_KNOWN_RANGE}.
 * @throws CalendarError (`CALENDAR_INVALID_RANGE`) if `from` > `to`.
 * @example
 * sessions('2024-07-01', '2024-07-05'); // ['2024-07-01', '2024-07-02', '2024-07-03', '2024-07-05']
 */
export function sessions(from: string, to: string): string[] {
  return nyse.sessions(from, to);
}

/**
 * Full-day closures from `from` to `to` (inclusive) of days the exchange would otherwise open
 * (Monday–Friday; Saturdays too before 1952-09-29), ascending, with a name. A holiday moved off
 * a weekend is named "... (observed)".
 *
 * @throws CalendarRangeError if either end is outside {@link NYSE_KNOWN_RANGE}.
 * @example
 * holidays('2022-06-01', '2022-06-30'); // [{ date: '2022-06-20', name: 'Juneteenth National Independence Day (observed)' }]
 */
export function holidays(from: string, to: string): Holiday[] {
  return nyse.holidays(from, to);
}

/**
 * Sessions from `from` to `to` (inclusive) that close before 16:00 New York time, with the
 * close ('HH:MM', New York) and the reason.
 *
 * @throws CalendarRangeError if either end is outside the known range or before
 * {@link NYSE_HOURS_KNOWN_FROM} (closing times before 1990 are not known).
 * @example
 * earlyCloses('2023-11-01', '2023-11-30'); // [{ date: '2023-11-24', closeTime: '13:00', name: 'Day after Thanksgiving' }]
 */
export function earlyCloses(from: string, to: string): EarlyClose[] {
  return nyse.earlyCloses(from, to);
}

/**
 * The close of the session on `date`, 'HH:MM' New York time: '16:00', or the early close.
 *
 * @throws CalendarError (`CALENDAR_NOT_A_SESSION`) if `date` is not a session.
 * @throws CalendarRangeError if `date` is outside the known range or before {@link NYSE_HOURS_KNOWN_FROM}.
 * @example
 * sessionClose('2023-11-24'); // '13:00'
 * sessionClose('1991-12-24'); // '14:00'
 */
export function sessionClose(date: string): string {
  return nyse.sessionClose(date);
}

/**
 * The first session strictly after `date` (which need not be a session).
 *
 * @throws CalendarRangeError if `date`, or the answer, is outside {@link NYSE_KNOWN_RANGE}.
 * @example
 * nextSession('2025-01-08'); // '2025-01-10'
 */
export function nextSession(date: string): string {
  return nyse.nextSession(date);
}

/**
 * The last session strictly before `date` (which need not be a session).
 *
 * @throws CalendarRangeError if `date`, or the answer, is outside {@link NYSE_KNOWN_RANGE}.
 * @example
 * previousSession('2024-01-02'); // '2023-12-29'
 */
export function previousSession(date: string): string {
  return nyse.previousSession(date);
}

/**
 * The number of sessions from `from` to `to`, both inclusive; equals `sessions(from, to).length`
 * without building the list.
 *
 * @throws CalendarRangeError if either end is outside {@link NYSE_KNOWN_RANGE}.
 * @example
 * sessionsBetweenCount('2024-01-01', '2024-12-31'); // 252
 */
export function sessionsBetweenCount(from: string, to: string): number {
  return nyse.sessionsBetweenCount(from, to);
}
