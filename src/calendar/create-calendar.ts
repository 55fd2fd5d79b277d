/**
 * The NYSE trading calendar: sessions, full-day closures and early closes, computed by rule
 * plus a list of one-offs (DATA-RULES "Calendars"). Dates are 'YYYY-MM-DD' strings; times are
 * New York wall-clock 'HH:MM'. Dates outside the known range are refused, never guessed.
 */
import type { Day } from './day.js';
import type { DateRange } from './errors.js';
import { formatDay, parseIsoDay } from './day.js';
import { CalendarError, CalendarRangeError } from './errors.js';
import { RULES_FIRST_YEAR } from './holiday-rules.js';
import { HOURS_FIRST_YEAR } from './early-close-rules.js';
import { closeOf, countSessions, earlyClosesIn, holidaysIn, isSessionDay, sessionDatesIn, stepSession } from './queries.js';

/**
 * The range of dates the default calendar answers for: 1928-01-01 through 2030-12-31. Change
 * it here, or pass `knownRange` to {@link createNyseCalendar}, once the exchange has published
 * its holidays for the added years.
 */
export const NYSE_KNOWN_RANGE: DateRange = Object.freeze({ start: '1928-01-01', end: '2030-12-31' });

/** The earliest date the rules describe; a known range cannot start before it. */
export const NYSE_RULES_START = `${RULES_FIRST_YEAR}-01-01`;

/** The first date whose session hours (closing times) the calendar knows. */
export const NYSE_HOURS_KNOWN_FROM = `${HOURS_FIRST_YEAR}-01-01`;

/** A full-day closure of a day the exchange would otherwise open. */
export interface Holiday {
  readonly date: string;
  readonly name: string;
}

/** A session that closes before the regular close. */
export interface EarlyClose {
  readonly date: string;
  /** New York wall-clock time, 'HH:MM'. */
  readonly closeTime: string;
  readonly name: string;
}

/** Options of {@link createNyseCalendar}. */
export interface NyseCalendarOptions {
  /** Dates outside this inclusive range are refused. Default {@link NYSE_KNOWN_RANGE}. */
  readonly knownRange?: DateRange;
}

/**
 * A trading calendar. Every method throws {@link CalendarRangeError} for a date outside
 * `knownRange` and {@link CalendarError} (`CALENDAR_INVALID_DATE`) for a malformed date; range
 * methods are inclusive at both ends and throw `CALENDAR_INVALID_RANGE` when `from` > `to`.
 */
export interface TradingCalendar {
  /** The inclusive range of dates this calendar answers for. */
  readonly knownRange: DateRange;
  /** True if the exchange holds a session on `date`. */
  isSession(date: string): boolean;
  /** Sessions from `from` to `to`, ascending. */
  sessions(from: string, to: string): string[];
  /** Full-day closures of days the exchange would otherwise open, ascending, named. */
  holidays(from: string, to: string): Holiday[];
  /** Sessions closing before 16:00, ascending; refuses dates before {@link NYSE_HOURS_KNOWN_FROM}. */
  earlyCloses(from: string, to: string): EarlyClose[];
  /** The close of a session, 'HH:MM' New York; throws `CALENDAR_NOT_A_SESSION` on a non-session. */
  sessionClose(date: string): string;
  /** The first session strictly after `date`. */
  nextSession(date: string): string;
  /** The last session strictly before `date`. */
  previousSession(date: string): string;
  /** The number of sessions from `from` to `to`. */
  sessionsBetweenCount(from: string, to: string): number;
}

/** True if `text` is a strict 'YYYY-MM-DD' string naming a real calendar date. */
export function isIsoDate(text: string): boolean {
  return parseIsoDay(text) !== undefined;
}

function parseDate(text: string): Day {
  const day = typeof text === 'string' ? parseIsoDay(text) : undefined;
  if (day === undefined) {
    throw new CalendarError('CALENDAR_INVALID_DATE', `not a date: ${JSON.stringify(text)}`, "write dates as 'YYYY-MM-DD' (e.g. '2024-07-03') naming a real calendar day", {
      date: text,
    });
  }
  return day;
}

