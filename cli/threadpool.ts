/**
 * Imported first by main.ts, before anything can touch libuv's threadpool (which reads this once,
 * when first used). DuckDB runs each statement on a pool thread, and a sync with partitions in
 * flight holds one per DuckDB while fs work (FIFO writes, fsyncs, hashing) and DNS share the rest:
 * libuv's default of 4 leaves one spare at --concurrency 3. A value the user set is kept.
 */
process.env['UV_THREADPOOL_SIZE'] ??= '8';
