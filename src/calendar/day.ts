/**
 * Pure UTC-day arithmetic. A `Day` is the number of days since 1970-01-01; every computation
 * goes through `Date.UTC` and the `getUTC*` accessors, so the host's time zone never matters.
 */

/** Days since 1970-01-01 (UTC). */
export type Day = number;

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Weekday numbers as returned by {@link weekday}. */
export const SUNDAY = 0;
export const MONDAY = 1;
export const TUESDAY = 2;
export const WEDNESDAY = 3;
export const THURSDAY = 4;
export const FRIDAY = 5;
export const SATURDAY = 6;

/** The day of a calendar date; `month` is 1-12. */
export function dayOf(year: number, month: number, dayOfMonth: number): Day {
  return Math.round(Date.UTC(year, month - 1, dayOfMonth) / MS_PER_DAY);
}

/** Parses a strict 'YYYY-MM-DD' string naming a real date, or returns undefined. */
export function parseIsoDay(text: string): Day | undefined {
  const m = ISO_DATE.exec(text);
  if (m === null) return undefined;
  const [year, month, dom] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || dom < 1 || dom > 31) return undefined;
  const day = dayOf(year, month, dom);
  return formatDay(day) === text ? day : undefined;
}

/** Formats a day as 'YYYY-MM-DD'. */
export function formatDay(day: Day): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The calendar year of a day. */
export function yearOf(day: Day): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}

/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: Day): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** The `n`-th (1-based) given weekday of a month. */
export function nthWeekday(year: number, month: number, wd: number, n: number): Day {
  const first = dayOf(year, month, 1);
  return first + ((wd - weekday(first) + 7) % 7) + 7 * (n - 1);
}

/** The last given weekday of a month; `fromEnd` = 2 gives the second-to-last. */
export function lastWeekday(year: number, month: number, wd: number, fromEnd = 1): Day {
  const last = dayOf(year, month + 1, 1) - 1;
  return last - ((weekday(last) - wd + 7) % 7) - 7 * (fromEnd - 1);
}

/** Easter Sunday (Gregorian; anonymous algorithm, Meeus/Jones/Butcher). */
export function easterSunday(year: number): Day {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const dom = ((h + l - 7 * m + 114) % 31) + 1;
  return dayOf(year, month, dom);
}
