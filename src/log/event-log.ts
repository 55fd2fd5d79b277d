/**
 * The append-only operation log: one SQLite file (WAL, synchronous=FULL), one row per event,
 * hash-chained. Every append runs in `BEGIN IMMEDIATE`, assigns seq and a strictly increasing
 * commit time, checks fencing, inserts the events and updates every materialized projection in
 * the same transaction, then commits with one fsync.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson, GENESIS_HASH, sha256Hex } from './canonical.js';
import { WarehouseError, LeaseLostError } from './errors.js';
import { eventCatalog } from './event-catalog.js';
import type {
  Actor,
  EventDraft,
  EventType,
  LeaseRef,
  StoredEvent,
} from './events.js';
import { leaseProjection, type LeaseState } from './lease-projection.js';
import { currentProcessIdentity, type ProcessIdentity } from './process-identity.js';
import { RangedTable, createRangedTable, foldRanged, type RangedProjection, type RangedRow } from './ranged.js';
import { openSqlite, type SqliteDb } from './sqlite-adapter.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS wh_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  actor TEXT NOT NULL,
  lease_scope TEXT,
  lease_epoch INTEGER,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
CREATE INDEX IF NOT EXISTS events_type ON events(type, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'wh: the event log is append-only; UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'wh: the event log is append-only; DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_dense BEFORE INSERT ON events
  WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM events)
  BEGIN SELECT RAISE(ABORT, 'wh: events must be appended at max(seq)+1'); END;
`;

/** Transaction context handed to `EventLog.transaction`. Synchronous: never await inside. */
export interface TxContext {
  /** The clock reading taken at the start of the transaction (epoch ms). */
  readonly now: number;
  /** The materialized table of a projection, as it stands inside this transaction. */
  table<V>(projection: RangedProjection<V>): RangedTable<V>;
  /** Append events (validated, fenced, hashed, projected) within this transaction. */
  append(drafts: readonly EventDraft[], lease?: LeaseRef | null): StoredEvent[];
}

/** A check run inside the append transaction before an event is inserted; throws to refuse. */
export type AppendGuard = (draft: EventDraft, tx: TxContext) => void;

export interface EventLogOptions {
  /** Epoch-ms clock; injectable for tests. */
  readonly clock?: () => number;
  readonly identity?: ProcessIdentity;
  /** Projections materialized in step with the log (the lease projection is always included). */
  readonly projections?: readonly RangedProjection[];
  readonly guards?: readonly AppendGuard[];
  readonly readonly?: boolean;
  /** Create the log file if missing (only `wh init` does this). */
  readonly create?: boolean;
}

/** The newest event's position. */
export interface LogHead {
  readonly seq: number;
  readonly hash: string;
  readonly time: number;
}

