import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CalendarError,
  CalendarRangeError,
  NYSE_KNOWN_RANGE,
  createNyseCalendar,
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
import { calendarCommand } from '../../cli/calendar.js';

// The real files, read in place (never copied into the repository): see ../shared/data/README.md.
const dataFile = (name: string): string => readFileSync(new URL(`../../../shared/data/nyse_calendar/${name}`, import.meta.url), 'utf8');

const newYorkClock = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** UTC ISO instant → New York { date, time } (DST handled by the time zone database). */
function toNewYork(instant: string): { date: string; time: string } {
  const parts = Object.fromEntries(newYorkClock.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

interface XnysRow {
  date: string;
  open: string;
  close: string;
}

const xnys: XnysRow[] = dataFile('xnys.csv')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [label, open, close] = line.split(',');
    const date = (label ?? '').slice(0, 10);
    const o = toNewYork(open ?? '');
    const c = toNewYork(close ?? '');
    expect(o.date).toBe(date);
    expect(c.date).toBe(date);
    return { date, open: o.time, close: c.time };
  });

const holidayFile: string[] = dataFile('nyse_all_full_day_holidays_since_1928.csv')
  .trim()
  .split('\n')
  .map((line) => {
    const [m, d, y] = line.trim().split('/');
    return `${y}-${(m ?? '').padStart(2, '0')}-${(d ?? '').padStart(2, '0')}`;
  });

/**
 * The one date of the holiday file the calendar does not list: a Sunday inside the 1933 banking
 * holiday (1933-03-04..14). Sundays were never sessions, so it is not a closure of anything;
 * the other Sunday of that span, 1933-03-05, is not in the file either.
 */
const SUNDAY_IN_HOLIDAY_FILE = '1933-03-12';

describe('agreement with exchange_calendars xnys.csv (1990-01-02..2023-01-13)', () => {
  it('reads the whole file', () => {
    expect(xnys).toHaveLength(8324);
    expect(xnys[0]?.date).toBe('1990-01-02');
    expect(xnys.at(-1)?.date).toBe('2023-01-13');
  });

  it('has exactly the same sessions', () => {
    expect(sessions('1990-01-02', '2023-01-13')).toEqual(xnys.map((r) => r.date));
    expect(sessionsBetweenCount('1990-01-02', '2023-01-13')).toBe(8324);
  });

  it('has the same close time on every session (early closes included); every open is 09:30', () => {
    const mismatches = xnys.filter((r) => sessionClose(r.date) !== r.close).map((r) => `${r.date}: file ${r.close}, calendar ${sessionClose(r.date)}`);
    expect(mismatches).toEqual([]);
    expect(new Set(xnys.map((r) => r.open))).toEqual(new Set(['09:30']));
  });

  it('lists exactly the 69 early closes of the file, with their times', () => {
    const expected = xnys.filter((r) => r.close !== '16:00').map((r) => ({ date: r.date, closeTime: r.close }));
    expect(expected).toHaveLength(69);
    expect(earlyCloses('1990-01-02', '2023-01-13').map(({ date, closeTime }) => ({ date, closeTime }))).toEqual(expected);
  });

  it('closes at 14:00 on the early closes of 1990-1992', () => {
    expect(earlyCloses('1990-01-01', '1992-12-31')).toEqual([
      { date: '1990-12-24', closeTime: '14:00', name: 'Christmas Eve' },
      { date: '1991-12-24', closeTime: '14:00', name: 'Christmas Eve' },
      { date: '1992-11-27', closeTime: '14:00', name: 'Day after Thanksgiving' },
      { date: '1992-12-24', closeTime: '14:00', name: 'Christmas Eve' },
    ]);
  });
});

describe('agreement with pandas_market_calendars holidays since 1928 (1928-01-02..2021-07-05)', () => {
  it('reads the whole file', () => {
    expect(holidayFile).toHaveLength(1117);
    expect(holidayFile[0]).toBe('1928-01-02');
    expect(holidayFile.at(-1)).toBe('2021-07-05');
  });

  it('lists every date of the file and no other, except one Sunday', () => {
    const calendar = holidays('1928-01-01', '2021-07-05').map((h) => h.date);
    expect(calendar).toEqual(holidayFile.filter((d) => d !== SUNDAY_IN_HOLIDAY_FILE));
    expect(new Date(`${SUNDAY_IN_HOLIDAY_FILE}T00:00:00Z`).getUTCDay()).toBe(0);
    expect(isSession(SUNDAY_IN_HOLIDAY_FILE)).toBe(false);
  });

  it('is closed on every date of the file', () => {
    expect(holidayFile.filter((d) => isSession(d))).toEqual([]);
  });

  it('names every holiday', () => {
    expect(holidays('1928-01-01', '2030-12-31').filter((h) => h.name.trim() === '')).toEqual([]);
  });

  it('has Saturday sessions until 1952 and none after', () => {
    expect(isSession('1930-01-04')).toBe(true);
    expect(isSession('1952-05-24')).toBe(true);
    expect(isSession('1952-05-31')).toBe(false);
    expect(holidays('1952-05-31', '1952-05-31')).toEqual([{ date: '1952-05-31', name: 'Summer Saturday closing' }]);
    expect(isSession('1952-10-04')).toBe(false);
    expect(holidays('1952-09-28', '2030-12-31').filter((h) => new Date(`${h.date}T00:00:00Z`).getUTCDay() === 6)).toEqual([]);
  });
});

