/**
 * Ranged projections: every projection in wh is a set of keyed rows, each valid over a half-open
 * range of log positions `[beginSeq, endSeq)`. A projection is a pure function from an event (and
 * the current row for a key) to open/close operations. The same operations drive both the pure
 * in-memory fold (the specification, used by tests and `wh rebuild --check`) and the materialized
 * SQLite table (used by every read), so "as of seq N" is one indexed query.
 */
import type { SqliteDb } from './sqlite-adapter.js';
import type { StoredEvent } from './events.js';

/** Open (or replace) the row for `key`, or close it. */
export type RangedOp =
  | { readonly op: 'open'; readonly key: string; readonly group: string; readonly value: unknown }
  | { readonly op: 'close'; readonly key: string };

/** One row of a ranged projection. `endSeq === null` means still current. */
export interface RangedRow<V = unknown> {
  readonly key: string;
  readonly group: string;
  readonly value: V;
  readonly beginSeq: number;
  readonly endSeq: number | null;
}

/** Lookup of the current row for a key, as the fold stands just before the event. */
export type CurrentLookup = (key: string) => RangedRow | undefined;

/**
 * A projection: a name (its table is `proj_<name>`) and a pure event → operations function.
 * `V` is the type of its rows' values: reading through the projection object
 * (`log.table(manifestProjection).at()`) gives typed rows with no cast at the call site.
 */
export interface RangedProjection<V = unknown> {
  readonly name: string;
  ops(event: StoredEvent, current: CurrentLookup): readonly RangedOp[];
  /** Phantom: carries `V` to {@link RangedTable}; never set. */
  readonly __value?: V;
}

/** The pure fold: initial state and evolve. No I/O, no clock. */
export interface RangedState {
  readonly rows: RangedRow[];
  readonly open: Map<string, number>;
}

export const initialRangedState = (): RangedState => ({ rows: [], open: new Map() });

export function evolveRanged(projection: RangedProjection, state: RangedState, event: StoredEvent): RangedState {
  const current: CurrentLookup = (key) => {
    const i = state.open.get(key);
    return i === undefined ? undefined : state.rows[i];
  };
  for (const op of projection.ops(event, current)) {
    const i = state.open.get(op.key);
    if (i !== undefined) {
      const row = state.rows[i]!;
      state.rows[i] = { ...row, endSeq: event.seq };
      state.open.delete(op.key);
    }
    if (op.op === 'open') {
      state.open.set(op.key, state.rows.length);
      state.rows.push({ key: op.key, group: op.group, value: op.value, beginSeq: event.seq, endSeq: null });
    }
  }
  return state;
}

/** Fold a whole event sequence. */
export function foldRanged(projection: RangedProjection, events: Iterable<StoredEvent>): RangedRow[] {
  let state = initialRangedState();
  for (const e of events) state = evolveRanged(projection, state, e);
  return sortRows(state.rows);
}

/** Rows valid at `seq` (begin <= seq < end). */
export function rowsAt<V>(rows: readonly RangedRow<V>[], seq: number): RangedRow<V>[] {
  return rows.filter((r) => r.beginSeq <= seq && (r.endSeq === null || r.endSeq > seq));
}

