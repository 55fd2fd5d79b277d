/**
 * `wh calendar sessions|holidays|early-closes --from <date> --to <date> [--json]`: the NYSE
 * trading calendar (src/calendar). Self-contained: register it with
 * `program.addCommand(calendarCommand())`. Exit code 1 on bad options or a date the calendar
 * does not know.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { earlyCloses, holidays, isCalendarError, isCalendarRangeError, isIsoDate, sessions } from '../src/calendar/index.js';

/** Where the command writes; tests pass their own. */
export interface CalendarCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly setExitCode: (code: number) => void;
}

const processIo: CalendarCommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

const dateOption = (flag: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${flag} is missing: pass ${flag} YYYY-MM-DD` : `${flag} must be a date`) })
    .refine(isIsoDate, { error: `${flag} must be a real date written YYYY-MM-DD (e.g. 2024-07-03)` });

/** Options shared by the three subcommands; `from` <= `to`, both inclusive. */
export const calendarOptionsSchema = z
  .object({ from: dateOption('--from'), to: dateOption('--to'), json: z.boolean().default(false) })
  .refine((o) => o.from <= o.to, { error: '--from is after --to: pass the earlier date as --from', path: ['to'] });

/** Parsed options of a calendar subcommand. */
export type CalendarOptions = z.infer<typeof calendarOptionsSchema>;

interface Listing {
  /** The JSON value printed with --json. */
  readonly json: unknown;
  /** One line per item for people. */
  readonly lines: readonly string[];
  readonly noun: readonly [singular: string, plural: string];
}

const listings: Record<'sessions' | 'holidays' | 'early-closes', { description: string; list: (o: CalendarOptions) => Listing }> = {
  sessions: {
    description: 'NYSE sessions (trading days) from --from to --to, inclusive',
    list: ({ from, to }) => {
      const days = sessions(from, to);
      return { json: days, lines: days, noun: ['session', 'sessions'] };
    },
  },
  holidays: {
    description: 'NYSE full-day closures of weekdays (and of Saturdays before 1952-09-29), named',
    list: ({ from, to }) => {
      const items = holidays(from, to);
      return { json: items, lines: items.map((h) => `${h.date}  ${h.name}`), noun: ['holiday', 'holidays'] };
    },
  },
  'early-closes': {
    description: 'NYSE sessions that close early, with the close in New York time (known from 1990)',
    list: ({ from, to }) => {
      const items = earlyCloses(from, to);
      return { json: items, lines: items.map((e) => `${e.date}  ${e.closeTime}  ${e.name}`), noun: ['early close', 'early closes'] };
    },
  },
};

function reportError(io: CalendarCommandIo, json: boolean, error: { code: string; message: string; suggestion: string }): void {
  io.stderr(json ? `${JSON.stringify({ error })}\n` : `error: ${error.message}\nfix: ${error.suggestion}\n`);
  io.setExitCode(1);
}

function run(io: CalendarCommandIo, name: keyof typeof listings, raw: Record<string, unknown>): void {
  const json = raw['json'] === true;
  const parsed = calendarOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => i.message).join('; ');
    reportError(io, json, { code: 'INVALID_ARGUMENT', message: `invalid options for \`calendar ${name}\`: ${message}`, suggestion: `run \`wh calendar ${name} --help\` for usage` });
    return;
  }
  let listing: Listing;
  try {
    listing = listings[name].list(parsed.data);
  } catch (e) {
    if (!isCalendarError(e)) throw e;
    const suggestion = isCalendarRangeError(e)
      ? `pass dates from ${e.knownRange.start} to ${e.knownRange.end}: the calendar refuses dates it does not know rather than guess`
      : e.suggestion;
    reportError(io, json, { code: e.code, message: e.message, suggestion });
    return;
  }
  if (parsed.data.json) {
    io.stdout(`${JSON.stringify(listing.json, null, 2)}\n`);
    return;
  }
  const count = listing.lines.length;
  const noun = count === 1 ? listing.noun[0] : listing.noun[1];
  io.stdout([...listing.lines, `${count} ${noun} from ${parsed.data.from} to ${parsed.data.to}`].join('\n') + '\n');
}

/**
 * The `calendar` command with its subcommands `sessions`, `holidays` and `early-closes`.
 * Options are validated with {@link calendarOptionsSchema} before the calendar is asked.
 */
export function calendarCommand(io: CalendarCommandIo = processIo): Command {
  const calendar = new Command('calendar').description('the NYSE trading calendar: sessions, holidays and early closes (known 1928-2030)');
  for (const name of Object.keys(listings) as (keyof typeof listings)[]) {
    calendar
      .command(name)
      .description(listings[name].description)
      .option('--from <date>', 'first date, YYYY-MM-DD (inclusive)')
      .option('--to <date>', 'last date, YYYY-MM-DD (inclusive)')
      .option('--json', 'print a JSON array instead of one line per date')
      // optsWithGlobals: when registered under `wh`, a global --json may be parsed by the parent.
      .action((_opts: unknown, cmd: Command) => run(io, name, cmd.optsWithGlobals()));
  }
  return calendar;
}

/** Register `wh calendar` (the command table's entry point). */
export function register(program: Command): void {
  program.addCommand(calendarCommand());
}
