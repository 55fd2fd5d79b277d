/**
 * Health reports as of a point: a pure fold of `HealthReported` events to the latest report per
 * dataset, and the per-dataset history the report page plots. Reports are computed and recorded by
 * `src/store/health` after each write; here they are only read.
 */
import type { EventData, EventLog, HealthFinding, StoredEvent } from '../log/index.js';

/** A recorded health report, with where and when it was recorded. */
export type HealthReport = EventData<'HealthReported'> & { readonly reportSeq: number; readonly reportedAt: string };

/** Latest report per dataset. */
export type HealthState = ReadonlyMap<string, HealthReport>;

export const initialHealthState = (): HealthState => new Map();

/** Fold one event: a `HealthReported` replaces its dataset's report; every other event leaves the state as it is. */
export function evolveHealth(state: HealthState, event: StoredEvent): HealthState {
  if (event.type !== 'HealthReported') return state;
  const next = new Map(state);
  next.set(event.data.dataset, { ...event.data, reportSeq: event.seq, reportedAt: new Date(event.time).toISOString() });
  return next;
}

function reports(log: EventLog, seq: number | undefined): StoredEvent[] {
  const head = log.head().seq;
  return log.read({ types: ['HealthReported'], ...(seq !== undefined && seq < head ? { toSeq: seq } : {}) });
}

/** The latest report of each dataset (or of `dataset`) recorded at or before `seq` (head when undefined). */
export function healthAt(log: EventLog, seq?: number, dataset?: string): HealthReport[] {
  const state = reports(log, seq).reduce(evolveHealth, initialHealthState());
  return [...state.values()].filter((r) => dataset === undefined || r.dataset === dataset).sort((a, b) => (a.dataset < b.dataset ? -1 : 1));
}

/** Every report of `dataset` up to `seq`, oldest first (the page's rows-over-time plot). */
export function healthHistory(log: EventLog, dataset: string, seq?: number): HealthReport[] {
  return reports(log, seq)
    .filter((e): e is Extract<StoredEvent, { type: 'HealthReported' }> => e.type === 'HealthReported' && e.data.dataset === dataset)
    .map((e) => ({ ...e.data, reportSeq: e.seq, reportedAt: new Date(e.time).toISOString() }));
}

/** Findings counted by kind. */
export function findingCounts(findings: readonly HealthFinding[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of findings) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

/** The one-line summary printed after each sync, ingest and ETL. */
export function healthSummaryLine(r: EventData<'HealthReported'>): string {
  const rows = r.partitions.reduce((n, p) => n + p.rows, 0);
  const checked = r.partitions.filter((p) => p.checked).length;
  const counts = Object.entries(findingCounts(r.findings)).map(([k, n]) => `${n} ${k}`);
  return `health ${r.dataset}: ${r.partitions.length} partitions (${checked} checked), ${rows.toLocaleString('en-US')} rows, ${r.findings.length === 0 ? 'no findings' : `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} (${counts.join(', ')})`}`;
}