export interface ReadOptions {
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly types?: readonly string[];
  /** Newest first. */
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** A problem found by `verifyChain`. */
export interface ChainProblem {
  readonly seq: number;
  readonly problem: string;
}
export interface ChainReport {
  readonly ok: boolean;
  readonly events: number;
  readonly headHash: string;
  readonly problems: readonly ChainProblem[];
}

interface EventRow {
  seq: number;
  time_ms: number;
  type: string;
  version: number;
  data: string;
  actor: string;
  lease_scope: string | null;
  lease_epoch: number | null;
  prev_hash: string;
  hash: string;
}

/** The hash of one event: sha256(prev_hash || canonical(event)). */
export function eventHash(
  prevHash: string,
  e: { seq: number; time: number; type: string; version: number; data: unknown; actor: Actor; lease: LeaseRef | null },
): string {
  return sha256Hex(
    prevHash +
      canonicalJson({ seq: e.seq, time: e.time, type: e.type, version: e.version, data: e.data, actor: e.actor, lease: e.lease }),
  );
}

/** SQLite reports a full volume while opening (growing the shm or WAL) as a generic I/O error. */
function volumeIsFull(path: string): boolean {
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

function sqliteProblem(e: unknown, path: string): WarehouseError {
  if (e instanceof WarehouseError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new WarehouseError('LOG_CORRUPT', `the operation log ${path} is damaged (${code})`, {
      cause: e,
      suggestion: 'restore wh.log from a backup (docs/runbooks/log-recovery.md); the object store is intact',
    });
  }
  if (code === 'SQLITE_FULL' || /disk is full|No space left/i.test((e as Error).message ?? '') || (code.startsWith('SQLITE_IOERR') && volumeIsFull(path))) {
    return new WarehouseError('DISK_FULL', `cannot open the operation log ${path}: the volume is full (${(e as Error).message})`, {
      cause: e,
      suggestion: 'free space on the volume (docs/runbooks/disk-space.md: `wh gc --apply`, old quarantine directories, other files) and rerun',
    });
  }
  return new WarehouseError('IO_ERROR', `cannot open the operation log ${path}: ${(e as Error).message}`, { cause: e });
}

/**
 * Refuse to adopt a file that holds no log: SQLite reads an empty file as an empty database, and
 * opening it writable would silently create a fresh (empty) log over a damaged one, or add wh's
 * tables to a foreign database. Closes `db` before throwing.
 */
function checkIsLog(db: SqliteDb, path: string): void {
  const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all<{ name: string }>().map((r) => r.name));
  if (tables.has('events') && tables.has('wh_meta')) return;
  db.close();
  if (tables.size === 0) {
    throw new WarehouseError('LOG_CORRUPT', `the operation log ${path} is empty (no events table)`, {
      suggestion: 'restore wh.log from a backup (docs/runbooks/log-recovery.md); the object store is intact',
    });
  }
  throw new WarehouseError('NOT_A_WAREHOUSE', `${path} is a SQLite database but not a wh operation log`, {
    suggestion: 'point --warehouse / WH_WAREHOUSE at a warehouse directory created by `wh init`',
  });
}

/** Projection tables the log should have but lacks (opened by an older wh). */
function missingProjectionTables(db: SqliteDb, options: EventLogOptions): string[] {
  const names = [leaseProjection, ...(options.projections ?? [])].map((p) => `proj_${p.name}`);
  return names.filter((n) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(n) === undefined);
}

/** The operation log of one warehouse. */
export class EventLog {
  private readonly clock: () => number;
  private readonly identity: ProcessIdentity;
  private readonly tables = new Map<string, RangedTable<unknown>>();
  private readonly projections: readonly RangedProjection[];
  private readonly guards: readonly AppendGuard[];

  private constructor(
    readonly db: SqliteDb,
    options: EventLogOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.identity = options.identity ?? currentProcessIdentity();
    this.projections = [leaseProjection, ...(options.projections ?? [])];
    this.guards = options.guards ?? [];
    for (const p of this.projections) this.tables.set(p.name, new RangedTable(db, p));
  }

