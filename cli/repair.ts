import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { WarehouseError } from '../src/log/index.js';
import { repairLog, repairObjects } from '../src/backup/index.js';
import { warehousePaths } from '../src/store/index.js';
import { resolveKey } from './backup.js';
import { targetFrom } from './restore.js';
import { EXIT, action, emit, openLog, parseOptions } from './context.js';

export function register(program: Command): void {
  program
    .command('repair')
    .description('restore from a backup the objects `wh audit --verify` calls damaged or missing; --log restores a lost or damaged log')
    .requiredOption('--from <name>', 'backup target name (or, with --log, the backup directory or rclone remote)')
    .option('--log', 'replace the log with the backup\'s copy (only when the log is lost or damaged; events after the backup are lost)')
    .option('--at <backup>', 'with --log: a backup id (default: the newest)')
    .option('--key-file <file>', 'the key file (default: the target\'s, or WH_BACKUP_KEY_FILE)')
    .addHelpText('after', '\nExample:\n  wh audit --verify || wh repair --from nas\n  wh repair --log --from /mnt/nas/wh-backup --key-file ~/.config/wh/backup.key\n')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ from: z.string(), log: z.boolean().optional(), at: z.string().optional(), keyFile: z.string().optional() }), raw);
        if (opts.log) {
          const logPath = warehousePaths(g.warehouse).log;
          if (existsSync(logPath)) {
            // Refuse to replace a healthy log: only a damaged one (it fails to open or to verify).
            let healthy = false;
            try {
              const log = openLog(g, { readonly: true });
              try {
                healthy = log.verifyChain().ok;
              } finally {
                log.close();
              }
            } catch {
              healthy = false;
            }
            if (healthy) {
              throw new WarehouseError('INVALID_ARGUMENT', 'the log is intact (its hash chain verifies); --log would throw away the events after the backup', { suggestion: 'repair objects with `wh repair --from <name>` instead' });
            }
          }
          const { target, keyFile } = targetFrom(g, opts.from);
          const r = await repairLog(g.warehouse, target, resolveKey(g, opts.keyFile, keyFile), opts.at);
          emit(g, r, () => `log restored from backup ${r.backupId} (head seq ${r.headSeq})${r.keptAs ? `; the damaged log is kept as ${r.keptAs}` : ''}. Run \`wh audit --verify\`, and before any \`wh gc\` read docs/runbooks/data-backup-restore.md (objects written after the backup are not in this log).`);
          return;
        }
        const { target, keyFile, name } = targetFrom(g, opts.from);
        const key = resolveKey(g, opts.keyFile, keyFile);
        const log = openLog(g);
        try {
          const r = await repairObjects(g.warehouse, log, target, key, name);
          emit(g, r, () =>
            r.damaged === 0
              ? 'nothing to repair: every live object verifies'
              : [`repaired ${r.repaired.length} of ${r.damaged} damaged object(s)${r.backupId ? ` from backup ${r.backupId}` : ''}`, ...r.unrepaired.map((u) => `  NOT repaired ${u.object}: ${u.reason}`)].join('\n'),
          );
          if (r.unrepaired.length > 0) process.exitCode = EXIT.validation;
        } finally {
          log.close();
        }
      }),
    );
}
