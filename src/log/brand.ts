declare const brand: unique symbol;
/** A nominal type: `Brand<number, 'Seq'>` is a number that only a Seq-producing function makes. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Position of an event in the log (1-based, dense, strictly increasing). */
export type Seq = Brand<number, 'Seq'>;
/** Fencing token: strictly increasing across every lease ever granted in a warehouse. */
export type LeaseEpoch = Brand<number, 'LeaseEpoch'>;
/** SHA-256 of an object's bytes, lowercase hex. */
export type ObjectHash = Brand<string, 'ObjectHash'>;
/** A snapshot tag name. */
export type SnapshotTag = Brand<string, 'SnapshotTag'>;

export const asSeq = (n: number): Seq => n as Seq;
export const asEpoch = (n: number): LeaseEpoch => n as LeaseEpoch;
export const asObjectHash = (s: string): ObjectHash => s as ObjectHash;
export const asSnapshotTag = (s: string): SnapshotTag => s as SnapshotTag;
