/**
 * A synthetic warehouse log for the as-of benchmark, grown fast through the real append path
 * (`tx.append`: validation, fencing, hash chain, projections) in large transactions.
 *
 * Each block of 100 events is one leased "sync run" of one of three datasets: LeaseAcquired,
 * 20 fenced PartitionWritten (partitions cycle over 35 years, so the manifest gains history),
 * LeaseRenewed, LeaseReleased, and 77 lease-free events (ChecksumVerified, a DiskWatermarkCrossed);
 * every tenth block starts with a SnapshotTagged naming the head. Event times come from an
 * injected clock that advances one hour per transaction (1 ms per event inside it).
 */
import { join } from 'node:path';
import { sha256Hex, type EventDraft, type EventLog } from '../src/log/index.js';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';

export const BLOCK_EVENTS = 100;
const DATASETS = ['prices', 'funda', 'ff_factors'] as const;
const YEARS = 35;
const PARTITIONS_PER_BLOCK = 20;
const HASH = 'cd'.repeat(32);
const FAR_FUTURE = '2100-01-01T00:00:00.000Z';

/** A growing synthetic log and what the benchmark needs to name points in it. */
export interface SyntheticLog {
  readonly dir: string;
  readonly log: EventLog;
  /** Tag names created so far. */
  readonly tags: string[];
  /** Commit time of the first event (epoch ms). */
  readonly firstTime: number;
  /** Mutable builder state. */
  readonly state: { now: number; block: number; epoch: number };
}

/** Create a warehouse under `dir` whose log uses a synthetic clock starting 2020-01-01. */
export function createSyntheticLog(dir: string): SyntheticLog {
  const state = { now: Date.parse('2020-01-01T00:00:00Z'), block: 0, epoch: 0 };
  const clock = (): number => state.now;
  const wh = join(dir, 'wh');
  initWarehouse(wh, 'bench', { clock });
  const log = openWarehouseLog(wh, { clock });
  return { dir: wh, log, tags: [], firstTime: state.now, state };
}

function partitionWritten(dataset: string, partition: string, block: number): EventDraft {
  return {
    type: 'PartitionWritten',
    data: {
      dataset,
      partition,
      object: sha256Hex(`${dataset}/${partition}/${block}`),
      rows: 250_000 + block,
      bytes: 4_000_000 + block,
      schemaFingerprint: HASH,
      sortKey: ['permno', 'date'],
      lineage: { kind: 'sync', source: `crsp.${dataset}`, sourceHash: HASH, sql: `SELECT * FROM crsp.${dataset}`, vintage: '2024-12', whVersion: 'bench' },
    },
  };
}

/** The drafts of block `b`, appended after event `headSeq`. */
function blockDrafts(s: SyntheticLog, b: number, headSeq: number): { drafts: EventDraft[]; scope: string; epoch: number } {
  const dataset = DATASETS[b % DATASETS.length]!;
  const scope = `dataset:${dataset}`;
  const epoch = ++s.state.epoch;
  const holder = { ...s.log.processIdentity };
  const drafts: EventDraft[] = [];
  if (b % 10 === 0) {
    const tag = `tag-${b / 10}`;
    drafts.push({ type: 'SnapshotTagged', data: { tag, seq: headSeq, note: null } });
    s.tags.push(tag);
  }
  drafts.push({ type: 'LeaseAcquired', data: { scope, epoch, holder, expiresAt: FAR_FUTURE, purpose: 'bench sync' } });
  for (let k = 0; k < PARTITIONS_PER_BLOCK; k++) {
    drafts.push(partitionWritten(dataset, String(1990 + ((b * PARTITIONS_PER_BLOCK + k) % YEARS)), b));
  }
  drafts.push({ type: 'LeaseRenewed', data: { scope, epoch, expiresAt: FAR_FUTURE } });
  drafts.push({ type: 'DiskWatermarkCrossed', data: { level: 'ok', usedFraction: 0.42, freeBytes: 80e9, path: s.dir } });
  while (drafts.length < BLOCK_EVENTS - 1) {
    drafts.push({ type: 'ChecksumVerified', data: { objects: b, events: headSeq + drafts.length, headHash: HASH } });
  }
  drafts.push({ type: 'LeaseReleased', data: { scope, epoch } });
  return { drafts, scope, epoch };
}

/**
 * Append blocks until the log holds at least `target` events, `perTx` events per transaction.
 * Returns the events appended.
 */
export function growSyntheticLog(s: SyntheticLog, target: number, perTx = 10_000): number {
  const start = s.log.head().seq;
  let head = start;
  while (head < target) {
    const blocks = Math.max(1, Math.ceil(Math.min(perTx, target - head) / BLOCK_EVENTS));
    head = s.log.transaction((tx) => {
      let seq = head;
      for (let k = 0; k < blocks; k++) {
        const { drafts, scope, epoch } = blockDrafts(s, s.state.block++, seq);
        seq = tx.append(drafts, { scope, epoch }).at(-1)?.seq ?? seq;
      }
      return seq;
    });
    s.state.now += 3600_000;
  }
  return head - start;
}
