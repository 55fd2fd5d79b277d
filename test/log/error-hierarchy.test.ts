/**
 * One error hierarchy: every error below cli is a WarehouseError, and a code that has a subclass
 * is thrown only through it, so `isSourceUnavailableError(e)` (and the other guards) can be
 * trusted by callers.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SourceUnavailableError, WarehouseError, isSourceUnavailableError, isWarehouseError } from '../../src/log/index.js';
import { createNyseCalendar, isCalendarRangeError } from '../../src/calendar/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SUBCLASSED = ['LEASE_HELD', 'LEASE_LOST', 'VALIDATION_FAILED', 'SOURCE_UNAVAILABLE', 'CALENDAR_RANGE', 'CALENDAR_INVALID_DATE', 'CALENDAR_INVALID_RANGE', 'CALENDAR_NOT_A_SESSION'];

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

describe('one error hierarchy', () => {
  it('no code with a subclass is thrown as a plain WarehouseError', () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'cli']) {
      for (const file of tsFiles(join(root, dir))) {
        const text = readFileSync(file, 'utf8');
        for (const code of SUBCLASSED) {
          if (text.includes(`new WarehouseError('${code}'`)) offenders.push(`${relative(root, file)}: ${code}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('calendar errors are WarehouseErrors with their own code and guard', () => {
    const cal = createNyseCalendar();
    let caught: unknown;
    try {
      cal.isSession('1800-01-02');
    } catch (e) {
      caught = e;
    }
    expect(isWarehouseError(caught)).toBe(true);
    expect(isCalendarRangeError(caught)).toBe(true);
    expect((caught as WarehouseError).code).toBe('CALENDAR_RANGE');
    expect((caught as WarehouseError).suggestion).toMatch(/1928/);
  });

  it('the subclass guard agrees with the code', () => {
    const e = new SourceUnavailableError('down', { suggestion: 'rerun later' });
    expect(isSourceUnavailableError(e)).toBe(true);
    expect(isWarehouseError(e) && e.code).toBe('SOURCE_UNAVAILABLE');
  });
});
