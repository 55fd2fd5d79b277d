/**
 * Calendar-day arithmetic on 'YYYY-MM-DD' strings (pure UTC days) and the NYSE sessions the
 * sample is dated by (from src/calendar).
 */
import { nextSession, sessions } from '../../calendar/index.js';

export { nextSession, sessions };

const DAY_MS = 86_400_000;

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Calendar days from `a` to `b`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** 'YYYY-MM' of a date. */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

/** Calendar year of a date. */
export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** Last calendar day of month `month` (1-12) of `year`. */
export function monthEnd(year: number, month: number): string {
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** The last session of each calendar month in `days` (which must be sorted). */
export function lastSessionsOfMonths(days: readonly string[]): Set<string> {
  const result = new Set<string>();
  for (let i = 0; i < days.length; i++) {
    const day = days[i] as string;
    const next = days[i + 1];
    if (next === undefined || monthOf(next) !== monthOf(day)) result.add(day);
  }
  return result;
}

/** 'MM/DD/YYYY' from 'YYYY-MM-DD'. */
export function toUsDate(date: string): string {
  return `${date.slice(5, 7)}/${date.slice(8, 10)}/${date.slice(0, 4)}`;
}

/** 'YYYYMMDD' from 'YYYY-MM-DD'. */
export function compact(date: string): string {
  return date.replace(/-/g, '');
}
