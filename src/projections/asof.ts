/**
 * Resolving a point in the warehouse's history: a seq (`1234`), an ISO date or time
 * (`2024-01-15` = the end of that UTC day; `2024-01-15T10:00:00Z` = that instant) or a tag name.
 * Each resolution is one indexed lookup, whatever the length of the log.
 */
import { WarehouseError, type EventLog } from '../log/index.js';
import { snapshotProjection, type TagEntry } from './catalog.js';

export interface Point {
  readonly seq: number;
  /** How the point was named, for messages. */
  readonly label: string;
  readonly kind: 'head' | 'seq' | 'time' | 'tag';
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Is `ymd` (YYYY-MM-DD) a real day? `Date.parse` rolls 2024-02-30 over to March 1 instead of failing. */
function isCalendarDay(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const day = new Date(0);
  day.setUTCFullYear(y, m - 1, d);
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * Would `name` be read by `resolvePoint` as something other than a tag (`head`, `now`, a seq or
 * a date)? Such a tag could never be named, so the warehouse refuses to create it.
 */
export function isPointKeyword(name: string): boolean {
  return name === 'head' || name === 'now' || /^\d+$/.test(name) || DATE.test(name) || DATETIME.test(name);
}

/**
 * @throws WarehouseError `INVALID_ARGUMENT` for an unparseable spec, `UNKNOWN_TAG` for a missing tag.
 */
export function resolvePoint(log: EventLog, spec: string | undefined): Point {
  const head = log.head().seq;
  if (spec !== undefined && spec.trim() === '') {
    throw new WarehouseError('INVALID_ARGUMENT', 'the point is empty (--as-of "")', { suggestion: 'give a seq, an ISO date or time, a snapshot tag, or `head` (or omit --as-of for the head)' });
  }
  if (spec === undefined || spec === 'head' || spec === 'now') return { seq: head, label: 'head', kind: 'head' };
  if (/^\d+$/.test(spec)) {
    const seq = Number(spec);
    if (seq > head) {
      throw new WarehouseError('INVALID_ARGUMENT', `seq ${seq} is beyond the end of the log (head is ${head})`, {
        suggestion: `use a seq between 0 and ${head}; see \`wh log\``,
      });
    }
    return { seq, label: `seq ${seq}`, kind: 'seq' };
  }
  if (DATE.test(spec) || DATETIME.test(spec)) {
    const ms = DATE.test(spec) ? Date.parse(`${spec}T23:59:59.999Z`) : Date.parse(/Z|[+-]\d{2}:?\d{2}$/.test(spec) ? spec : `${spec}Z`);
    if (Number.isNaN(ms) || !isCalendarDay(spec.slice(0, 10))) {
      throw new WarehouseError('INVALID_ARGUMENT', `"${spec}" is not a valid date`, { suggestion: 'use YYYY-MM-DD or an ISO 8601 time' });
    }
    const seq = log.seqAtTime(ms);
    return { seq, label: `${spec} (seq ${seq})`, kind: 'time' };
  }
  const tag = log.table(snapshotProjection).current(spec)?.value;
  if (tag === undefined) {
    throw new WarehouseError('UNKNOWN_TAG', `"${spec}" is neither a seq, a date nor a snapshot tag`, {
      suggestion: 'list tags with `wh snapshot list`; dates are YYYY-MM-DD',
    });
  }
  return { seq: tag.seq, label: `tag ${spec} (seq ${tag.seq})`, kind: 'tag' };
}
