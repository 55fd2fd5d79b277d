/**
 * The backup projection: targets, last runs and drills, and health against the RPO (given events,
 * then state; the clock comes from the events).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { backupHealth, backupsState, evolveBackups } from '../../src/projections/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { cleanupTempDirs } from '../support/wh-cli.js';
import { newWarehouse } from '../store/crash-invariants.js';

afterAll(cleanupTempDirs);

const H = 3600_000;
const hash = 'a'.repeat(64);

describe('backups projection', () => {
  it('folds targets, runs, failures, drills and key rotations; health follows the RPO', () => {
    const dir = newWarehouse('wh-bkproj-');
    let now = Date.now() + H;
    const log = openWarehouseLog(dir, { clock: () => now });
    try {
      log.append([{ type: 'BackupTargetAdded', data: { name: 'nas', kind: 'directory', target: '/mnt/nas', keyFile: '/k' } }]);
      expect(backupHealth(backupsState(log).get('nas')!, now, 24 * H)).toMatchObject({ ok: false, alert: 'never' });
      log.append([{ type: 'BackupCompleted', data: { name: 'nas', backupId: 'b1', headSeq: 2, headHash: hash, keyId: 'k1', objects: 3, uploadedObjects: 3, uploadedBytes: 10, durationMs: 5 } }]);
      now += 23 * H;
      expect(backupHealth(backupsState(log).get('nas')!, now, 24 * H)).toMatchObject({ ok: true, alert: null });
      now += 2 * H;
      const stale = backupHealth(backupsState(log).get('nas')!, now, 24 * H);
      expect(stale).toMatchObject({ ok: false, alert: 'stale' });
      expect(stale.message).toContain('25.0 h old');
      log.append([{ type: 'BackupFailed', data: { name: 'nas', code: 'DISK_FULL', message: 'the backup target /mnt/nas is full' } }]);
      expect(backupHealth(backupsState(log).get('nas')!, now, 24 * H)).toMatchObject({ ok: false, alert: 'failed' });
      log.append([
        { type: 'BackupCompleted', data: { name: 'nas', backupId: 'b2', headSeq: 5, headHash: hash, keyId: 'k1', objects: 3, uploadedObjects: 0, uploadedBytes: 1, durationMs: 5 } },
        { type: 'RestoreDrillPassed', data: { name: 'nas', backupId: 'b2', headSeq: 5, objects: 3, datasets: 1, durationMs: 9 } },
        { type: 'BackupKeyRotated', data: { name: 'nas', oldKeyId: 'k1', newKeyId: 'k2', keyFile: '/k2', files: 4 } },
      ]);
      const t = backupsState(log).get('nas')!;
      expect(backupHealth(t, now, 24 * H).ok).toBe(true);
      expect(t).toMatchObject({ keyId: 'k2', keyFile: '/k2', lastDrill: { passed: true, backupId: 'b2' }, lastCompleted: { backupId: 'b2' } });
      log.append([{ type: 'BackupTargetRemoved', data: { name: 'nas' } }]);
      expect(backupsState(log).size).toBe(0);
      // The fold is the same whether read incrementally or all at once.
      const all = log.read().reduce(evolveBackups, new Map());
      expect(all.size).toBe(0);
    } finally {
      log.close();
    }
  });
});
