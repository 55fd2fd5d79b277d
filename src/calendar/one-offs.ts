/**
 * Closures and early closes that no rule produces: funerals and days of mourning, weather,
 * emergencies, back-office backlogs, and the summer Saturday closings of 1944-1952. Sources:
 * the NYSE closings history behind pandas_market_calendars (full days, 1928-2021) and
 * exchange_calendars' xnys (early closes, 1990-2023); 2025-01-09 from the NYSE notice.
 */
import type { Day } from './day.js';
import type { NamedDay } from './holiday-rules.js';
import { SATURDAY, parseIsoDay, weekday, yearOf } from './day.js';

/** A one-off full-day closure: one date, or every day (or every Saturday) of a span. */
interface OneOffClosure {
  readonly start: string;
  readonly end?: string;
  readonly name: string;
  readonly saturdaysOnly?: boolean;
}

const backlog = 'Backlog relief (Saturday closing)';
const summerSaturday = 'Summer Saturday closing';
const paperwork = 'Paperwork crisis (Wednesday closing)';

const oneOffClosures: readonly OneOffClosure[] = [
  ...['1928-04-07', '1928-04-21', '1928-05-05', '1928-05-12', '1928-05-19', '1928-05-26', '1928-11-24'].map((start) => ({ start, name: backlog })),
  { start: '1929-02-09', name: backlog },
  { start: '1929-02-23', name: "Saturday after Washington's Birthday" },
  { start: '1929-03-30', name: 'Saturday after Good Friday' },
  { start: '1929-08-31', name: 'Saturday before Labor Day' },
  { start: '1929-11-01', end: '1929-11-02', name: 'Backlog relief (1929 crash)' },
  ...['1929-11-09', '1929-11-16', '1929-11-23'].map((start) => ({ start, name: 'Backlog relief (1929 crash)' })),
  { start: '1929-11-29', end: '1929-11-30', name: 'Backlog relief (after Thanksgiving 1929)' },
  { start: '1930-04-19', name: 'Saturday after Good Friday' },
  { start: '1930-05-31', name: 'Saturday after Memorial Day' },
  { start: '1930-07-05', name: 'Saturday after Independence Day' },
  { start: '1930-08-30', name: 'Saturday before Labor Day' },
  { start: '1931-09-05', name: 'Saturday before Labor Day' },
  { start: '1931-12-26', name: 'Saturday after Christmas' },
  { start: '1932-07-02', name: 'Saturday before Independence Day' },
  { start: '1933-01-07', name: 'Funeral of former President Coolidge' },
  { start: '1933-03-04', end: '1933-03-14', name: 'National banking holiday' },
  { start: '1933-07-29', end: '1933-09-02', saturdaysOnly: true, name: 'Heavy volume (Saturday closing)' },
  { start: '1936-12-26', name: 'Saturday after Christmas' },
  { start: '1937-05-29', name: 'Saturday before Memorial Day' },
  { start: '1937-07-03', name: 'Saturday before Independence Day' },
  { start: '1944-08-19', end: '1944-09-02', saturdaysOnly: true, name: summerSaturday },
  { start: '1945-04-14', name: 'Day of mourning for President Roosevelt' },
  { start: '1945-07-07', end: '1945-09-01', saturdaysOnly: true, name: summerSaturday },
  { start: '1945-08-15', end: '1945-08-16', name: 'V-J Day' },
  { start: '1945-10-13', name: 'Saturday after Columbus Day' },
  { start: '1945-10-27', name: 'Navy Day' },
  { start: '1945-12-24', name: 'Christmas Eve' },
  { start: '1946-02-23', name: "Saturday after Washington's Birthday" },
  { start: '1946-05-25', name: 'Railroad strike' },
  { start: '1946-06-01', end: '1946-09-28', saturdaysOnly: true, name: summerSaturday },
  { start: '1947-05-31', end: '1947-09-27', saturdaysOnly: true, name: summerSaturday },
  { start: '1948-01-03', name: 'Severe weather' },
  { start: '1948-05-29', end: '1948-09-25', saturdaysOnly: true, name: summerSaturday },
  { start: '1949-05-28', end: '1949-09-24', saturdaysOnly: true, name: summerSaturday },
  { start: '1949-12-24', name: 'Christmas Eve' },
  { start: '1950-06-03', end: '1950-09-30', saturdaysOnly: true, name: summerSaturday },
  { start: '1950-12-23', name: 'Saturday before Christmas' },
  { start: '1951-06-02', end: '1951-09-29', saturdaysOnly: true, name: summerSaturday },
  { start: '1952-05-31', end: '1952-09-27', saturdaysOnly: true, name: summerSaturday },
  { start: '1956-12-24', name: 'Christmas Eve' },
  { start: '1958-12-26', name: 'Day after Christmas' },
  { start: '1961-05-29', name: 'Day before Memorial Day' },
  { start: '1963-11-25', name: 'Funeral of President Kennedy' },
  { start: '1968-02-12', name: "Lincoln's Birthday" },
  { start: '1968-04-09', name: 'Day of mourning for Martin Luther King Jr.' },
  // Every Wednesday from 1968-06-12 to year end, except in weeks that already had a holiday.
  ...['06-12', '06-19', '06-26', '07-10', '07-17', '07-24', '07-31', '08-07', '08-14', '08-21', '08-28', '09-11', '09-18', '09-25',
    '10-02', '10-09', '10-16', '10-23', '10-30', '11-20', '12-04', '12-11', '12-18'].map((md) => ({ start: `1968-${md}`, name: paperwork })),
  { start: '1968-07-05', name: 'Day after Independence Day' },
  { start: '1968-11-11', name: 'Veterans Day' },
  { start: '1969-02-10', name: 'Snowstorm' },
  { start: '1969-03-31', name: 'Funeral of former President Eisenhower' },
  { start: '1969-07-21', name: 'First lunar landing' },
  { start: '1972-12-28', name: 'Funeral of former President Truman' },
  { start: '1973-01-25', name: 'Funeral of former President Johnson' },
  { start: '1977-07-14', name: 'New York City blackout' },
  { start: '1985-09-27', name: 'Hurricane Gloria' },
  { start: '1994-04-27', name: 'National day of mourning for former President Nixon' },
  { start: '2001-09-11', end: '2001-09-14', name: 'September 11 attacks' },
  { start: '2004-06-11', name: 'National day of mourning for former President Reagan' },
  { start: '2007-01-02', name: 'National day of mourning for former President Ford' },
  { start: '2012-10-29', end: '2012-10-30', name: 'Hurricane Sandy' },
  { start: '2018-12-05', name: 'National day of mourning for former President George H. W. Bush' },
  { start: '2025-01-09', name: 'National day of mourning for former President Carter' },
];

