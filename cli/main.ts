#!/usr/bin/env node
/**
 * `wh`: the command line. Each command lives in its own file; this file only assembles them.
 * Exit codes: 0 ok, 1 error, 2 lease held, 3 validation or verification failure.
 */
import './threadpool.js';
import { Command, CommanderError } from 'commander';
import { whVersion } from './context.js';
import { register as registerInit } from './init.js';
import { register as registerStatus } from './status.js';
import { register as registerIngest } from './ingest.js';
import { register as registerQuery } from './query.js';
import { register as registerSnapshot } from './snapshot.js';
import { register as registerLog } from './log.js';
import { register as registerReplay } from './replay.js';
import { register as registerAudit } from './audit.js';
import { register as registerLease } from './lease.js';
import { register as registerGc } from './gc.js';
import { register as registerRebuild } from './rebuild.js';
import { register as registerDemo } from './demo.js';
import { register as registerSync } from './sync.js';
import { register as registerCatalog } from './catalog.js';
import { register as registerFrench } from './french.js';
import { register as registerFactors } from './factors.js';
import { register as registerYahoo } from './yahoo.js';
import { register as registerPrices } from './prices.js';
import { register as registerUniverse } from './universe.js';
import { register as registerFundamentals } from './fundamentals.js';
import { register as registerFetch } from './fetch.js';
import { calendarCommand } from './calendar.js';

export function buildProgram(): Command {
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
  for (const register of [registerInit, registerStatus, registerIngest, registerQuery, registerSnapshot, registerLog, registerReplay, registerAudit, registerLease, registerGc, registerRebuild, registerSync, registerCatalog, registerFrench, registerFactors, registerYahoo, registerPrices, registerUniverse, registerFundamentals, registerFetch, registerDemo]) {
    register(program);
  }
  program.addCommand(calendarCommand());
  return program;
}

// `wh query ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const program = buildProgram();
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