describe('after the data files', () => {
  it('closes for Juneteenth from 2022 (observed Monday 2022-06-20), not in 2021', () => {
    expect(isSession('2021-06-18')).toBe(true);
    expect(holidays('2022-06-20', '2022-06-20')).toEqual([{ date: '2022-06-20', name: 'Juneteenth National Independence Day (observed)' }]);
    expect(holidays('2027-06-18', '2027-06-18')).toEqual([{ date: '2027-06-18', name: 'Juneteenth National Independence Day (observed)' }]);
  });

  it('closes on 2025-01-09 for former President Carter', () => {
    expect(isSession('2025-01-09')).toBe(false);
    expect(holidays('2025-01-09', '2025-01-09')[0]?.name).toMatch(/Carter/);
    expect(nextSession('2025-01-08')).toBe('2025-01-10');
  });

  it('closes early on 2023-11-24 and on the rule days of 2023-2026', () => {
    expect(sessionClose('2023-11-24')).toBe('13:00');
    expect(earlyCloses('2023-01-14', '2026-12-31').map((e) => `${e.date} ${e.closeTime}`)).toEqual([
      '2023-07-03 13:00', '2023-11-24 13:00',
      '2024-07-03 13:00', '2024-11-29 13:00', '2024-12-24 13:00',
      '2025-07-03 13:00', '2025-11-28 13:00', '2025-12-24 13:00',
      '2026-11-27 13:00', '2026-12-24 13:00',
    ]);
  });

  it('has the published 2026 holidays', () => {
    expect(holidays('2026-01-01', '2026-12-31').map((h) => h.date)).toEqual([
      '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25',
      '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25',
    ]);
    expect(sessionsBetweenCount('2026-01-01', '2026-12-31')).toBe(251);
  });

  it('does not close on Friday 2027-12-31 for a Saturday New Year (2028-01-01)', () => {
    expect(isSession('2027-12-31')).toBe(true);
    expect(holidays('2027-12-24', '2028-01-07')).toEqual([{ date: '2027-12-24', name: 'Christmas Day (observed)' }]);
  });
});

describe('range refusal', () => {
  const refused = (f: () => unknown): CalendarRangeError => {
    try {
      f();
    } catch (e) {
      if (isCalendarRangeError(e)) return e;
      throw e;
    }
    throw new Error('expected a CalendarRangeError');
  };

  it('refuses dates before 1928 and after 2030, naming the date, the range and the fix', () => {
    for (const [f, date] of [
      [() => isSession('1927-12-30'), '1927-12-30'],
      [() => isSession('2031-01-02'), '2031-01-02'],
      [() => sessions('2030-12-01', '2031-01-31'), '2031-01-31'],
      [() => holidays('1927-01-01', '1928-12-31'), '1927-01-01'],
      [() => sessionsBetweenCount('2029-01-01', '2031-01-01'), '2031-01-01'],
    ] as const) {
      const e = refused(f);
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe('CALENDAR_RANGE');
      expect(e.date).toBe(date);
      expect(e.message).toContain(date);
      expect(e.message).toContain('1928-01-01');
      expect(e.message).toContain('2030-12-31');
      expect(e.suggestion).toMatch(/knownRange/);
    }
    expect(NYSE_KNOWN_RANGE).toEqual({ start: '1928-01-01', end: '2030-12-31' });
  });

  it('refuses to step past either end of the range', () => {
    expect(refused(() => nextSession('2030-12-31')).message).toMatch(/^the session after 2030-12-31 lies outside/);
    expect(refused(() => previousSession('1928-01-03')).code).toBe('CALENDAR_RANGE');
    expect(nextSession('2030-12-30')).toBe('2030-12-31');
    expect(previousSession('1928-01-04')).toBe('1928-01-03');
  });

  it('refuses closing times before 1990', () => {
    const e = refused(() => sessionClose('1985-06-03'));
    expect(e.message).toContain('session hours');
    expect(e.knownRange.start).toBe('1990-01-01');
    expect(refused(() => earlyCloses('1989-12-01', '1990-12-31')).date).toBe('1989-12-01');
    expect(isSession('1985-06-03')).toBe(true);
  });

  it('answers for a wider range only when asked to', () => {
    const wide = createNyseCalendar({ knownRange: { start: '1928-01-01', end: '2035-12-31' } });
    expect(wide.isSession('2031-01-02')).toBe(true);
    expect(wide.nextSession('2030-12-31')).toBe('2031-01-02');
    expect(() => createNyseCalendar({ knownRange: { start: '1900-01-01', end: '2030-12-31' } })).toThrow(CalendarError);
  });
});

