/** Wait for every promise (so nothing still writes when this returns), then throw the first failure. */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad !== undefined) throw bad.reason;
}

/**
 * Flushes started as work completes, so the disk writes while the crypt workers encrypt. At most
 * `lanes` run at once; the default leaves them effectively unbounded, since the I/O thread pool
 * has nothing else to do while the workers hold the CPUs (measured: 72 files flushed from 64 lanes
 * 46-53 ms, from 2 lanes 58-60 ms). `done` waits for all and throws the first failure.
 */
export function flushQueue(flushOne: (item: string) => Promise<unknown>, lanes = 64): { add(item: string): void; done(): Promise<void> } {
  const tails: Promise<unknown>[] = Array.from({ length: lanes }, () => Promise.resolve());
  let n = 0;
  let first: { error: unknown } | null = null;
  return {
    add(item) {
      const k = n++ % lanes;
      tails[k] = tails[k]!.then(() => flushOne(item)).catch((error: unknown) => {
        first ??= { error };
      });
    },
    async done() {
      await Promise.all(tails);
      if (first !== null) throw first.error;
    },
  };
}