function validateRange(range: DateRange): { first: Day; last: Day } {
  const first = parseDate(range.start);
  const last = parseDate(range.end);
  if (first > last || range.start < NYSE_RULES_START) {
    throw new CalendarError(
      'CALENDAR_INVALID_RANGE',
      `invalid known range ${range.start} to ${range.end}`,
      `pass a range with start <= end and start >= ${NYSE_RULES_START} (the rules do not describe earlier years)`,
      { knownRange: range },
    );
  }
  return { first, last };
}

/** Turns 'YYYY-MM-DD' arguments into checked days, or throws the calendar's errors. */
function createGuards(knownRange: DateRange) {
  const { first, last } = validateRange(knownRange);
  const hoursRange: DateRange = Object.freeze({ start: knownRange.start > NYSE_HOURS_KNOWN_FROM ? knownRange.start : NYSE_HOURS_KNOWN_FROM, end: knownRange.end });
  const hoursFirst = parseDate(hoursRange.start);
  const hoursSuggestion =
    `closing times are known from ${NYSE_HOURS_KNOWN_FROM} (verified against exchange_calendars); for earlier dates ` +
    `use isSession/sessions/holidays, which are known from ${knownRange.start}`;
  const inRange = (text: string): Day => {
    const day = parseDate(text);
    if (day < first || day > last) throw new CalendarRangeError(text, knownRange);
    return day;
  };
  const inHoursRange = (text: string): Day => {
    const day = inRange(text);
    if (day < hoursFirst) throw new CalendarRangeError(text, hoursRange, { subject: 'NYSE session hours', suggestion: hoursSuggestion });
    return day;
  };
  const span = (from: string, to: string, check: (t: string) => Day = inRange): [Day, Day] => {
    const [a, b] = [check(from), check(to)];
    if (a > b) throw new CalendarError('CALENDAR_INVALID_RANGE', `from ${from} is after to ${to}`, 'pass from <= to (both inclusive)', { from, to });
    return [a, b];
  };
  const beyond = (date: string, which: 'after' | 'before'): CalendarRangeError =>
    new CalendarRangeError(date, knownRange, {
      message: `the session ${which} ${date} lies outside the known range of the NYSE calendar: ${knownRange.start} to ${knownRange.end}`,
      suggestion: "extend the range with createNyseCalendar({ knownRange }) once the exchange's holidays for those years are published",
    });
  return { first, last, inRange, inHoursRange, span, beyond };
}

/**
 * Creates a calendar with its own known range. Year tables are shared and cached, so calendars
 * are cheap. The default functions ({@link isSession}, {@link sessions}, ...) use
 * {@link NYSE_KNOWN_RANGE}.
 *
 * @throws CalendarError (`CALENDAR_INVALID_RANGE`) if the range is reversed or starts before {@link NYSE_RULES_START}.
 * @example
 * const cal = createNyseCalendar({ knownRange: { start: '1990-01-01', end: '2035-12-31' } });
 * cal.isSession('2031-01-02'); // true
 */
export function createNyseCalendar(options: NyseCalendarOptions = {}): TradingCalendar {
  const knownRange: DateRange = Object.freeze({ ...(options.knownRange ?? NYSE_KNOWN_RANGE) });
  const { first, last, inRange, inHoursRange, span, beyond } = createGuards(knownRange);
  return Object.freeze({
    knownRange,
    isSession: (date: string): boolean => isSessionDay(inRange(date)),
    sessions: (from: string, to: string): string[] => sessionDatesIn(...span(from, to)),
    holidays: (from: string, to: string): Holiday[] => holidaysIn(...span(from, to)),
    earlyCloses: (from: string, to: string): EarlyClose[] => earlyClosesIn(...span(from, to, inHoursRange)),
    sessionClose: (date: string): string => {
      const close = closeOf(inHoursRange(date));
      if ('closeTime' in close) return close.closeTime;
      throw new CalendarError('CALENDAR_NOT_A_SESSION', `${date} is not an NYSE session (${close.closedFor})`, 'ask for the close of a session: check isSession(date) or use nextSession(date)', { date });
    },
    nextSession: (date: string): string => {
      const day = stepSession(inRange(date), 1, last);
      if (day === undefined) throw beyond(date, 'after');
      return formatDay(day);
    },
    previousSession: (date: string): string => {
      const day = stepSession(inRange(date), -1, first);
      if (day === undefined) throw beyond(date, 'before');
      return formatDay(day);
    },
    sessionsBetweenCount: (from: string, to: string): number => countSessions(...span(from, to)),
  });
}
