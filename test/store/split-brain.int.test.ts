/**
 * Split brain: several real writer processes race for one dataset lease, and a paused writer
 * (SIGSTOP past its lease expiry) wakes up after another process took over. Only a live lease
 * holder can commit; losers exit 2 naming the holder; a fenced-out writer commits nothing; the
 * hash chain stays intact throughout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLeases, type EventLog, type StoredEvent } from '../../src/log/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { openWarehouseLog } from '../../src/store/index.js';
import { planGc, verifyWarehouse } from '../../src/store/index.js';
import { cleanupTempDirs, ensureBuilt, lineReader, pollUntil, runWh, spawnNode, spawnWh, supportDir, tempDir, type WhResult } from '../support/wh-cli.js';
import { newWarehouse, sha256, writeCsv } from './crash-invariants.js';

const writer = join(supportDir, 'writer-child.mjs');
let files: string;

beforeAll(() => {
  ensureBuilt();
  files = tempDir('wh-split-files-');
  for (let i = 0; i < 4; i++) writeCsv(join(files, `w${i}.csv`), 40_000, 100 + i);
});
afterAll(cleanupTempDirs);

function withLog<T>(dir: string, fn: (log: EventLog) => T): T {
  const log = openWarehouseLog(dir);
  try {
    return fn(log);
  } finally {
    log.close();
  }
}

/**
 * Check the log's lease history: at no seq were two leases on the scope live at once (every
 * acquisition follows the release or break of the previous epoch), and every write event carries
 * the epoch that was live when it was appended.
 */
function leaseHistoryProblems(events: readonly StoredEvent[], scope: string): string[] {
  const problems: string[] = [];
  let live: number | null = null;
  for (const e of events) {
    if (e.type === 'LeaseAcquired' && e.data.scope === scope) {
      if (live !== null) problems.push(`seq ${e.seq}: epoch ${e.data.epoch} acquired while epoch ${live} was live`);
      live = e.data.epoch;
    } else if ((e.type === 'LeaseReleased' || e.type === 'LeaseBroken') && e.data.scope === scope) {
      if (e.data.epoch === live) live = null;
    } else if (e.lease !== null && e.lease.scope === scope && e.lease.epoch !== live) {
      problems.push(`seq ${e.seq}: ${e.type} written under epoch ${e.lease.epoch} while ${live ?? 'no epoch'} was live`);
    }
  }
  return problems;
}

describe('N `wh ingest` processes racing for one dataset lease', () => {
  it('winners commit under their own epoch; losers exit 2 naming the live holder; chain intact', async () => {
    const dir = newWarehouse('wh-split-');
    const seq0 = withLog(dir, (log) => log.head().seq);
    const procs = [0, 1, 2, 3].map((i) => spawnWh(['ingest', 'prices', join(files, `w${i}.csv`), '--partition', 'all', '--key', 'id'], { warehouse: dir }));
    const pids = procs.map((p) => p.child.pid!);
    const results: WhResult[] = await Promise.all(procs.map((p) => p.result));

    const report = withLog(dir, (log) => {
      const events = log.read({ fromSeq: seq0 + 1 });
      const written = events.filter((e) => e.type === 'PartitionWritten');
      const acquired = events.filter((e) => e.type === 'LeaseAcquired');
      return { events, written, acquired, leases: currentLeases(log), manifest: manifestAt(log), chain: log.verifyChain() };
    });

    const winners = results.flatMap((r, i) => (r.code === 0 ? [i] : []));
    const losers = results.flatMap((r, i) => (r.code === 2 ? [i] : []));
    const outcome = results.map((r, i) => `w${i}: exit ${r.code} ${r.stderr.split('\n')[0]}`).join('\n');
    console.info(`race: ${winners.length} winner(s) ${JSON.stringify(winners)}, ${losers.length} loser(s) ${JSON.stringify(losers)}`);
    expect(winners.length + losers.length, outcome).toBe(4);
    expect(winners.length, outcome).toBeGreaterThanOrEqual(1);

    // Each winner wrote exactly one PartitionWritten, as itself, from its own file.
    expect(report.written).toHaveLength(winners.length);
    for (const w of winners) {
      const mine = report.written.filter((e) => e.actor.pid === pids[w]);
      expect(mine, outcome).toHaveLength(1);
      expect(mine[0]!.type === 'PartitionWritten' && mine[0]!.data.lineage.sourceHash).toBe(sha256(join(files, `w${w}.csv`)));
      expect(results[w]!.stdout).toMatch(/^wrote prices\/all: 40000 rows/);
    }
    // Each loser was refused with LEASE_HELD naming a racer that really held the lease then.
    for (const l of losers) {
      const m = /lease "dataset:prices" is held by writer (\S+) \(pid (\d+) on \S+, epoch (\d+)\)/.exec(results[l]!.stderr);
      expect(m, results[l]!.stderr).not.toBeNull();
      const [, writerId, pid, epoch] = m!;
      expect(pids).toContain(Number(pid));
      expect(Number(pid)).not.toBe(pids[l]);
      const grant = report.acquired.find((e) => e.type === 'LeaseAcquired' && e.data.epoch === Number(epoch));
      expect(grant?.type === 'LeaseAcquired' && grant.data.holder).toMatchObject({ pid: Number(pid), writerId });
      expect(results[l]!.stderr).toContain('wh lease break dataset:prices');
      expect(report.written.some((e) => e.actor.pid === pids[l])).toBe(false);
    }
    // Leases never overlapped, every write was fenced by the live epoch, and all were released.
    expect(leaseHistoryProblems(report.events, 'dataset:prices')).toEqual([]);
    expect(report.acquired).toHaveLength(winners.length);
    expect(report.leases).toEqual([]);
    expect(report.chain).toMatchObject({ ok: true, problems: [] });
    // The partition holds the last winner's object.
    expect(report.manifest.map((m) => m.object)).toEqual([report.written.at(-1)!.type === 'PartitionWritten' && (report.written.at(-1) as { data: { object: string } }).data.object]);
  });

  it('while one process holds the lease, every concurrent `wh ingest` exits 2 and writes nothing', async () => {
    const dir = newWarehouse('wh-split-held-');
    const holder = spawnNode(writer, ['hold', dir, 'dataset:prices', '600000']);
    const next = lineReader(holder.child);
    const acquired = await next((m) => m['event'] === 'acquired');
    const seq = withLog(dir, (log) => log.head().seq);

    const results = await Promise.all([0, 1, 2].map((i) => runWh(['ingest', 'prices', join(files, `w${i}.csv`), '--partition', `p${i}`, '--key', 'id', '--json'], { warehouse: dir })));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      const err = r.errorJson();
      expect(err.code).toBe('LEASE_HELD');
      expect(err.message).toContain(`writer ${String(acquired['writerId'])} (pid ${holder.child.pid}`);
      expect(err.details).toMatchObject({ holder: { pid: holder.child.pid, epoch: acquired['epoch'], scope: 'dataset:prices' } });
    }
    // A losing contender records nothing at all (the refusal happens inside the acquire transaction).
    withLog(dir, (log) => expect(log.head().seq).toBe(seq));

    holder.child.stdin!.write('release\n');
    expect(await next((m) => m['event'] === 'released')).toMatchObject({ ok: true });
    expect((await holder.result).code).toBe(0);
    const after = await runWh(['ingest', 'prices', join(files, 'w0.csv'), '--partition', 'p0', '--key', 'id'], { warehouse: dir });
    expect(after.code, after.stderr).toBe(0);
    withLog(dir, (log) => expect(log.verifyChain().ok).toBe(true));
  });
});

