import type { Command } from 'commander';
import { canonicalJson } from '../src/log/index.js';
import { EXIT, action, emit, withLog } from './context.js';

export function register(program: Command): void {
  program
    .command('rebuild')
    .description('recompute every projection from the log and check it equals the materialized one (and the pure fold)')
    .action(
      action(async (g) => {
        await withLog(g, (log) => {
          const folded = log.foldAll();
          const results = log.rebuildProjections().map((r) => ({
            ...r,
            matchesFold: canonicalJson(log.tableByName(r.name).history()) === canonicalJson(folded.get(r.name)),
          }));
          const ok = results.every((r) => r.equal && r.matchesFold);
          emit(g, { ok, projections: results }, () =>
            results.map((r) => `${r.name}: ${r.rows} rows, ${r.equal ? 'unchanged' : 'DIFFERED (now repaired)'}${r.matchesFold ? '' : ', differs from the pure fold'}`).join('\n'),
          );
          if (!ok) process.exitCode = EXIT.validation;
        });
      }),
    );
}
