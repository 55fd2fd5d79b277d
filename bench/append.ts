/**
 * Append throughput: fsynced commits per second through `EventLog.append`, against a bare SQLite
 * insert loop into a table of the same shape (same pragmas: WAL, synchronous=FULL; one
 * `BEGIN IMMEDIATE ... COMMIT` per commit), measured in the same run, interleaved round by round.
 *
 *   node dist/bench/append.js [--quick] [--seconds S] [--rounds N] [--batch N] [--keep]
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { acquireLease, sha256Hex, type EventDraft, type EventLog, type Lease } from '../src/log/index.js';
import { openSqlite, type SqliteDb } from '../src/log/sqlite-adapter.js';
import { initWarehouse, openWarehouseLog } from '../src/store/index.js';
import { isMain, nowMs, parseCli, report, row, say, stats, tempDir, type BenchRow, type CommonOptions } from './harness.js';

const USAGE = `usage: node dist/bench/append.js [options]
  --quick        short smoke run (2 rounds of 0.25 s per side)
  --seconds S    seconds per side per round (default 1)
  --rounds N     interleaved rounds per workload (default 5)
  --batch N      events per commit in the batched workloads (default 100)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F (used by run-all)`;

const optionsSchema = z.object({
  seconds: z.coerce.number().positive().optional(),
  rounds: z.coerce.number().int().positive().optional(),
  batch: z.coerce.number().int().positive().default(100),
});
export type AppendBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const HASH = 'ab'.repeat(32);

/** The baseline table: the columns and secondary indexes of the log's `events` table, no triggers. */
const BASELINE_SCHEMA = `
CREATE TABLE events (
  seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL,
  data TEXT NOT NULL, actor TEXT NOT NULL, lease_scope TEXT, lease_epoch INTEGER,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX events_time ON events(time_ms);
CREATE INDEX events_type ON events(type, seq);`;

/** One commit of a workload; returns how many events (rows) it wrote. */
type Commit = () => number;

function checksumDraft(i: number): EventDraft {
  return { type: 'ChecksumVerified', data: { objects: i, events: i, headHash: HASH } };
}

function partitionDraft(i: number): EventDraft {
  return {
    type: 'PartitionWritten',
    data: {
      dataset: 'bench',
      partition: `p${i % 50}`,
      object: sha256Hex(String(i)),
      rows: 520_000,
      bytes: 9_000_000,
      schemaFingerprint: HASH,
      sortKey: ['permno', 'date'],
      lineage: { kind: 'ingest', source: '/data/prices-2020.parquet', sourceHash: HASH, sql: null, vintage: null, whVersion: 'bench' },
    },
  };
}

/** Bare inserts of `batch` rows shaped like `draft` per `BEGIN IMMEDIATE ... COMMIT`. */
function baselineCommit(db: SqliteDb, draft: EventDraft, batch: number): Commit {
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const data = JSON.stringify(draft.data);
  const actor = JSON.stringify({ host: 'bench-host', pid: process.pid, writerId: HASH.slice(0, 36) });
  let seq = -1;
  return () => {
    if (seq < 0) seq = (db.prepare('SELECT coalesce(max(seq), 0) AS m FROM events').get<{ m: number }>()?.m ?? 0) + 1;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (let k = 0; k < batch; k++, seq++) insert.run(seq, Date.now() + seq, draft.type, 1, data, actor, 'dataset:bench', 1, HASH, HASH);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    return batch;
  };
}

/** `batch` events built by `make` per `EventLog.append` (one commit). */
function logCommit(log: EventLog, make: (i: number) => EventDraft, batch: number, lease: Lease | null): Commit {
  let i = 0;
  return () => {
    const drafts: EventDraft[] = [];
    for (let k = 0; k < batch; k++) drafts.push(make(i++));
    log.append(drafts, lease);
    return batch;
  };
}

interface Workload {
  readonly metric: string;
  readonly subject: Commit;
  readonly baseline: Commit;
  readonly goal: boolean;
}

interface Side {
  ms: number;
  events: number;
}

/** Time one commit into `side`. */
function timed(commit: Commit, side: Side): void {
  const t0 = nowMs();
  side.events += commit();
  side.ms += nowMs() - t0;
}

/**
 * Alternate subject and baseline commit by commit (swapping which goes first each time) for
 * `seconds` per side per round, so both see the same disk: fsync latency on a shared VM drifts by
 * 10x within seconds. Returns the median over rounds of each side's events/s.
 */
function measure(w: Workload, rounds: number, seconds: number): { subject: number; baseline: number } {
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let k = 0; k < 20; k++) (w.subject(), w.baseline());
  for (let r = 0; r < rounds; r++) {
    const s: Side = { ms: 0, events: 0 };
    const b: Side = { ms: 0, events: 0 };
    const deadline = nowMs() + 2 * seconds * 1000;
    for (let k = 0; nowMs() < deadline; k++) {
      if (k % 2 === 0) (timed(w.subject, s), timed(w.baseline, b));
      else (timed(w.baseline, b), timed(w.subject, s));
    }
    subject.push((s.events * 1000) / s.ms);
    baseline.push((b.events * 1000) / b.ms);
  }
  return { subject: stats(subject).median, baseline: stats(baseline).median };
}

/**
 * The same measurement with `synchronous = OFF` on both databases: what a commit costs apart from
 * the fsync (CPU, SQLite work, WAL writes into the page cache). Restores `synchronous = FULL`.
 */
