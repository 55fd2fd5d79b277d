/**
 * Tail anchors: the log's head (seq, hash), recorded outside the log after each write command
 * commits (one fsynced write per command), and by backups. A log whose tail was lost (deleted
 * rows, a truncated WAL, a restored older copy) no longer reaches the anchor: verify names the
 * lost seqs, writers refuse to reuse them and `gc --apply` refuses to delete their evidence.
 * See docs/runbooks/log-recovery.md.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChainProblem, EventLog } from '../log/index.js';
import { warehousePaths } from './layout.js';

export interface Anchor {
  readonly seq: number;
  readonly hash: string;
  /** When the anchor was written (ISO). */
  readonly at: string;
}

/** An anchor read back from disk, or null when its shape is wrong (checked by hand: the read path loads no zod). */
function asAnchor(v: unknown): Anchor | null {
  if (typeof v !== 'object' || v === null) return null;
  const { seq, hash, at } = v as Record<string, unknown>;
  return typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 && typeof hash === 'string' && typeof at === 'string' ? { seq, hash, at } : null;
}

/** `<warehouse>/anchor.json`. */
export const anchorPath = (dir: string): string => join(warehousePaths(dir).root, 'anchor.json');

/** The newest anchor, or null when none was written (a warehouse from before anchors) or it is unreadable. */
export function readAnchor(dir: string, path = anchorPath(dir)): Anchor | null {
  try {
    return asAnchor(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}

/**
 * Record `head` as the anchor (temp file, fsync, rename, fsync the directory). Never moves the
 * anchor backwards: a head older than the recorded one is ignored. Returns the anchor in force.
 * `path` lets a backup keep its own anchor next to its copy. `replace` moves it anyway (and keeps
 * the old file as `anchor.json.replaced-<time>`): only for an operator who restored an older log
 * on purpose (`wh repair --log`), whose lost tail is then accepted.
 */
export function recordAnchor(dir: string, head: { seq: number; hash: string }, path = anchorPath(dir), options: { replace?: boolean } = {}): Anchor {
  const current = readAnchor(dir, path);
  if (options.replace === true && current !== null) {
    renameSync(path, `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  } else if (current !== null && current.seq >= head.seq) return current;
  const anchor: Anchor = { seq: head.seq, hash: head.hash, at: new Date().toISOString() };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(anchor) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const d = openSync(dirname(path), 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
  return anchor;
}

/** How the log differs from an anchor: each lost seq, or the anchored event rewritten. Empty when consistent. */
export function anchorProblems(log: EventLog, anchor: Anchor | null): ChainProblem[] {
  if (anchor === null || anchor.seq === 0) return [];
  const head = log.head();
  const problems: ChainProblem[] = [];
  for (let seq = head.seq + 1; seq <= anchor.seq; seq++) {
    problems.push({ seq, problem: `event lost: the anchor written ${anchor.at} records the log reaching seq ${anchor.seq}, the log ends at seq ${head.seq}` });
  }
  if (head.seq >= anchor.seq) {
    const e = log.get(anchor.seq);
    if (e !== undefined && e.hash !== anchor.hash) problems.push({ seq: anchor.seq, problem: `event differs from the anchored one (hash ${e.hash.slice(0, 12)}, anchored ${anchor.hash.slice(0, 12)}): the log was rewritten` });
  }
  return problems;
}
