import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { isRcloneSpec, openTarget, restoreBackup, type BackupTarget } from '../src/backup/index.js';
import { warehousePaths } from '../src/store/index.js';
import { resolveKey, targetNamed } from './backup.js';
import { action, emit, openLog, parseOptions, type GlobalOptions } from './context.js';

/** A target by name (in the --warehouse log), or, when the warehouse is gone, a directory or remote spec. */
export function targetFrom(g: GlobalOptions, nameOrSpec: string): { target: BackupTarget; keyFile: string | null; name: string } {
  if (existsSync(warehousePaths(g.warehouse).log)) {
    const log = openLog(g, { readonly: true });
    try {
      if (log.read({ types: ['BackupTargetAdded'] }).some((e) => e.type === 'BackupTargetAdded' && e.data.name === nameOrSpec)) {
        const t = targetNamed(log, nameOrSpec);
        return { target: openTarget(t.kind, t.target), keyFile: t.keyFile, name: t.name };
      }
    } finally {
      log.close();
    }
  }
  const kind = isRcloneSpec(nameOrSpec) ? 'rclone' : 'directory';
  return { target: openTarget(kind, kind === 'directory' ? resolve(nameOrSpec) : nameOrSpec), keyFile: null, name: nameOrSpec };
}

export function register(program: Command): void {
  program
    .command('restore')
    .description('build a complete warehouse in <dir> from a backup (the newest, or --at); resumable')
    .argument('<name>', 'a backup target name, or (when the warehouse is lost) the backup directory or rclone remote itself')
    .argument('<dir>', 'a new, empty directory')
    .option('--at <backup>', 'a backup id from `wh backup list` (default: the newest)')
    .option('--key-file <file>', 'the key file (default: the target\'s, or WH_BACKUP_KEY_FILE)')
    .addHelpText('after', '\nExample:\n  wh restore nas /data/wh-restored && wh --warehouse /data/wh-restored audit --verify\n  WH_BACKUP_KEY_FILE=~/.config/wh/backup.key wh restore /mnt/nas/wh-backup /data/wh\n')
    .action(
      action(async (g, name: string, dir: string, raw: unknown) => {
        const opts = parseOptions(z.object({ at: z.string().optional(), keyFile: z.string().optional() }), raw);
        const { target, keyFile } = targetFrom(g, name);
        const key = resolveKey(g, opts.keyFile, keyFile);
        const r = await restoreBackup({
          target,
          key,
          out: resolve(dir),
          at: opts.at,
          onProgress: (done, total) => {
            if (process.stderr.isTTY) process.stderr.write(`\rrestoring ${done}/${total} objects\x1b[K${done === total ? '\n' : ''}`);
          },
        });
        emit(g, r, () => `restored backup ${r.backupId} (seq ${r.headSeq}, ${r.objects} objects, ${r.fetched} fetched) into ${r.dir}; check it with \`wh --warehouse ${r.dir} audit --verify\``);
      }),
    );
}
