/**
 * As-of resolution latency: `resolvePoint` (by seq, by ISO time, by tag) plus `manifestAt` at the
 * resolved point, on logs of 10k, 100k and 1M events. The baseline is the same measurement on the
 * smallest log: as-of reads should not slow down as the log grows (goal: flat, < 50 ms at 1M).
 *
 *   node dist/bench/asof.js [--quick] [--sizes 10000,100000,1000000] [--samples N] [--keep]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { acquireLease, releaseLease, type EventLog } from '../src/log/index.js';
import { manifestAt, resolvePoint } from '../src/projections/index.js';
import { fmt, isMain, nowMs, parseCli, report, row, say, stats, tempDir, type BenchRow, type CommonOptions, type Stats } from './harness.js';
import { candidateManifestKeys, explainManifestAt } from './manifest-candidate.js';
import { createSyntheticLog, growSyntheticLog, type SyntheticLog } from './synthetic-log.js';

const USAGE = `usage: node dist/bench/asof.js [options]
  --quick        sizes 10k and 100k only, fewer samples
  --sizes LIST   comma-separated log sizes (default 10000,100000,1000000)
  --samples N    random points per size and kind (default 300; quick 100)
  --budget S     stop sampling a size after S seconds once 30 points are timed (default 20; quick 5)
  --keep         keep the temporary directory
  --summary F    also write the result rows as JSON to F (used by run-all)`;

const optionsSchema = z.object({
  sizes: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'a comma-separated list of sizes')
    .transform((s) => s.split(',').map(Number).sort((a, b) => a - b))
    .optional(),
  samples: z.coerce.number().int().positive().optional(),
  budget: z.coerce.number().positive().optional(),
});
export type AsofBenchOptions = z.infer<typeof optionsSchema> & CommonOptions;

const KINDS = ['seq', 'time', 'tag'] as const;
type Kind = (typeof KINDS)[number];

/** Per size: latency samples (ms) of each kind, split into resolve and manifest, plus the candidate query. */
interface SizeResult {
  readonly events: number;
  readonly total: Record<Kind, Stats>;
  readonly resolve: Record<Kind, Stats>;
  readonly manifest: Stats;
  readonly candidate: Stats;
  readonly headManifest: Stats;
  /** `manifestAt(log)` with no seq: the current rows (the `end_seq IS NULL` path). */
  readonly currentManifest: Stats;
  /** `acquireLease` + `releaseLease` (two fsynced commits). */
  readonly leaseCycle: Stats;
  readonly mismatches: number;
  readonly entries: number;
  /** Points timed per kind (fewer than asked when the time budget ran out). */
  readonly timed: number;
}

/** Deterministic PRNG (mulberry32) so runs name the same points. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function specMaker(s: SyntheticLog, rand: () => number): Record<Kind, () => string> {
  const head = s.log.head();
  return {
    seq: () => String(1 + Math.floor(rand() * head.seq)),
    time: () => new Date(s.firstTime + Math.floor(rand() * (head.time - s.firstTime))).toISOString(),
    tag: () => s.tags[Math.floor(rand() * s.tags.length)]!,
  };
}

/** Resolve `spec`, read the manifest there, and run the candidate query; times in ms. */
function samplePoint(log: EventLog, spec: string) {
  const t0 = nowMs();
  const point = resolvePoint(log, spec);
  const t1 = nowMs();
  const m = manifestAt(log, point.seq);
  const t2 = nowMs();
  const c = candidateManifestKeys(log.db, point.seq);
  const t3 = nowMs();
  const same = c.join('\n') === m.map((e) => `${e.dataset}/${e.partition}@${e.writtenSeq}`).join('\n');
  return { total: t2 - t0, resolve: t1 - t0, manifest: t2 - t1, candidate: t3 - t2, entries: m.length, same };
}

/** Measure up to `samples` random points of each kind (at least 30, then within `budgetMs`). */
function measureSize(s: SyntheticLog, samples: number, budgetMs: number): SizeResult {
  const log: EventLog = s.log;
  const make = specMaker(s, prng(42));
  const total = { seq: [] as number[], time: [] as number[], tag: [] as number[] };
  const resolve = { seq: [] as number[], time: [] as number[], tag: [] as number[] };
  const manifest: number[] = [];
  const candidate: number[] = [];
  const headManifest: number[] = [];
  const currentManifest: number[] = [];
  let mismatches = 0;
  let entries = 0;
  const deadline = nowMs() + budgetMs;
  let i = 0;
  for (; i < samples + 10 && (i < 40 || nowMs() < deadline); i++) {
    const warm = i < 10;
    for (const kind of KINDS) {
      const r = samplePoint(log, make[kind]());
      if (!r.same) mismatches += 1;
      if (warm) continue;
      (total[kind].push(r.total), resolve[kind].push(r.resolve), manifest.push(r.manifest), candidate.push(r.candidate));
      entries += r.entries;
    }
    const h0 = nowMs();
    manifestAt(log, log.head().seq);
    const h1 = nowMs();
    manifestAt(log);
    if (!warm) (headManifest.push(h1 - h0), currentManifest.push(nowMs() - h1));
  }
  const by = (r: Record<Kind, number[]>): Record<Kind, Stats> => ({ seq: stats(r.seq), time: stats(r.time), tag: stats(r.tag) });
  return {
    events: log.head().seq,
    total: by(total),
    resolve: by(resolve),
    manifest: stats(manifest),
    candidate: stats(candidate),
    headManifest: stats(headManifest),
    currentManifest: stats(currentManifest),
    leaseCycle: stats(leaseCycles(s, 20)),
    mismatches,
    entries: entries / (manifest.length || 1),
    timed: i - 10,
  };
}