  /**
   * Open (or with `create`, create) the log at `path`.
   * @throws WarehouseError `NOT_A_WAREHOUSE` if missing or not a wh log, `LOG_CORRUPT` if the file is damaged or empty.
   */
  static open(path: string, options: EventLogOptions = {}): EventLog {
    if (!options.create && !existsSync(path)) {
      throw new WarehouseError('NOT_A_WAREHOUSE', `no operation log at ${path}`, {
        suggestion: 'run `wh init <dir>` first, or point --warehouse / WH_WAREHOUSE at an existing warehouse',
      });
    }
    let db: SqliteDb;
    try {
      db = openSqlite(path, { readonly: options.readonly ?? false, mustExist: !options.create });
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (e) {
      throw sqliteProblem(e, path);
    }
    if (!options.create) checkIsLog(db, path);
    if (db.readonly && missingProjectionTables(db, options).length > 0) {
      // A projection added by a newer wh: one read-write open creates and fills it, then read on.
      db.close();
      try {
        EventLog.open(path, { ...options, readonly: false }).close();
      } catch (e) {
        throw new WarehouseError('LOG_CORRUPT', `the operation log ${path} lacks the projection tables of this wh version and could not be upgraded`, {
          suggestion: 'run any write command once (e.g. `wh rebuild`) as a user who can write the warehouse',
          cause: e,
        });
      }
      return EventLog.open(path, options);
    }
    const log = new EventLog(db, options);
    if (!db.readonly) {
      try {
        db.immediate(() => {
          db.exec(SCHEMA);
          for (const p of log.projections) {
            const existed = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(`proj_${p.name}`) !== undefined;
            createRangedTable(db, p.name);
            // A projection added by a newer wh: fold the existing log into its new table once.
            if (!existed) log.backfill(p);
          }
          db.prepare(`INSERT OR IGNORE INTO wh_meta(key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
        });
      } catch (e) {
        db.close();
        throw sqliteProblem(e, path);
      }
    }
    return log;
  }

  /** The identity recorded as actor on this process's events. */
  get actor(): Actor {
    return { host: this.identity.host, pid: this.identity.pid, writerId: this.identity.writerId };
  }
  get processIdentity(): ProcessIdentity {
    return this.identity;
  }
  now(): number {
    return this.clock();
  }

  /** The materialized table of a projection this log was opened with, typed by the projection. */
  table<V>(projection: RangedProjection<V>): RangedTable<V> {
    const t = this.tables.get(projection.name);
    if (t === undefined || t.projection !== projection) {
      throw new WarehouseError('INTERNAL', `the log was not opened with the projection ${projection.name}`, {
        suggestion: 'open the warehouse with openWarehouseLog (src/store), which registers every projection',
      });
    }
    return t as RangedTable<V>;
  }

  /** A materialized table by name (for generic tooling: rebuild and verify compare every table). */
  tableByName(name: string): RangedTable {
    const t = this.tables.get(name);
    if (t === undefined) throw new WarehouseError('INTERNAL', `unknown projection ${name}`);
    return t;
  }

  /** Run `fn` in one `BEGIN IMMEDIATE` transaction; everything it appends commits together. */
  transaction<T>(fn: (tx: TxContext) => T): T {
    return this.db.immediate(() => {
      const now = this.clock();
      const tx: TxContext = {
        now,
        table: (projection) => this.table(projection),
        append: (drafts, lease) => this.appendInTx(drafts, lease ?? null, now, tx),
      };
      return fn(tx);
    });
  }

  /**
   * Append events in one fsynced commit.
   * @throws LeaseLostError when a write event's lease is not the live lease of its scope.
   * @throws WarehouseError `EVENT_INVALID` when a draft does not match its schema.
   */
  append(drafts: readonly EventDraft[], lease?: LeaseRef | null): StoredEvent[] {
    return this.transaction((tx) => tx.append(drafts, lease));
  }

  private appendInTx(drafts: readonly EventDraft[], lease: LeaseRef | null, now: number, tx: TxContext): StoredEvent[] {
    const head = this.head();
    let prevHash = head.hash;
    let seq = head.seq;
    let time = Math.max(now, head.time + 1);
    const out: StoredEvent[] = [];
    const actor = this.actor;
    for (const raw of drafts) {
      const parsed = eventCatalog().eventDraftSchema.safeParse(raw);
      if (!parsed.success) {
        throw new WarehouseError('EVENT_INVALID', `invalid ${raw.type} event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
          suggestion: 'this is a bug in the caller; nothing was written',
        });
      }
      const draft = parsed.data;
      const scope = eventCatalog().requiredScope(draft);
      if (scope !== null) this.checkFence(scope, lease, now);
      for (const guard of this.guards) guard(draft, tx);
      seq += 1;
      const version = eventCatalog().eventVersions[draft.type];
      const fence = scope === null || lease === null ? null : { scope: lease.scope, epoch: lease.epoch };
      const envelope = { seq, time, type: draft.type, version, data: draft.data, actor, lease: fence };
      const hash = eventHash(prevHash, envelope);
      this.db
        .prepare(
          `INSERT INTO events(seq, time_ms, type, version, data, actor, lease_scope, lease_epoch, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(seq, time, draft.type, version, canonicalJson(draft.data), canonicalJson(actor), envelope.lease?.scope ?? null, envelope.lease?.epoch ?? null, prevHash, hash);
      const stored = { ...draft, seq, time, version, actor, lease: envelope.lease, prevHash, hash } as StoredEvent;
      for (const t of this.tables.values()) t.apply(stored);
      out.push(stored);
      prevHash = hash;
      time += 1;
    }
    return out;
  }

  /** Fencing: the write's lease must be the live lease of `scope` (or of the whole warehouse). */
  private checkFence(scope: string, lease: LeaseRef | null, now: number): void {
    if (lease === null) {
      throw new LeaseLostError(scope, 0, 'this write needs a lease and none was given');
    }
    if (lease.scope !== scope && lease.scope !== 'warehouse') {
      throw new LeaseLostError(lease.scope, lease.epoch, `lease scope does not cover ${scope}`);
    }
    const live = this.table(leaseProjection).current(lease.scope)?.value;
    if (live === undefined) throw new LeaseLostError(lease.scope, lease.epoch, 'no lease is held on this scope any more');
    if (live.epoch !== lease.epoch) {
      throw new LeaseLostError(lease.scope, lease.epoch, `epoch ${live.epoch} now holds it`);
    }
    if (Date.parse(live.expiresAt) <= now) throw new LeaseLostError(lease.scope, lease.epoch, `expired at ${live.expiresAt}`);
  }

  /** The newest event (seq 0 and the genesis hash when empty). */
  head(): LogHead {
    const r = this.db.prepare('SELECT seq, hash, time_ms FROM events ORDER BY seq DESC LIMIT 1').get<{ seq: number; hash: string; time_ms: number }>();
    return r === undefined ? { seq: 0, hash: GENESIS_HASH, time: 0 } : { seq: r.seq, hash: r.hash, time: r.time_ms };
  }

  /** The last seq committed at or before `timeMs` (0 if none). Indexed: O(log n). */
  seqAtTime(timeMs: number): number {
    const r = this.db.prepare('SELECT seq FROM events WHERE time_ms <= ? ORDER BY time_ms DESC LIMIT 1').get<{ seq: number }>(timeMs);
    return r?.seq ?? 0;
  }

  /** Read one event by seq, or undefined. */
  get(seq: number): StoredEvent | undefined {
    const r = this.db.prepare('SELECT * FROM events WHERE seq = ?').get<EventRow>(seq);
    return r === undefined ? undefined : parseRow(r);
  }

  /** Seq of the newest event of one of `types`, if any (read without parsing the event). */
  lastSeqOf(types: readonly EventType[]): number | undefined {
    if (types.length === 0) return undefined;
    return this.db.prepare(`SELECT max(seq) AS seq FROM events WHERE type IN (${types.map(() => '?').join(',')})`).get<{ seq: number | null }>(...types)?.seq ?? undefined;
  }

  /** Seq of the LeaseAcquired event of (scope, epoch), if any. */
  leaseAcquiredSeq(scope: string, epoch: number): number | undefined {
    return this.db
      .prepare(`SELECT seq FROM events WHERE type = 'LeaseAcquired' AND json_extract(data, '$.epoch') = ? AND json_extract(data, '$.scope') = ? ORDER BY seq DESC LIMIT 1`)
      .get<{ seq: number }>(epoch, scope)?.seq;
  }

  /** Read events, parsed and upcast to their current version. */
  read(options: ReadOptions = {}): StoredEvent[] {
    const where: string[] = [];
    const params: (number | string)[] = [];
    if (options.fromSeq !== undefined) {
      where.push('seq >= ?');
      params.push(options.fromSeq);
    }
    if (options.toSeq !== undefined) {
      where.push('seq <= ?');
      params.push(options.toSeq);
    }
    if (options.types !== undefined && options.types.length > 0) {
      where.push(`type IN (${options.types.map(() => '?').join(',')})`);
      params.push(...options.types);
    }
    const sql = `SELECT * FROM events ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq ${options.reverse ? 'DESC' : 'ASC'} ${options.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(options.limit))}` : ''}`;
    return this.db.prepare(sql).all<EventRow>(...params).map(parseRow);
  }

  /** Iterate every event in chunks (bounded memory). */
  *readAll(chunk = 5000): Generator<StoredEvent> {
    let from = 1;
    for (;;) {
      const batch = this.read({ fromSeq: from, toSeq: from + chunk - 1 });
      if (batch.length === 0) return;
      yield* batch;
      from += chunk;
    }
  }

  /** Re-walk the hash chain: SQLite page integrity, density of seq, prev links, recomputed hashes, event schemas. */
  verifyChain(): ChainReport {
    const problems: ChainProblem[] = [];
    // Damaged pages (indexes, projection tables) that the chain itself would not notice.
    const check = this.db.prepare('PRAGMA quick_check').all<{ quick_check: string }>();
    for (const r of check) if (r.quick_check !== 'ok') problems.push({ seq: 0, problem: `SQLite integrity: ${r.quick_check}` });
    let prev = GENESIS_HASH;
    let expectSeq = 1;
    let lastTime = -Infinity;
    let count = 0;
    const stmt = this.db.prepare('SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT 5000');
    let from = 1;
    for (;;) {
      const rows = stmt.all<EventRow>(from);
      if (rows.length === 0) break;
      for (const r of rows) {
        count += 1;
        if (r.seq !== expectSeq) problems.push({ seq: r.seq, problem: `expected seq ${expectSeq}: events are missing` });
        if (r.prev_hash !== prev) problems.push({ seq: r.seq, problem: 'prev_hash does not match the previous event (removed or reordered event)' });
        if (r.time_ms <= lastTime) problems.push({ seq: r.seq, problem: 'commit time does not increase' });
        let recomputed = '';
        try {
          const lease = r.lease_scope === null ? null : { scope: r.lease_scope, epoch: r.lease_epoch ?? 0 };
          recomputed = eventHash(r.prev_hash, { seq: r.seq, time: r.time_ms, type: r.type, version: r.version, data: JSON.parse(r.data), actor: JSON.parse(r.actor) as Actor, lease });
        } catch {
          problems.push({ seq: r.seq, problem: 'event row is not valid JSON' });
        }
        if (recomputed !== '' && recomputed !== r.hash) problems.push({ seq: r.seq, problem: 'hash does not match the event contents (event was modified)' });
        try {
          parseRow(r);
        } catch (e) {
          problems.push({ seq: r.seq, problem: (e as Error).message });
        }
        prev = r.hash;
        expectSeq = r.seq + 1;
        lastTime = r.time_ms;
      }
      from = rows[rows.length - 1]!.seq + 1;
    }
    return { ok: problems.length === 0, events: count, headHash: prev, problems };
  }

  /** The pure fold of every projection over the whole log (the specification of the tables). */
  foldAll(): Map<string, RangedRow[]> {
    const out = new Map<string, RangedRow[]>();
    for (const p of this.projections) out.set(p.name, foldRanged(p, this.readAll()));
    return out;
  }

  /** Fold every event into one projection's (new, empty) table; inside the open transaction. */
  private backfill(p: RangedProjection): void {
    const t = this.tables.get(p.name)!;
    for (const e of this.readAll()) t.apply(e);
  }

  /** Names of the projections this log materializes. */
  projectionNames(): string[] {
    return this.projections.map((p) => p.name);
  }

  /**
   * Recompute every materialized projection from the log, in one transaction. Returns, per
   * projection, whether the recomputed table equals the one it replaced.
   */
  rebuildProjections(): { name: string; rows: number; equal: boolean }[] {
    return this.db.immediate(() => {
      const before = new Map<string, string>();
      for (const [name, t] of this.tables) {
        before.set(name, JSON.stringify(t.history()));
        t.clear();
      }
      let from = 1;
      for (;;) {
        const batch = this.read({ fromSeq: from, toSeq: from + 4999 });
        if (batch.length === 0) break;
        for (const e of batch) for (const t of this.tables.values()) t.apply(e);
        from += 5000;
      }
      return [...this.tables].map(([name, t]) => {
        const after = t.history();
        return { name, rows: after.length, equal: JSON.stringify(after) === before.get(name) };
      });
    });
  }

  /**
   * Copy the log to `destPath` through SQLite's online backup: a consistent copy of every committed
   * event while writers keep appending. Returns the head of the copy.
   */
  async backupTo(destPath: string): Promise<LogHead> {
    await this.db.backup(destPath);
    const copy = openSqlite(destPath, { readonly: true, mustExist: true });
    try {
      const r = copy.prepare('SELECT seq, hash, time_ms FROM events ORDER BY seq DESC LIMIT 1').get<{ seq: number; hash: string; time_ms: number }>();
      return r === undefined ? { seq: 0, hash: GENESIS_HASH, time: 0 } : { seq: r.seq, hash: r.hash, time: r.time_ms };
    } finally {
      copy.close();
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Parse a stored row: upcast its data to the current version and validate it. */
function parseRow(r: EventRow): StoredEvent {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(r.data) as Record<string, unknown>;
  } catch {
    throw new WarehouseError('LOG_CORRUPT', `event ${r.seq} is not valid JSON`, { suggestion: 'run `wh audit --verify`' });
  }
  const { eventDraftSchema, eventVersions, upcast } = eventCatalog();
  if (!(r.type in eventVersions)) {
    throw new WarehouseError('LOG_CORRUPT', `event ${r.seq} has unknown type ${r.type}`, {
      suggestion: 'this log was written by a newer wh; upgrade wh',
    });
  }
  const type = r.type as EventType;
  const parsed = eventDraftSchema.safeParse({ type, data: upcast(type, r.version, data) });
  if (!parsed.success) {
    throw new WarehouseError('LOG_CORRUPT', `event ${r.seq} (${r.type} v${r.version}) does not match its schema`, {
      suggestion: 'run `wh audit --verify` to locate tampering',
    });
  }
  return {
    ...parsed.data,
    seq: r.seq,
    time: r.time_ms,
    version: r.version,
    actor: JSON.parse(r.actor) as Actor,
    lease: r.lease_scope === null ? null : { scope: r.lease_scope, epoch: r.lease_epoch ?? 0 },
    prevHash: r.prev_hash,
    hash: r.hash,
  } as StoredEvent;
}
