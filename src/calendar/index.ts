/**
 * The NYSE trading calendar (DATA-RULES "Calendars"): sessions, named full-day closures and
 * early closes from 1928-01-01 to 2030-12-31, computed by rule plus a list of one-off closures,
 * checked against exchange_calendars (sessions and closing times 1990-2023) and
 * pandas_market_calendars (closures 1928-2021). Dates are 'YYYY-MM-DD' strings handled as pure
 * UTC days; times are New York wall-clock 'HH:MM'. Dates outside the known range throw
 * {@link CalendarRangeError}; nothing is guessed. A leaf module: it imports nothing from wh.
 *
 * @example
 * import { isSession, sessions, sessionClose } from '../src/calendar/index.js';
 * isSession('2022-06-20');                 // false (Juneteenth observed)
 * sessions('2024-12-23', '2024-12-27');    // ['2024-12-23', '2024-12-24', '2024-12-26', '2024-12-27']
 * sessionClose('2024-12-24');              // '13:00'
 *
 * @packageDocumentation
 */
export {
  earlyCloses,
  holidays,
  isSession,
  nextSession,
  previousSession,
  sessionClose,
  sessions,
  sessionsBetweenCount,
} from './nyse.js';
export {
  NYSE_HOURS_KNOWN_FROM,
  NYSE_KNOWN_RANGE,
  NYSE_RULES_START,
  createNyseCalendar,
  isIsoDate,
} from './create-calendar.js';
export type { EarlyClose, Holiday, NyseCalendarOptions, TradingCalendar } from './create-calendar.js';
export { CalendarError, CalendarRangeError, calendarErrorCodes, isCalendarError, isCalendarRangeError } from './errors.js';
export type { CalendarErrorCode, CalendarRangeErrorOptions, DateRange } from './errors.js';
