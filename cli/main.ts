#!/usr/bin/env node
/**
 * `wh`: the command line. This file only assembles commands from the table in commands.ts and
 * loads nothing else up front: the command about to run is found in argv and only its module is
 * imported; `wh --help` lists summaries without loading any command.
 * Exit codes: 0 ok, 1 error, 2 lease held, 3 validation or verification failure.
 */
import './threadpool.js';
import { Command, CommanderError } from 'commander';
import { whVersion } from './version.js';
import { commands, type CommandEntry } from './commands.js';

/** Global options that take a value (so the word after them is not a command name). */
const VALUED_GLOBALS = new Set(['-w', '--warehouse']);

/** The command named on the command line, if any (`wh [globals] <command> ...`, or `wh help <command>`). */
export function commandInArgv(argv: readonly string[]): CommandEntry | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED_GLOBALS.has(a)) {
      i += 1;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (a === 'help') continue;
    return commands.find((c) => c.name === a);
  }
  return undefined;
}

/** Build the program with the full definition of `load`ed commands and summaries of the rest. */
export async function buildProgram(argv: readonly string[] = process.argv.slice(2), all = false): Promise<Command> {
  const program = new Command('wh')
    .description('event-sourced local data warehouse for financial research')
    .version(whVersion())
    .option('-w, --warehouse <dir>', 'warehouse directory (default: $WH_WAREHOUSE, else the current directory)')
    .option('--json', 'machine-readable JSON output on stdout (errors as JSON on stderr)')
    .option('-v, --verbose', 'debug logs on stderr')
    .option('-q, --quiet', 'only errors on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 error, 2 lease held by another writer, 3 validation or verification failure.\nDocs: docs/README.md',
    );
  const wanted = all ? undefined : commandInArgv(argv);
  for (const entry of commands) {
    if (all || entry === wanted) (await entry.load()).register(program);
    else program.command(entry.name).description(entry.summary).allowUnknownOption().helpOption(false);
  }
  return program;
}

// `wh query ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const program = await buildProgram();
program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else {
    throw e;
  }
}