function measureUnsynced(w: Workload, dbs: readonly SqliteDb[], rounds: number, seconds: number): { subject: number; baseline: number } {
  for (const db of dbs) db.pragma('synchronous = OFF');
  try {
    return measure(w, rounds, seconds);
  } finally {
    for (const db of dbs) db.pragma('synchronous = FULL');
  }
}

/** WAL frames (pages) one commit writes: a deterministic measure of the I/O an fsync must flush. */
function walFramesPerCommit(db: SqliteDb, commit: Commit, n = 50): number {
  const pageSize = (db.pragma('page_size') as { page_size?: number }[])[0]?.page_size ?? 4096;
  const wal = `${db.path}-wal`;
  db.pragma('wal_autocheckpoint = 0');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const before = existsSync(wal) ? statSync(wal).size : 0;
    for (let k = 0; k < n; k++) commit();
    return (statSync(wal).size - before) / (pageSize + 24) / n;
  } finally {
    db.pragma('wal_autocheckpoint = 1000');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
}

function workloads(log: EventLog, base: SqliteDb, lease: Lease, batch: number): Workload[] {
  let tag = 0;
  const tagDraft = (): EventDraft => ({ type: 'SnapshotTagged', data: { tag: `bench-${tag++}`, seq: 1, note: null } });
  return [
    { metric: 'single ChecksumVerified, 1 event/commit', subject: logCommit(log, checksumDraft, 1, null), baseline: baselineCommit(base, checksumDraft(1), 1), goal: true },
    { metric: 'single SnapshotTagged, 1 event/commit', subject: logCommit(log, tagDraft, 1, null), baseline: baselineCommit(base, tagDraft(), 1), goal: true },
    { metric: 'fenced PartitionWritten, 1 event/commit', subject: logCommit(log, partitionDraft, 1, lease), baseline: baselineCommit(base, partitionDraft(1), 1), goal: true },
    { metric: `batched ChecksumVerified, ${batch} events/commit`, subject: logCommit(log, checksumDraft, batch, null), baseline: baselineCommit(base, checksumDraft(1), batch), goal: false },
    { metric: `fenced PartitionWritten, ${batch} events/commit`, subject: logCommit(log, partitionDraft, batch, lease), baseline: baselineCommit(base, partitionDraft(1), batch), goal: false },
  ];
}

/** Measure one workload (synced, unsynced, WAL frames), print it, and return its rows. */
function benchWorkload(w: Workload, log: EventLog, base: SqliteDb, rounds: number, seconds: number): BenchRow[] {
  const m = measure(w, rounds, seconds);
  const u = measureUnsynced(w, [log.db, base], rounds, seconds / 2);
  const frames = { subject: walFramesPerCommit(log.db, w.subject), baseline: walFramesPerCommit(base, w.baseline) };
  const cost = { subject: 1e6 / u.subject, baseline: 1e6 / u.baseline };
  say(
    `  ${w.metric}: ${m.subject.toFixed(0)} ev/s vs bare ${m.baseline.toFixed(0)} rows/s, ratio ${(m.subject / m.baseline).toFixed(2)}; ` +
      `without fsync ${cost.subject.toFixed(1)} vs ${cost.baseline.toFixed(1)} us/event; ` +
      `WAL frames/commit ${frames.subject.toFixed(1)} vs ${frames.baseline.toFixed(1)}`,
  );
  if (w.goal) {
    const fsyncUs = 1e6 / m.baseline - cost.baseline;
    say(`    fsync ~${fsyncUs.toFixed(0)} us here; log/bare >= 0.8 whenever fsync >= ${(4 * cost.subject - 5 * cost.baseline).toFixed(0)} us`);
  }
  return [
    row('append', w.metric, m.subject, 'events/s', m.baseline, 'log/bare', w.goal ? { text: '>= 0.80', met: (r) => r >= 0.8 } : null),
    row('append', '  cost without fsync', cost.subject, 'us/event', cost.baseline, 'log/bare'),
    row('append', '  WAL frames per commit', frames.subject, 'pages', frames.baseline, 'log/bare'),
  ];
}

/** Run the append benchmark; returns its rows. */
export async function runAppend(options: AppendBenchOptions): Promise<BenchRow[]> {
  const seconds = options.seconds ?? (options.quick ? 0.25 : 1);
  const rounds = options.rounds ?? (options.quick ? 2 : 5);
  const tmp = tempDir('append', options.keep);
  const rows: BenchRow[] = [];
  try {
    initWarehouse(join(tmp.path, 'wh'), 'bench');
    const log = openWarehouseLog(join(tmp.path, 'wh'));
    const base = openSqlite(join(tmp.path, 'baseline.db'));
    base.exec(BASELINE_SCHEMA);
    const lease = acquireLease(log, 'dataset:bench', { ttlMs: 24 * 3600_000, purpose: 'bench' });
    say(`append: ${rounds} rounds x ${seconds} s per side, files under ${tmp.path}`);
    for (const w of workloads(log, base, lease, options.batch)) rows.push(...benchWorkload(w, log, base, rounds, seconds));
    log.close();
    base.close();
  } finally {
    tmp.dispose();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const options = parseCli(process.argv.slice(2), { seconds: { type: 'string' }, rounds: { type: 'string' }, batch: { type: 'string' } }, optionsSchema, USAGE);
  report(await runAppend(options), options);
}
