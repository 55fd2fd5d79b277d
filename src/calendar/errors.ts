/**
 * Errors of the calendar: subclasses of the warehouse's one error type, so a caller catches
 * `WarehouseError` everywhere and branches on `code` (or on `isCalendarRangeError`).
 */
import { WarehouseError } from '../log/index.js';

/** Machine-readable codes of {@link CalendarError}. */
export const calendarErrorCodes = ['CALENDAR_RANGE', 'CALENDAR_INVALID_DATE', 'CALENDAR_INVALID_RANGE', 'CALENDAR_NOT_A_SESSION'] as const;

/** One of {@link calendarErrorCodes}. */
export type CalendarErrorCode = (typeof calendarErrorCodes)[number];

/** An inclusive range of 'YYYY-MM-DD' dates. */
export interface DateRange {
  readonly start: string;
  readonly end: string;
}

/**
 * Base error of the calendar: `code` for programs, `message` and `suggestion` for people.
 * Thrown for bad input (a malformed date, `from` after `to`, asking the close of a non-session).
 */
export class CalendarError extends WarehouseError {
  /** Which problem this is. */
  declare readonly code: CalendarErrorCode;
  /** How to fix it, in one sentence. */
  declare readonly suggestion: string;

  constructor(code: CalendarErrorCode, message: string, suggestion: string, details: Record<string, unknown> = {}) {
    super(code, message, { suggestion, details });
    this.name = 'CalendarError';
  }
}

/** Wording of a {@link CalendarRangeError}; the defaults name the date and the range. */
export interface CalendarRangeErrorOptions {
  /** What the range belongs to (default "the NYSE calendar"). */
  readonly subject?: string;
  /** Replaces the whole message. */
  readonly message?: string;
  /** Replaces the default fix. */
  readonly suggestion?: string;
}

/**
 * Thrown when a date lies outside what the calendar knows (code `CALENDAR_RANGE`). The calendar
 * refuses rather than guesses: holidays beyond the range may not be announced yet, and session
 * hours before the hours range were not verified.
 */
export class CalendarRangeError extends CalendarError {
  /** The date that was refused. */
  readonly date: string;
  /** The range the date had to lie in. */
  readonly knownRange: DateRange;

  constructor(date: string, knownRange: DateRange, options: CalendarRangeErrorOptions = {}) {
    super(
      'CALENDAR_RANGE',
      options.message ?? `${date} is outside the known range of ${options.subject ?? 'the NYSE calendar'}: ${knownRange.start} to ${knownRange.end}`,
      options.suggestion ??
        `pass dates from ${knownRange.start} to ${knownRange.end}; to go further, extend the range with ` +
          'createNyseCalendar({ knownRange }) (or the NYSE_KNOWN_RANGE constant) after checking the ' +
          "exchange's published holiday schedule for the added years",
      { date, knownRange },
    );
    this.name = 'CalendarRangeError';
    this.date = date;
    this.knownRange = knownRange;
  }
}

/** True if `e` is a {@link CalendarError} (including {@link CalendarRangeError}). */
export function isCalendarError(e: unknown): e is CalendarError {
  return e instanceof CalendarError;
}

/** True if `e` is a {@link CalendarRangeError}. */
export function isCalendarRangeError(e: unknown): e is CalendarRangeError {
  return e instanceof CalendarRangeError;
}