/** A one-off early close at `closeTime` New York time. */
interface OneOffEarlyClose {
  readonly date: string;
  readonly closeTime: string;
  readonly name: string;
}

const oneOffEarlyCloses: readonly OneOffEarlyClose[] = [
  { date: '1997-12-26', closeTime: '13:00', name: 'Day after Christmas' },
  { date: '1999-12-31', closeTime: '13:00', name: "New Year's Eve (millennium)" },
  { date: '2003-12-26', closeTime: '13:00', name: 'Day after Christmas' },
];

function mustParse(text: string): Day {
  const day = parseIsoDay(text);
  if (day === undefined) throw new Error(`bug: malformed date ${text} in the calendar's one-off list`);
  return day;
}

function expand(entry: OneOffClosure): NamedDay[] {
  const out: NamedDay[] = [];
  const last = mustParse(entry.end ?? entry.start);
  for (let day = mustParse(entry.start); day <= last; day++) {
    if (entry.saturdaysOnly === true && weekday(day) !== SATURDAY) continue;
    out.push({ day, name: entry.name });
  }
  return out;
}

function byYear<T extends { readonly day: Day }>(items: readonly T[]): ReadonlyMap<number, readonly T[]> {
  const map = new Map<number, T[]>();
  for (const item of items) {
    const year = yearOf(item.day);
    const list = map.get(year);
    if (list === undefined) map.set(year, [item]);
    else list.push(item);
  }
  return map;
}

let closuresByYear: ReadonlyMap<number, readonly NamedDay[]> | undefined;
let earlyClosesByYear: ReadonlyMap<number, readonly (NamedDay & { readonly closeTime: string })[]> | undefined;

/** One-off full-day closures in a year (may include non-trading days, e.g. the Sundays of a span). */
export function oneOffClosuresIn(year: number): readonly NamedDay[] {
  closuresByYear ??= byYear(oneOffClosures.flatMap(expand));
  return closuresByYear.get(year) ?? [];
}

/** One-off early closes in a year. */
export function oneOffEarlyClosesIn(year: number): readonly (NamedDay & { readonly closeTime: string })[] {
  earlyClosesByYear ??= byYear(oneOffEarlyCloses.map((e) => ({ day: mustParse(e.date), name: e.name, closeTime: e.closeTime })));
  return earlyClosesByYear.get(year) ?? [];
}
