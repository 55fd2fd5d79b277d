/**
 * A candidate for the as-of read of a ranged projection, measured beside the real one (not used by
 * src). Instead of `begin_seq <= N AND (end_seq IS NULL OR end_seq > N)`, which visits every row
 * version on one side of N, it walks the distinct keys with a loose index scan and takes, per key,
 * the newest version that began at or before N: O(keys x log rows), independent of log length.
 * It uses only the existing `proj_manifest_key (key, begin_seq)` index.
 */
import type { SqliteDb } from '../src/log/index.js';

const CANDIDATE_SQL = `
WITH RECURSIVE keys(k) AS (
  SELECT min(key) FROM proj_manifest
  UNION ALL
  SELECT (SELECT min(key) FROM proj_manifest WHERE key > keys.k) FROM keys WHERE keys.k IS NOT NULL
)
SELECT m.key AS key, m.begin_seq AS begin_seq
FROM keys
JOIN proj_manifest m ON m.rowid = (
  SELECT x.rowid FROM proj_manifest x
  WHERE x.key = keys.k AND x.begin_seq <= ?
  ORDER BY x.begin_seq DESC, x.rowid DESC LIMIT 1
)
WHERE m.end_seq IS NULL OR m.end_seq > ?
ORDER BY m.key`;

/** `key@begin_seq` of every manifest row valid at `seq`, in key order, by the candidate query. */
export function candidateManifestKeys(db: SqliteDb, seq: number): string[] {
  return db.prepare(CANDIDATE_SQL).all<{ key: string; begin_seq: number }>(seq, seq).map((r) => `${r.key}@${r.begin_seq}`);
}

/** SQLite's plan for the as-of read `RangedTable.at(seq)` issues today (its SQL, copied). */
export function explainManifestAt(db: SqliteDb): string {
  const plan = db
    .prepare('EXPLAIN QUERY PLAN SELECT * FROM proj_manifest WHERE begin_seq <= ? AND (end_seq IS NULL OR end_seq > ?) ORDER BY key')
    .all<{ detail: string }>(1, 1);
  return plan.map((p) => p.detail).join('; ');
}