describe('a paused writer whose lease expired', () => {
  it('is fenced out when it resumes after another process took over (SIGSTOP/SIGCONT)', async () => {
    const dir = newWarehouse('wh-split-pause-');
    const paused = spawnNode(writer, ['ingest-pause', dir, 'prices', 'all', join(files, 'w0.csv'), '1500', 'dir-fsynced']);
    const next = lineReader(paused.child);
    const at = await next((m) => m['event'] === 'paused');
    const lease = at['lease'] as { epoch: number; expiresAt: string };
    expect(lease).toMatchObject({ scope: 'dataset:prices', holder: { pid: paused.child.pid } });
    // Its object is complete at its final path, not yet named by any event.
    const orphanPath = String(at['finalPath']);
    expect(existsSync(orphanPath)).toBe(true);

    // Freeze it (as a GC pause or a suspended VM would) and let real time pass its lease expiry.
    expect(paused.child.kill('SIGSTOP')).toBe(true);
    paused.child.stdin!.write('go\n'); // queued; it reads this only once resumed
    await pollUntil(
      () => withLog(dir, (log) => Date.parse(currentLeases(log).find((l) => l.scope === 'dataset:prices')?.expiresAt ?? '0')) < Date.now() - 50,
      'the paused writer\'s lease to expire',
      10_000,
      50,
    );

    // Another process takes over: the holder pid is alive (stopped), so only expiry makes it stale.
    const other = await runWh(['ingest', 'prices', join(files, 'w1.csv'), '--partition', 'all', '--key', 'id', '--json'], { warehouse: dir });
    expect(other.code, other.stderr).toBe(0);
    const takeover = withLog(dir, (log) => log.read({ types: ['LeaseBroken', 'PartitionWritten'] }));
    expect(takeover.map((e) => e.type)).toEqual(['LeaseBroken', 'PartitionWritten']);
    expect(takeover[0]!.type === 'LeaseBroken' && takeover[0]!.data).toMatchObject({
      scope: 'dataset:prices',
      epoch: lease.epoch,
      reason: expect.stringMatching(/^stale: expired at /),
      previousHolder: { pid: paused.child.pid },
    });

    // Wake the paused writer: its commit must be refused, and nothing of it recorded.
    expect(paused.child.kill('SIGCONT')).toBe(true);
    const result = await next((m) => m['event'] === 'result');
    expect(result).toMatchObject({ ok: false, code: 'LEASE_LOST', name: 'LeaseLostError' });
    expect(String(result['message'])).toMatch(new RegExp(`lease "dataset:prices" epoch ${lease.epoch} is no longer live`));
    expect((await paused.result).code).toBe(1);

    await withLogAsync(dir, async (log) => {
      const all = log.read();
      // Its only events are lease bookkeeping from before the pause (no write, no release).
      const own = all.filter((e) => e.actor.pid === paused.child.pid).map((e) => e.type);
      expect(own[0]).toBe('LeaseAcquired');
      expect(new Set(own.slice(1))).toEqual(new Set(own.length > 1 ? ['LeaseRenewed'] : []));
      expect(all.filter((e) => e.lease?.epoch === lease.epoch)).toEqual([]);
      expect(leaseHistoryProblems(all, 'dataset:prices')).toEqual([]);
      expect(manifestAt(log).map((m) => m.object)).toEqual([other.json<{ object: string }>().object]);
      expect(currentLeases(log)).toEqual([]);
      expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
      // What the fenced writer did write is an orphan gc can see.
      expect(planGc(dir, log).orphans.map((o) => o.path)).toEqual([orphanPath]);
    });
  });
});

async function withLogAsync<T>(dir: string, fn: (log: EventLog) => Promise<T>): Promise<T> {
  const log = openWarehouseLog(dir);
  try {
    return await fn(log);
  } finally {
    log.close();
  }
}