describe('bad input', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof CalendarError ? e.code : 'not a CalendarError';
    }
    return undefined;
  };

  it('rejects malformed and impossible dates', () => {
    for (const date of ['2023-02-29', '2023-13-01', '20230103', '2023-1-3', '', ' 2023-01-03']) {
      expect(code(() => isSession(date))).toBe('CALENDAR_INVALID_DATE');
    }
    expect(isSession('2024-02-29')).toBe(true);
  });

  it('rejects from > to', () => {
    expect(code(() => sessions('2024-02-01', '2024-01-01'))).toBe('CALENDAR_INVALID_RANGE');
  });

  it('has no close on a non-session', () => {
    expect(code(() => sessionClose('2024-12-25'))).toBe('CALENDAR_NOT_A_SESSION');
    expect(code(() => sessionClose('2024-12-28'))).toBe('CALENDAR_NOT_A_SESSION');
    expect(sessionClose('2024-12-26')).toBe('16:00');
  });
});

describe('whole range', () => {
  it('builds every session 1928-2030 quickly', () => {
    const started = performance.now();
    const all = sessions('1928-01-01', '2030-12-31');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(all[0]).toBe('1928-01-03');
    expect(all.at(-1)).toBe('2030-12-31');
    expect(all.length).toBe(sessionsBetweenCount('1928-01-01', '2030-12-31'));
    expect([...all].sort()).toEqual(all);
  });
});

describe('wh calendar (cli/calendar.ts)', () => {
  const runCli = async (...args: string[]): Promise<{ out: string; err: string; exitCode: number }> => {
    const result = { out: '', err: '', exitCode: 0 };
    const command = calendarCommand({
      stdout: (t) => void (result.out += t),
      stderr: (t) => void (result.err += t),
      setExitCode: (c) => void (result.exitCode = c),
    });
    command.exitOverride();
    await command.parseAsync(args, { from: 'user' });
    return result;
  };

  it('prints one line per session and a count', async () => {
    const r = await runCli('sessions', '--from', '2024-12-20', '--to', '2024-12-27');
    expect(r.out).toBe(['2024-12-20', '2024-12-23', '2024-12-24', '2024-12-26', '2024-12-27', '5 sessions from 2024-12-20 to 2024-12-27', ''].join('\n'));
    expect(r.exitCode).toBe(0);
  });

  it('prints holidays and early closes with names and times', async () => {
    const h = await runCli('holidays', '--from', '2025-01-01', '--to', '2025-01-31');
    expect(h.out.split('\n')).toEqual([
      "2025-01-01  New Year's Day",
      '2025-01-09  National day of mourning for former President Carter',
      '2025-01-20  Martin Luther King Jr. Day',
      '3 holidays from 2025-01-01 to 2025-01-31',
      '',
    ]);
    const e = await runCli('early-closes', '--from', '2023-11-24', '--to', '2023-11-24');
    expect(e.out).toBe('2023-11-24  13:00  Day after Thanksgiving\n1 early close from 2023-11-24 to 2023-11-24\n');
  });

  it('prints a JSON array with --json', async () => {
    const r = await runCli('early-closes', '--from', '2024-01-01', '--to', '2024-12-31', '--json');
    expect(JSON.parse(r.out)).toEqual(earlyCloses('2024-01-01', '2024-12-31'));
    const s = await runCli('sessions', '--from', '2025-01-08', '--to', '2025-01-10', '--json');
    expect(JSON.parse(s.out)).toEqual(['2025-01-08', '2025-01-10']);
  });

  it('rejects bad options on stderr with exit code 1, before asking the calendar', async () => {
    for (const args of [
      ['sessions', '--to', '2024-01-31'],
      ['sessions', '--from', '2024-02-30', '--to', '2024-03-31'],
      ['holidays', '--from', '2024-03-01', '--to', '2024-01-01'],
    ]) {
      const r = await runCli(...args);
      expect(r.exitCode).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^error: invalid options for `calendar (sessions|holidays)`: --(from|to) .*\nfix: /);
    }
  });

  it('maps a date outside the known range to exit code 1 with the range and the fix', async () => {
    const r = await runCli('sessions', '--from', '2030-12-01', '--to', '2031-01-10');
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('2031-01-10 is outside the known range of the NYSE calendar: 1928-01-01 to 2030-12-31');
    expect(r.err).toContain('fix: pass dates from 1928-01-01 to 2030-12-31');
    const j = await runCli('early-closes', '--from', '1985-01-01', '--to', '1990-12-31', '--json');
    expect(JSON.parse(j.err)).toMatchObject({ error: { code: 'CALENDAR_RANGE' } });
  });
});
