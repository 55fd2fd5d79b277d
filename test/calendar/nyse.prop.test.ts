import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NYSE_KNOWN_RANGE,
  earlyCloses,
  holidays,
  isCalendarRangeError,
  isSession,
  nextSession,
  previousSession,
  sessionClose,
  sessions,
  sessionsBetweenCount,
} from '../../src/calendar/index.js';

const DAY_MS = 86_400_000;
const toDay = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const toDate = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const weekdayOf = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay();

const FIRST = toDay(NYSE_KNOWN_RANGE.start);
const LAST = toDay(NYSE_KNOWN_RANGE.end);
const SATURDAY_SESSIONS_END = '1952-09-29';

const allSessions = sessions(NYSE_KNOWN_RANGE.start, NYSE_KNOWN_RANGE.end);
const sessionSet = new Set(allSessions);
const holidaySet = new Set(holidays(NYSE_KNOWN_RANGE.start, NYSE_KNOWN_RANGE.end).map((h) => h.date));

const dateIn = (first: number, last: number): fc.Arbitrary<string> => fc.integer({ min: first, max: last }).map(toDate);
const anyDate = dateIn(FIRST, LAST);
/** Dates with a session on both sides inside the known range. */
const innerDate = dateIn(toDay(allSessions[1] ?? ''), toDay(allSessions.at(-2) ?? ''));
const params = { numRuns: 2_000 };

describe('calendar properties over 1928-2030', () => {
  it('isSession(d) iff d is in sessions(range)', () => {
    fc.assert(fc.property(anyDate, (d) => isSession(d) === sessionSet.has(d)), params);
  });

  it('every day is exactly one of: session, holiday, non-trading day', () => {
    fc.assert(
      fc.property(anyDate, (d) => {
        const wd = weekdayOf(d);
        const tradingWeekday = (wd >= 1 && wd <= 5) || (wd === 6 && d < SATURDAY_SESSIONS_END);
        if (tradingWeekday) return sessionSet.has(d) !== holidaySet.has(d);
        return !sessionSet.has(d) && !holidaySet.has(d);
      }),
      params,
    );
  });

  it('nextSession(previousSession(d)) is d itself on a session, else nextSession(d)', () => {
    fc.assert(
      fc.property(innerDate, (d) => {
        const expected = isSession(d) ? d : nextSession(d);
        expect(nextSession(previousSession(d))).toBe(expected);
        expect(previousSession(nextSession(d))).toBe(isSession(d) ? d : previousSession(d));
      }),
      params,
    );
  });

  it('nextSession(d) is the first session after d, with none in between', () => {
    fc.assert(
      fc.property(innerDate, (d) => {
        const next = nextSession(d);
        expect(next > d).toBe(true);
        expect(isSession(next)).toBe(true);
        expect(sessionsBetweenCount(toDate(toDay(d) + 1), next)).toBe(1);
      }),
      params,
    );
  });

  it('sessionsBetweenCount equals sessions().length and adds up over adjacent spans', () => {
    fc.assert(
      fc.property(anyDate, anyDate, anyDate, (x, y, z) => {
        const [a, b, c] = [x, y, z].sort();
        if (a === undefined || b === undefined || c === undefined || b === c) return;
        expect(sessionsBetweenCount(a, c)).toBe(sessions(a, c).length);
        expect(sessionsBetweenCount(a, b) + sessionsBetweenCount(toDate(toDay(b) + 1), c)).toBe(sessionsBetweenCount(a, c));
      }),
      { numRuns: 300 },
    );
  });

  it('sessionClose is 16:00 or the early close of that session, from 1990', () => {
    const early = new Map(earlyCloses('1990-01-01', NYSE_KNOWN_RANGE.end).map((e) => [e.date, e.closeTime]));
    for (const date of early.keys()) expect(sessionSet.has(date)).toBe(true);
    fc.assert(
      fc.property(dateIn(toDay('1990-01-01'), LAST), (d) => {
        if (!sessionSet.has(d)) return;
        expect(sessionClose(d)).toBe(early.get(d) ?? '16:00');
      }),
      params,
    );
  });

  it('refuses every date outside the known range', () => {
    const outside = fc.oneof(dateIn(toDay('1000-01-01'), FIRST - 1), dateIn(LAST + 1, toDay('9999-12-31')));
    fc.assert(
      fc.property(outside, (d) => {
        try {
          isSession(d);
        } catch (e) {
          return isCalendarRangeError(e) && e.code === 'CALENDAR_RANGE' && e.date === d;
        }
        return false;
      }),
      params,
    );
  });
});
