/**
 * The lease projection: one row per scope while a lease on it is held. It lives in the log layer
 * because the log itself enforces fencing against it inside every append transaction.
 */
import type { LeaseHolder, StoredEvent } from './events.js';
import type { CurrentLookup, RangedOp, RangedProjection } from './ranged.js';

/** The value of a lease row. */
export interface LeaseState {
  readonly scope: string;
  readonly epoch: number;
  readonly holder: LeaseHolder;
  /** ISO time the lease was first acquired. */
  readonly since: string;
  readonly expiresAt: string;
  readonly purpose: string;
  readonly acquiredSeq: number;
}

export const leaseProjection: RangedProjection<LeaseState> = {
  name: 'leases',
  ops(event: StoredEvent, current: CurrentLookup): RangedOp[] {
    switch (event.type) {
      case 'LeaseAcquired': {
        const d = event.data;
        const value: LeaseState = {
          scope: d.scope,
          epoch: d.epoch,
          holder: d.holder,
          since: new Date(event.time).toISOString(),
          expiresAt: d.expiresAt,
          purpose: d.purpose,
          acquiredSeq: event.seq,
        };
        return [{ op: 'open', key: d.scope, group: 'lease', value }];
      }
      case 'LeaseRenewed': {
        const row = current(event.data.scope);
        const prev = row?.value as LeaseState | undefined;
        if (prev === undefined || prev.epoch !== event.data.epoch) return [];
        return [{ op: 'open', key: prev.scope, group: 'lease', value: { ...prev, expiresAt: event.data.expiresAt } }];
      }
      case 'LeaseReleased':
      case 'LeaseBroken': {
        const prev = current(event.data.scope)?.value as LeaseState | undefined;
        if (prev === undefined || prev.epoch !== event.data.epoch) return [];
        return [{ op: 'close', key: event.data.scope }];
      }
      default:
        return [];
    }
  },
};
