/**
 * Retention as a projection of the log: the policies in force (RetentionPolicySet) and the
 * objects retention has collected (ObjectsCollected naming objects the manifest once named).
 * Pure folds over events, plus readers that fetch just those event types (an indexed read).
 */
import type { EventLog, StoredEvent } from '../log/index.js';
import { manifestHistory } from './readers.js';

export interface RetentionPolicy {
  /** null: the warehouse-wide default. */
  readonly dataset: string | null;
  readonly keepDays: number;
  readonly keepLast: number;
  readonly setSeq: number;
  readonly setAt: string;
}

export interface RetentionState {
  /** Policies by dataset ('' for the default). A cleared policy is absent. */
  readonly policies: Map<string, RetentionPolicy>;
  /** Object hash → seq of the last ObjectsCollected event that named it. */
  readonly collected: Map<string, number>;
}

export const initialRetentionState = (): RetentionState => ({ policies: new Map(), collected: new Map() });

/** Fold one event into the retention state (mutates and returns `state`). */
export function evolveRetention(state: RetentionState, event: StoredEvent): RetentionState {
  if (event.type === 'RetentionPolicySet') {
    const d = event.data;
    const key = d.dataset ?? '';
    if (d.keepDays === null) state.policies.delete(key);
    else
      state.policies.set(key, {
        dataset: d.dataset,
        keepDays: d.keepDays,
        keepLast: d.keepLast ?? 0,
        setSeq: event.seq,
        setAt: new Date(event.time).toISOString(),
      });
  } else if (event.type === 'ObjectsCollected') {
    for (const o of event.data.objects) state.collected.set(o, event.seq);
  }
  return state;
}

/** The retention state at `seq` (head when undefined). */
export function retentionState(log: EventLog, seq?: number): RetentionState {
  const events = log.read({ types: ['RetentionPolicySet', 'ObjectsCollected'], ...(seq === undefined ? {} : { toSeq: seq }) });
  return events.reduce(evolveRetention, initialRetentionState());
}

/** The policy that applies to `dataset`: its own, else the default, else none (keep forever). */
export function policyFor(state: RetentionState, dataset: string): RetentionPolicy | undefined {
  return state.policies.get(dataset) ?? state.policies.get('');
}

/**
 * Objects that are gone: collected at seq c and not written again since (an identical object
 * written after c, by a later ingest of the same bytes, is present again). Orphans that no
 * manifest row ever named are left out.
 */
export function collectedObjects(log: EventLog, state: RetentionState = retentionState(log)): Map<string, number> {
  const out = new Map<string, number>();
  if (state.collected.size === 0) return out;
  const lastBegin = new Map<string, number>();
  for (const r of manifestHistory(log)) {
    if (state.collected.has(r.value.object)) lastBegin.set(r.value.object, Math.max(lastBegin.get(r.value.object) ?? 0, r.beginSeq));
  }
  for (const [hash, seq] of state.collected) {
    const begin = lastBegin.get(hash);
    if (begin !== undefined && begin < seq) out.set(hash, seq);
  }
  return out;
}
