/**
 * Backups as a projection of the log: the configured targets and, per target, the last
 * completed and failed runs, drills and key rotations. A pure fold plus a reader.
 */
import type { EventData, EventLog, StoredEvent } from '../log/index.js';

export interface BackupTargetState {
  readonly name: string;
  readonly kind: 'directory' | 'rclone';
  readonly target: string;
  keyFile: string | null;
  readonly addedAt: string;
  lastCompleted: (EventData<'BackupCompleted'> & { readonly seq: number; readonly at: string }) | null;
  lastFailed: (EventData<'BackupFailed'> & { readonly seq: number; readonly at: string }) | null;
  lastDrill: { readonly passed: boolean; readonly seq: number; readonly at: string; readonly backupId: string | null } | null;
  keyId: string | null;
}

export type BackupsState = Map<string, BackupTargetState>;

export const backupEventTypes = [
  'BackupTargetAdded',
  'BackupTargetRemoved',
  'BackupCompleted',
  'BackupFailed',
  'BackupKeyRotated',
  'RestoreDrillPassed',
  'RestoreDrillFailed',
] as const;

/** Fold one event into the backup state (mutates and returns `state`). */
export function evolveBackups(state: BackupsState, e: StoredEvent): BackupsState {
  const at = new Date(e.time).toISOString();
  switch (e.type) {
    case 'BackupTargetAdded':
      state.set(e.data.name, { ...e.data, addedAt: at, lastCompleted: null, lastFailed: null, lastDrill: null, keyId: null });
      break;
    case 'BackupTargetRemoved':
      state.delete(e.data.name);
      break;
    case 'BackupCompleted': {
      const t = state.get(e.data.name);
      if (t !== undefined) {
        t.lastCompleted = { ...e.data, seq: e.seq, at };
        t.keyId = e.data.keyId;
      }
      break;
    }
    case 'BackupFailed': {
      const t = state.get(e.data.name);
      if (t !== undefined) t.lastFailed = { ...e.data, seq: e.seq, at };
      break;
    }
    case 'BackupKeyRotated': {
      const t = state.get(e.data.name);
      if (t !== undefined) {
        t.keyId = e.data.newKeyId;
        t.keyFile = e.data.keyFile;
      }
      break;
    }
    case 'RestoreDrillPassed':
    case 'RestoreDrillFailed': {
      const t = state.get(e.data.name);
      if (t !== undefined) t.lastDrill = { passed: e.type === 'RestoreDrillPassed', seq: e.seq, at, backupId: e.data.backupId };
      break;
    }
    default:
      break;
  }
  return state;
}

/** Backup targets and their history, as of the head. */
export function backupsState(log: EventLog): BackupsState {
  return log.read({ types: backupEventTypes }).reduce(evolveBackups, new Map() as BackupsState);
}

/** Is the target's newest backup older than `rpoMs` at `now`, or did its last run fail? */
export function backupHealth(t: BackupTargetState, now: number, rpoMs: number): { ok: boolean; alert: 'failed' | 'stale' | 'never' | null; message: string } {
  const done = t.lastCompleted;
  if (t.lastFailed !== null && (done === null || t.lastFailed.seq > done.seq)) {
    return { ok: false, alert: 'failed', message: `last backup to ${t.name} failed at ${t.lastFailed.at}: ${t.lastFailed.message}` };
  }
  if (done === null) return { ok: false, alert: 'never', message: `${t.name} has never completed a backup` };
  const age = now - Date.parse(done.at);
  if (age > rpoMs) {
    return { ok: false, alert: 'stale', message: `newest backup to ${t.name} (${done.backupId}) is ${(age / 3600_000).toFixed(1)} h old, beyond the ${(rpoMs / 3600_000).toFixed(0)} h RPO` };
  }
  return { ok: true, alert: null, message: `${t.name}: newest backup ${done.backupId} at ${done.at} (${(age / 3600_000).toFixed(1)} h ago)` };
}