/** Time `n` lease acquire + release cycles on a probe scope (each two fsynced commits). */
function leaseCycles(s: SyntheticLog, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = nowMs();
    const lease = acquireLease(s.log, 'dataset:probe', { ttlMs: 3600_000, purpose: 'bench probe' });
    releaseLease(s.log, lease);
    out.push(nowMs() - t0);
    s.state.epoch = Math.max(s.state.epoch, lease.epoch);
  }
  return out;
}

function printSize(r: SizeResult): void {
  const ms = (x: Stats): string => `${fmt(x.median)} / ${fmt(x.p99)}`;
  say(`  ${r.events.toLocaleString('en-US')} events (median / p99 ms over ${r.timed} points per kind; ~${r.entries.toFixed(0)} manifest entries per point):`);
  for (const k of KINDS) say(`    by ${k.padEnd(4)} resolve+manifestAt ${ms(r.total[k])}   (resolve only ${ms(r.resolve[k])})`);
  say(`    manifestAt(seq) alone ${ms(r.manifest)}   manifestAt(head seq) ${ms(r.headManifest)}   manifestAt() current ${ms(r.currentManifest)}`);
  say(`    candidate per-key query ${ms(r.candidate)} (${r.mismatches} mismatches)   acquireLease+releaseLease ${ms(r.leaseCycle)}`);
}

const short = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toPrecision(3)}M` : n >= 1e3 ? `${+(n / 1e3).toPrecision(3)}k` : String(n));

function rowsFor(small: SizeResult, big: SizeResult, buildRate: number): BenchRow[] {
  const vs = `${short(big.events)} vs ${short(small.events)}`;
  const flat = { text: 'flat (<= 2x), < 50 ms', met: (r: number, v: number) => r <= 2 && v < 50 };
  const rows: BenchRow[] = [];
  for (const k of KINDS) {
    rows.push(row('asof', `by ${k} + manifestAt, median, ${vs}`, big.total[k].median, 'ms', small.total[k].median, 'big/small', flat));
    rows.push(row('asof', `by ${k} + manifestAt, p99, ${vs}`, big.total[k].p99, 'ms', small.total[k].p99, 'big/small', { text: '< 50 ms', met: (_r, v) => v < 50 }));
  }
  rows.push(row('asof', `manifestAt alone, median, ${vs}`, big.manifest.median, 'ms', small.manifest.median, 'big/small'));
  rows.push(row('asof', `manifestAt(head seq) as wh query does, median, ${vs}`, big.headManifest.median, 'ms', small.headManifest.median, 'big/small'));
  rows.push(row('asof', `candidate per-key manifest query, median, ${short(big.events)}`, big.candidate.median, 'ms', big.manifest.median, 'candidate/manifestAt'));
  rows.push(row('asof', `acquireLease+releaseLease, median, ${vs}`, big.leaseCycle.median, 'ms', small.leaseCycle.median, 'big/small'));
  rows.push(row('asof', 'log build through tx.append', buildRate, 'events/s', null, null));
  return rows;
}

/** Run the as-of benchmark; returns its rows. */
export async function runAsof(options: AsofBenchOptions): Promise<BenchRow[]> {
  const sizes = options.sizes ?? (options.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]);
  const samples = options.samples ?? (options.quick ? 100 : 300);
  const budgetMs = (options.budget ?? (options.quick ? 5 : 20)) * 1000;
  const tmp = tempDir('asof', options.keep);
  const results: SizeResult[] = [];
  let built = 0;
  let buildMs = 0;
  try {
    const s = createSyntheticLog(tmp.path);
    for (const size of sizes) {
      const t0 = nowMs();
      built += growSyntheticLog(s, size);
      buildMs += nowMs() - t0;
      const mb = statSync(join(s.dir, 'wh.log')).size / 1e6;
      say(`asof: log grown to ${s.log.head().seq.toLocaleString('en-US')} events, wh.log ${mb.toFixed(0)} MB (${((built * 1000) / buildMs).toFixed(0)} events/s so far)`);
      const r = measureSize(s, samples, budgetMs);
      printSize(r);
      results.push(r);
    }
    say(`  plan of manifestAt(seq): ${explainManifestAt(s.log.db)}`);
    s.log.close();
  } finally {
    tmp.dispose();
  }
  return rowsFor(results[0]!, results[results.length - 1]!, (built * 1000) / buildMs);
}

if (isMain(import.meta.url)) {
  const options = parseCli(process.argv.slice(2), { sizes: { type: 'string' }, samples: { type: 'string' }, budget: { type: 'string' } }, optionsSchema, USAGE);
  report(await runAsof(options), options);
}