export function sortRows<V>(rows: RangedRow<V>[]): RangedRow<V>[] {
  return rows.sort((a, b) => a.beginSeq - b.beginSeq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const tableName = (name: string): string => {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad projection name ${name}`);
  return `proj_${name}`;
};

/** Create the table and indexes of a ranged projection (idempotent). */
export function createRangedTable(db: SqliteDb, name: string): void {
  const t = tableName(name);
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${t} (
      key TEXT NOT NULL,
      grp TEXT NOT NULL,
      value TEXT NOT NULL,
      begin_seq INTEGER NOT NULL,
      end_seq INTEGER
    );
    CREATE UNIQUE INDEX IF NOT EXISTS ${t}_open ON ${t}(key) WHERE end_seq IS NULL;
    CREATE INDEX IF NOT EXISTS ${t}_key ON ${t}(key, begin_seq);
    CREATE INDEX IF NOT EXISTS ${t}_grpkey ON ${t}(grp, key, begin_seq);
  `);
}

interface RawRow {
  key: string;
  grp: string;
  value: string;
  begin_seq: number;
  end_seq: number | null;
}
const toRow = <V>(r: RawRow): RangedRow<V> => ({
  key: r.key,
  group: r.grp,
  value: JSON.parse(r.value) as V,
  beginSeq: r.begin_seq,
  endSeq: r.end_seq,
});

/** The materialized side of a projection: reads and writes of its SQLite table. */
export class RangedTable<V = unknown> {
  private readonly t: string;
  constructor(
    private readonly db: SqliteDb,
    readonly projection: RangedProjection<V>,
  ) {
    this.t = tableName(projection.name);
  }

  /** Apply an event's operations (call inside the append transaction). */
  apply(event: StoredEvent): void {
    for (const op of this.projection.ops(event, (k) => this.current(k))) {
      this.db.prepare(`UPDATE ${this.t} SET end_seq = ? WHERE key = ? AND end_seq IS NULL`).run(event.seq, op.key);
      if (op.op === 'open') {
        this.db
          .prepare(`INSERT INTO ${this.t}(key, grp, value, begin_seq, end_seq) VALUES (?, ?, ?, ?, NULL)`)
          .run(op.key, op.group, JSON.stringify(op.value), event.seq);
      }
    }
  }

  current(key: string): RangedRow<V> | undefined {
    const r = this.db.prepare(`SELECT * FROM ${this.t} WHERE key = ? AND end_seq IS NULL`).get<RawRow>(key);
    return r === undefined ? undefined : toRow<V>(r);
  }

  /**
   * Rows valid at `seq`, or current rows when `seq` is undefined; optionally one group only.
   * As of a past seq this walks the distinct keys (a loose index scan) and takes, per key, the
   * newest version begun at or before `seq`: O(keys x log rows), whatever the length of the log.
   */
  at(seq?: number, group?: string): RangedRow<V>[] {
    let rows: RawRow[];
    if (seq === undefined) {
      rows =
        group === undefined
          ? this.db.prepare(`SELECT * FROM ${this.t} WHERE end_seq IS NULL ORDER BY key`).all<RawRow>()
          : this.db.prepare(`SELECT * FROM ${this.t} WHERE end_seq IS NULL AND grp = ? ORDER BY key`).all<RawRow>(group);
    } else if (group === undefined) {
      rows = this.db
        .prepare(
          `WITH RECURSIVE keys(k) AS (
             SELECT min(key) FROM ${this.t}
             UNION ALL SELECT (SELECT min(key) FROM ${this.t} WHERE key > keys.k) FROM keys WHERE keys.k IS NOT NULL)
           SELECT m.* FROM keys JOIN ${this.t} m ON m.rowid = (
             SELECT x.rowid FROM ${this.t} x WHERE x.key = keys.k AND x.begin_seq <= ? ORDER BY x.begin_seq DESC, x.rowid DESC LIMIT 1)
           WHERE m.end_seq IS NULL OR m.end_seq > ? ORDER BY m.key`,
        )
        .all<RawRow>(seq, seq);
    } else {
      rows = this.db
        .prepare(
          `WITH RECURSIVE keys(k) AS (
             SELECT min(key) FROM ${this.t} WHERE grp = ?
             UNION ALL SELECT (SELECT min(key) FROM ${this.t} WHERE grp = ? AND key > keys.k) FROM keys WHERE keys.k IS NOT NULL)
           SELECT m.* FROM keys JOIN ${this.t} m ON m.rowid = (
             SELECT x.rowid FROM ${this.t} x WHERE x.key = keys.k AND x.begin_seq <= ? ORDER BY x.begin_seq DESC, x.rowid DESC LIMIT 1)
           WHERE m.end_seq IS NULL OR m.end_seq > ? ORDER BY m.key`,
        )
        .all<RawRow>(group, group, seq, seq);
    }
    return rows.map((r) => toRow<V>(r));
  }

  /** Every row ever, in (beginSeq, key) order: the whole history of the projection. */
  history(key?: string): RangedRow<V>[] {
    const rows =
      key === undefined
        ? this.db.prepare(`SELECT * FROM ${this.t} ORDER BY begin_seq, key`).all<RawRow>()
        : this.db.prepare(`SELECT * FROM ${this.t} WHERE key = ? ORDER BY begin_seq`).all<RawRow>(key);
    return sortRows(rows.map((r) => toRow<V>(r)));
  }

  clear(): void {
    this.db.exec(`DELETE FROM ${this.t}`);
  }
}
