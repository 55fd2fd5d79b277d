/**
 * Run `fn` over `items` with one worker per element of `workers` (a DuckDB connection each, say).
 * On the first failure no new item starts; the running ones finish (so nothing is written after
 * the caller reports the failure), then the first error is thrown.
 */
export async function pool<T, W, R>(items: readonly T[], workers: readonly W[], fn: (item: T, index: number, worker: W) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const work = async (worker: W) => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i, worker);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(workers.slice(0, Math.max(1, Math.min(workers.length, items.length))).map(work));
  if (failure !== undefined) throw failure.error;
  return out;
}
