/**
 * Citable data states: a SHA-256 digest of exactly the data a study used — the datasets, their
 * partitions and the content hashes of the objects holding them — at a point in the warehouse's
 * history. Unlike the log's head hash it ignores every unrelated event (leases, tags, health
 * reports, other datasets), and since objects are content-addressed and Parquet output is
 * deterministic, two warehouses that synced the same source vintage cite the same digest.
 */
import { WarehouseError, sha256Hex, type EventLog } from '../log/index.js';
import type { ManifestEntry } from './manifest.js';
import { manifestAt, manifestHistory, tagsAt } from './readers.js';

/** Version line hashed first, so a future change of the digest's text can never collide with this one. */
export const CITATION_FORMAT = 'wh-cite-v1';

/** One partition as a citation names it. */
export interface CitedPartition {
  readonly dataset: string;
  readonly partition: string;
  readonly object: string;
}

/**
 * The digest of `parts`: SHA-256 (hex) over `wh-cite-v1\n` then one `dataset\tpartition\tobject\n`
 * line per partition, sorted by dataset then partition (code-unit order). Pure and order-independent.
 *
 * @example
 * ```ts
 * citationDigest([{ dataset: 'crsp_msf', partition: '2023', object: 'ab…' }]); // '5f1c…' (64 hex digits)
 * ```
 */
export function citationDigest(parts: readonly CitedPartition[]): string {
  const lines = parts.map((p) => `${p.dataset}\t${p.partition}\t${p.object}\n`);
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(`${CITATION_FORMAT}\n${lines.join('')}`);
}

/** What a source vintage a cited dataset came from. */
export interface CitedDataset {
  readonly dataset: string;
  readonly partitions: number;
  readonly rows: number;
  /** Distinct lineage sources of its partitions (e.g. `crsp.msf`). */
  readonly sources: readonly string[];
  /** Distinct source vintages of its partitions (e.g. `2024-02-08`); empty when the source has none. */
  readonly vintages: readonly string[];
  /** Latest write time among its partitions. */
  readonly lastWrittenAt: string;
}

/** A citation of the datasets at one point. */
export interface Citation {
  readonly digest: string;
  readonly seq: number;
  readonly datasets: readonly CitedDataset[];
  readonly partitions: readonly (CitedPartition & { readonly rows: number })[];
}

/**
 * The citation of `datasets` (all datasets when empty) as the manifest stood at `seq`.
 * @throws WarehouseError `UNKNOWN_DATASET` when a named dataset has no partition at `seq`.
 */
export function citationAt(log: EventLog, seq: number, datasets: readonly string[] = []): Citation {
  const entries = manifestAt(log, seq);
  const present = new Set(entries.map((e) => e.dataset));
  const missing = datasets.filter((d) => !present.has(d));
  if (missing.length > 0) {
    throw new WarehouseError('UNKNOWN_DATASET', `no dataset ${missing.join(', ')} at seq ${seq}`, {
      suggestion: `datasets at that point: ${[...present].sort().join(', ') || '(none)'}`,
    });
  }
  const wanted = datasets.length === 0 ? present : new Set(datasets);
  const chosen = entries.filter((e) => wanted.has(e.dataset)).sort(byKey);
  const by = new Map<string, ManifestEntry[]>();
  for (const e of chosen) by.set(e.dataset, [...(by.get(e.dataset) ?? []), e]);
  const cited: CitedDataset[] = [...by].map(([dataset, parts]) => {
    const sources = new Set<string>();
    const vintages = new Set<string>();
    for (const p of parts) {
      const ev = log.get(p.writtenSeq);
      if (ev?.type !== 'PartitionWritten') continue;
      sources.add(ev.data.lineage.source);
      if (ev.data.lineage.vintage !== null) vintages.add(ev.data.lineage.vintage);
    }
    return {
      dataset,
      partitions: parts.length,
      rows: parts.reduce((n, p) => n + p.rows, 0),
      sources: [...sources].sort(),
      vintages: [...vintages].sort(),
      lastWrittenAt: parts.reduce((m, p) => (p.writtenAt > m ? p.writtenAt : m), ''),
    };
  });
  return {
    digest: citationDigest(chosen),
    seq,
    datasets: cited,
    partitions: chosen.map((e) => ({ dataset: e.dataset, partition: e.partition, object: e.object, rows: e.rows })),
  };
}

function byKey(a: ManifestEntry, b: ManifestEntry): number {
  const x = `${a.dataset}\t${a.partition}`;
  const y = `${b.dataset}\t${b.partition}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A stretch of history over which the warehouse held exactly the cited data. */
export interface DigestMatch {
  /** The datasets the digest covers. */
  readonly datasets: readonly string[];
  readonly fromSeq: number;
  /** Last seq of the stretch (inclusive); the head when it still holds. */
  readonly toSeq: number;
  readonly current: boolean;
  /** Snapshot tags naming a point inside the stretch. */
  readonly tags: readonly string[];
}

/** Most datasets whose every combination `findDigest` tries (2^12 subsets per state). */
export const MAX_SUBSET_DATASETS = 12;

/**
 * Every stretch of history at which this warehouse held exactly the data `digest` names. The
 * digest does not say which datasets it covers, so each state is tried with every combination of
 * its datasets (all combinations up to {@link MAX_SUBSET_DATASETS} datasets; beyond that, all of
 * them together and each one alone).
 */
export function findDigest(log: EventLog, digest: string): DigestMatch[] {
  const history = manifestHistory(log);
  const head = log.head().seq;
  const bounds = new Set<number>();
  for (const r of history) {
    bounds.add(r.beginSeq);
    if (r.endSeq !== null) bounds.add(r.endSeq);
  }
  const starts = [...bounds].filter((s) => s <= head).sort((a, b) => a - b);
  const found: { datasets: string[]; fromSeq: number; toSeq: number }[] = [];
  for (const [i, from] of starts.entries()) {
    const to = (starts[i + 1] ?? head + 1) - 1;
    const live = history.filter((r) => r.beginSeq <= from && (r.endSeq === null || r.endSeq > from)).map((r) => r.value);
    const by = new Map<string, ManifestEntry[]>();
    for (const e of live) by.set(e.dataset, [...(by.get(e.dataset) ?? []), e]);
    for (const subset of subsets([...by.keys()].sort())) {
      if (citationDigest(subset.flatMap((d) => by.get(d)!)) !== digest) continue;
      const last = found.find((f) => f.toSeq === from - 1 && f.datasets.join() === subset.join());
      if (last !== undefined) last.toSeq = to;
      else found.push({ datasets: subset, fromSeq: from, toSeq: to });
    }
  }
  const tags = tagsAt(log);
  return found.map((f) => ({
    ...f,
    current: f.toSeq === head,
    tags: tags.filter((t) => t.seq >= f.fromSeq && t.seq <= f.toSeq).map((t) => t.tag).sort(),
  }));
}

function subsets(names: readonly string[]): string[][] {
  if (names.length === 0) return [];
  if (names.length > MAX_SUBSET_DATASETS) return [[...names], ...names.map((n) => [n])];
  const out: string[][] = [];
  for (let mask = 1; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => (mask & (1 << i)) !== 0));
  return out;
}
