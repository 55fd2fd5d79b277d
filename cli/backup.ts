import type { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { WarehouseError, type EventLog } from '../src/log/index.js';
import { backupHealth, backupsState, type BackupTargetState } from '../src/projections/index.js';
import { isRcloneSpec, listBackups, loadKey, newKeyText, openTarget, rotateKey, runBackup, runDrill, verifyBackup, type BackupKey, type BackupResult, type BackupTarget, type BackupVerifyReport, type DrillResult } from '../src/backup/index.js';
import { warehousePaths } from '../src/store/index.js';
import { EXIT, action, emit, formatBytes, makeLogger, parseOptions, table, withLog, type GlobalOptions } from './context.js';

const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - only');

/** The key: --key-file, else WH_BACKUP_KEY_FILE, else the file the target was added with. */
export function resolveKey(g: GlobalOptions, flag: string | undefined, configured: string | null): BackupKey {
  const file = flag ?? process.env['WH_BACKUP_KEY_FILE'] ?? configured ?? undefined;
  if (file === undefined) {
    throw new WarehouseError('BACKUP_KEY', 'no backup key file given', { suggestion: 'pass --key-file <file>, set WH_BACKUP_KEY_FILE, or add the target with --key-file; create a key with `wh backup keygen <file>`' });
  }
  return loadKey(file, existsSync(warehousePaths(g.warehouse).log) ? g.warehouse : undefined);
}

export function targetNamed(log: EventLog, name: string): BackupTargetState {
  const t = backupsState(log).get(name);
  if (t === undefined) {
    const names = [...backupsState(log).keys()];
    throw new WarehouseError('INVALID_ARGUMENT', `no backup target named "${name}"`, { suggestion: names.length > 0 ? `targets: ${names.join(', ')}` : 'add one with `wh backup add <name> <dir | remote:path> --key-file <file>`' });
  }
  return t;
}

/** The one target when there is one, else the named one. */
function pickTargets(log: EventLog, name: string | undefined): BackupTargetState[] {
  if (name !== undefined) return [targetNamed(log, name)];
  const all = [...backupsState(log).values()];
  if (all.length === 0) throw new WarehouseError('INVALID_ARGUMENT', 'no backup target configured', { suggestion: 'add one with `wh backup add <name> <dir | remote:path> --key-file <file>`' });
  return all;
}

const progressLine = (text: string): void => {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
};

export function register(program: Command): void {
  const b = program.command('backup').description('encrypted, incremental backups to a directory or an rclone remote; verify, drill, check, rotate the key');
  b.command('keygen')
    .description('write a new random 256-bit backup key to <file> (mode 0600); keep it outside the warehouse, with a copy in escrow')
    .argument('<file>')
    .action(
      action(async (g, file: string) => {
        const path = resolve(file);
        writeFileSync(path, newKeyText(), { mode: 0o600, flag: 'wx' });
        const key = loadKey(path);
        emit(g, { file: path, keyId: key.id }, () => `wrote key ${key.id} to ${path} (mode 0600). Keep a copy in escrow: without it no backup can be restored.`);
      }),
    );
  b.command('add')
    .description('add a backup target: a directory (external disk, NAS mount) or an rclone remote (remote:path)')
    .argument('<name>', 'a name for the target, e.g. nas or offsite')
    .argument('<target>', 'a directory, or an rclone remote such as b2:lab-wh or sftp-nas:/backups/wh')
    .option('--key-file <file>', 'the key file (mode 0600, outside the warehouse); else WH_BACKUP_KEY_FILE at run time')
    .addHelpText('after', '\nExample:\n  wh backup keygen ~/.config/wh/backup.key\n  wh backup add nas /mnt/nas/wh-backup --key-file ~/.config/wh/backup.key\n  wh backup add offsite b2:lab-wh --key-file ~/.config/wh/backup.key\n')
    .action(
      action(async (g, name: string, spec: string, raw: unknown) => {
        const opts = parseOptions(z.object({ keyFile: z.string().optional() }), raw);
        parseOptions(z.object({ name: nameSchema }), { name });
        const kind = isRcloneSpec(spec) ? 'rclone' : 'directory';
        if (kind === 'rclone' && /(pass|password|key|secret|token|account)=/i.test(spec)) {
          throw new WarehouseError('INVALID_ARGUMENT', 'the rclone remote carries credentials inline, and the target is recorded in the log', { suggestion: 'configure the remote with `rclone config` (credentials stay in rclone.conf) and name it, e.g. offsite:wh' });
        }
        const target = kind === 'directory' ? resolve(spec) : spec;
        if (kind === 'directory' && target.startsWith(warehousePaths(g.warehouse).root + '/')) {
          throw new WarehouseError('INVALID_ARGUMENT', `${target} is inside the warehouse`, { suggestion: 'back up to another disk, a NAS mount or an rclone remote' });
        }
        const keyFile = opts.keyFile === undefined ? null : resolve(opts.keyFile);
        if (keyFile !== null) loadKey(keyFile, g.warehouse);
        openTarget(kind, target); // rclone: fails clearly now if rclone is missing
        await withLog(g, (log) => {
          if (backupsState(log).has(name)) throw new WarehouseError('INVALID_ARGUMENT', `backup target "${name}" exists`, { suggestion: 'pick another name' });
          log.append([{ type: 'BackupTargetAdded', data: { name, kind, target, keyFile } }]);
          emit(g, { name, kind, target, keyFile }, () => `added ${kind} target ${name} -> ${target}; run \`wh backup run ${name}\``);
        });
      }),
    );
  b.command('remove')
    .description('forget a backup target (its files stay where they are)')
    .argument('<name>')
    .action(
      action(async (g, name: string) => {
        await withLog(g, (log) => {
          targetNamed(log, name);
          log.append([{ type: 'BackupTargetRemoved', data: { name } }]);
          emit(g, { removed: name }, () => `removed backup target ${name}; its backups remain on the target`);
        });
      }),
    );
  b.command('run')
    .description('back up to one target (or every target): only objects the target lacks are uploaded; the manifest goes last')
    .argument('[name]')
    .option('--key-file <file>', 'override the key file')
    .action(
      action(async (g, name: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ keyFile: z.string().optional() }), raw);
        const logger = makeLogger(g);
        await withLog(g, async (log) => {
          const results: BackupResult[] = [];
          for (const t of pickTargets(log, name)) {
            const key = resolveKey(g, opts.keyFile, t.keyFile);
            const target = openTarget(t.kind, t.target);
            try {
              const r = await runBackup({ dir: g.warehouse, log, name: t.name, target, key, onProgress: (p) => progressLine(`${t.name}: ${p.phase} ${p.done}/${p.total} objects, ${formatBytes(p.bytes)}`) });
              progressLine('');
              results.push(r);
            } catch (e) {
              progressLine('');
              logger.error({ target: t.name, err: (e as Error).message }, 'backup failed');
              throw e;
            }
          }
          emit(g, results, () => results.map((r) => `${r.name}: backup ${r.backupId} at seq ${r.headSeq}: ${r.objects} objects, ${r.uploadedObjects} uploaded (${formatBytes(r.uploadedBytes)}) in ${(r.durationMs / 1000).toFixed(1)} s`).join('\n'));
        });
      }),
    );
  b.command('list')
    .description('targets and the complete backups each holds')
    .argument('[name]')
    .action(
      action(async (g, name: string | undefined) => {
        await withLog(g, async (log) => {
          const out: { name: string; kind: string; target: string; backups: Record<string, unknown>[] }[] = [];
          for (const t of pickTargets(log, name)) {
            const backups = await listBackups(openTarget(t.kind, t.target));
            out.push({ name: t.name, kind: t.kind, target: t.target, backups: backups.map((m) => ({ backupId: m.backupId, createdAt: m.createdAt, headSeq: m.head.seq, objects: m.objects.length, keyId: m.keyId })) });
          }
          emit(g, out, () => out.map((t) => `${t.name} (${t.kind} ${t.target})\n` + (t.backups.length === 0 ? '  no complete backup' : table(t.backups))).join('\n\n'));
        }, { readonly: true });
      }),
    );
  b.command('verify')
    .description('fetch every file of a backup, authenticate and re-hash it (--quick: compare listings only); exit 3 on damage')
    .argument('[name]')
    .option('--at <backup>', 'a backup id (default: the newest)')
    .option('--quick', 'only check that every file is present')
    .option('--key-file <file>', 'override the key file')
    .action(
      action(async (g, name: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ at: z.string().optional(), quick: z.boolean().optional(), keyFile: z.string().optional() }), raw);
        await withLog(g, async (log) => {
          const reports: (BackupVerifyReport & { name: string })[] = [];
          for (const t of pickTargets(log, name)) {
            const scratch = mkdtempSync(resolve(warehousePaths(g.warehouse).tmp, 'verify-'));
            try {
              reports.push({ name: t.name, ...(await verifyBackup(openTarget(t.kind, t.target), resolveKey(g, opts.keyFile, t.keyFile), { at: opts.at, quick: opts.quick, scratch })) });
            } finally {
              rmSync(scratch, { recursive: true, force: true });
            }
          }
          emit(g, reports, () => reports.map((r) => [`${r.name} ${r.backupId}: ${r.ok ? 'OK' : 'DAMAGED'} (${r.objects} objects)`, ...r.problems.map((p) => `  ${p.file}: ${p.problem}`)].join('\n')).join('\n'));
          if (reports.some((r) => !r.ok)) process.exitCode = EXIT.validation;
        }, { readonly: true });
      }),
    );
  b.command('drill')
    .description('restore the newest backup into a temporary directory, verify it and compare it with the live warehouse; records the result')
    .argument('[name]')
    .option('--key-file <file>', 'override the key file')
    .action(
      action(async (g, name: string | undefined, raw: unknown) => {
        const opts = parseOptions(z.object({ keyFile: z.string().optional() }), raw);
        await withLog(g, async (log) => {
          const out: (DrillResult & { name: string })[] = [];
          for (const t of pickTargets(log, name)) out.push({ name: t.name, ...(await runDrill(g.warehouse, log, openTarget(t.kind, t.target), resolveKey(g, opts.keyFile, t.keyFile), t.name)) });
          emit(g, out, () => out.map((d) => [`${d.name}: drill ${d.passed ? 'PASSED' : 'FAILED'} (backup ${d.backupId ?? '-'}, seq ${d.headSeq}, ${d.objects} objects, ${d.datasets} datasets, ${(d.durationMs / 1000).toFixed(1)} s)`, ...d.problems.map((p) => `  ${p}`)].join('\n')).join('\n'));
          if (out.some((d) => !d.passed)) process.exitCode = EXIT.validation;
        });
      }),
    );
  b.command('check')
    .description('for cron: exit 1 when a target\'s last backup failed or is older than the RPO (records an alert)')
    .option('--rpo-hours <h>', 'recovery point objective', '24')
    .action(
      action(async (g, raw: unknown) => {
        const opts = parseOptions(z.object({ rpoHours: z.coerce.number().positive() }), raw);
        const logger = makeLogger(g);
        await withLog(g, (log) => {
          const targets = [...backupsState(log).values()];
          const now = log.now();
          const rows = targets.map((t) => ({ name: t.name, ...backupHealth(t, now, opts.rpoHours * 3600_000) }));
          if (targets.length === 0) rows.push({ name: '(none)', ok: false, alert: 'never', message: 'no backup target is configured' });
          const bad = rows.filter((r) => !r.ok);
          if (bad.length > 0) {
            log.append(bad.map((r) => ({ type: 'BackupAlertRaised' as const, data: { name: r.name, alert: r.alert ?? 'failed', message: r.message } })));
            for (const r of bad) logger.error({ target: r.name, alert: r.alert }, r.message);
          }
          emit(g, rows, () => rows.map((r) => `${r.ok ? 'ok   ' : 'ALERT'} ${r.message}`).join('\n'));
          if (bad.length > 0) process.exitCode = EXIT.error;
        });
      }),
    );
  b.command('rotate-key')
    .description('re-encrypt every file of a target under a new key (resumable), then use the new key for it')
    .argument('<name>')
    .requiredOption('--new-key-file <file>', 'the new key (mode 0600)')
    .option('--key-file <file>', 'the current key (default: the target\'s)')
    .action(
      action(async (g, name: string, raw: unknown) => {
        const opts = parseOptions(z.object({ newKeyFile: z.string(), keyFile: z.string().optional() }), raw);
        await withLog(g, async (log) => {
          const t = targetNamed(log, name);
          const oldKey = resolveKey(g, opts.keyFile, t.keyFile);
          const newKey = loadKey(resolve(opts.newKeyFile), g.warehouse);
          const target: BackupTarget = openTarget(t.kind, t.target);
          const r = await rotateKey(log, name, target, oldKey, newKey, warehousePaths(g.warehouse).tmp);
          emit(g, r, () => `${name}: ${r.files} file(s) re-encrypted and ${r.manifests} manifest(s) resealed under key ${r.newKeyId} (was ${r.oldKeyId}). Keep the old key until you have verified: \`wh backup verify ${name}\``);
        });
      }),
    );
}
