/**
 * The built `wh` binary end to end (`node dist/cli/main.js`, see test/support/wh-cli.ts for the
 * build policy). Children run with PG*, WRDS* and WH_* variables removed: nothing here needs a
 * credential. The tests share one warehouse and run in order, as a user's session would.
 */
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../src/engine/index.js';
import { objectPath, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { writeDemoSample } from '../../src/dev/index.js';
import { cleanupTempDirs, ensureBuilt, lineReader, runWh, spawnNode, supportDir, tempDir, type WhOptions } from '../support/wh-cli.js';

let root: string;
let W: string;
let files: { year: number; file: string }[];
const wh = (args: readonly string[], options: WhOptions = {}) => runWh(args, { warehouse: W, ...options });

/** What earlier tests learned about the warehouse. */
const seen = { seq2022: 0, seq2023: 0, time2022: '', object2022: '', object2023: '' };

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('wh-e2e-');
  W = join(root, 'wh');
  files = await writeDemoSample({ outDir: join(root, 'sample'), years: [2022, 2023], seed: 7 });
});
afterAll(cleanupTempDirs);

describe('wh --help, --version and argument errors', () => {
  const commands = [
    ['init'], ['status'], ['ingest'], ['query'], ['snapshot'], ['snapshot', 'tag'], ['snapshot', 'list'], ['snapshot', 'delete'],
    ['snapshot', 'hold'], ['snapshot', 'unhold'], ['log'], ['replay'], ['audit'], ['lease'], ['lease', 'list'], ['lease', 'break'],
    ['gc'], ['rebuild'], ['demo'],
  ];

  it('--help works on every command and subcommand (exit 0, usage on stdout)', async () => {
    const results = await Promise.all(commands.map((c) => runWh([...c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]!.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: wh ${commands[i]!.join(' ')}`);
      expect(r.stderr).toBe('');
    });
    const top = await runWh(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['init', 'status', 'ingest', 'query', 'snapshot', 'log', 'replay', 'audit', 'lease', 'gc', 'rebuild', 'demo']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 error, 2 lease held by another writer, 3 validation or verification failure.');
  });

  it('--version prints the package version', async () => {
    const r = await runWh(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('exit 1 for an unknown flag, an unknown command, a missing option, or no warehouse', async () => {
    const [flag, command, missing, none] = await Promise.all([
      runWh(['status', '--bogus']),
      runWh(['frobnicate']),
      runWh(['lease', 'break', 'dataset:x']),
      runWh(['status'], { warehouse: join(root, 'nowhere') }),
    ]);
    expect(flag).toMatchObject({ code: 1, stdout: '' });
    expect(flag.stderr).toContain("error: unknown option '--bogus'");
    expect(command.code).toBe(1);
    expect(command.stderr).toContain("error: unknown command 'frobnicate'");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--reason <text>' not specified");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/wh: error: .*nowhere is not a wh warehouse \(no wh\.log\)\n {2}fix: create one with `wh init <dir>`/);
  });
});

describe('a session: init, ingest, query, snapshots, log, replay, audit, leases, gc, rebuild', () => {
  it('init creates a warehouse (and refuses to do it twice or in a non-empty directory)', async () => {
    const r = await wh(['init', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ root: W, seq: 1, warehouseId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    for (const d of ['objects', 'tmp', 'quarantine', 'wh.log']) expect(existsSync(join(W, d))).toBe(true);

    const other = join(root, 'not-empty');
    mkdirSync(other);
    writeFileSync(join(other, 'x.txt'), 'x');
    const [again, notEmpty, positional] = await Promise.all([wh(['init', '--json']), runWh(['init', other]), runWh(['init', join(root, 'second')])]);
    expect(again.code).toBe(1);
    expect(again.errorJson()).toMatchObject({ code: 'ALREADY_A_WAREHOUSE' });
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toContain('is not empty');
    expect(positional.code).toBe(0);
    expect(positional.stdout).toContain(`in ${join(root, 'second')}`);
  });

  it('ingest writes a partition per file; the same file again is unchanged', async () => {
    const a = await wh(['ingest', 'prices', files[0]!.file, '--partition', '2022', '--key', 'permno,date', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ja = a.json<{ status: string; rows: number; seq: number; object: string }>();
    expect(ja).toMatchObject({ status: 'written', dataset: 'prices', partition: '2022', rows: 1300 });
    const b = await wh(['ingest', 'prices', files[1]!.file, '-p', '2023', '-k', 'permno,date']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^wrote prices\/2023: 1300 rows, .* object [0-9a-f]{12}… \(seq \d+\)\nhealth prices: 2 partitions \(1 checked\), 2,600 rows, .*\n$/);
    const again = await wh(['ingest', 'prices', files[0]!.file, '-p', '2022', '--json']);
    expect(again.json()).toMatchObject({ status: 'unchanged', seq: ja.seq, object: ja.object });
    seen.seq2022 = ja.seq;
    seen.object2022 = ja.object;
  });

  it('status --json shows the datasets, no leases and the recent events', async () => {
    const r = await wh(['status', '--json', '--events', '3']);
    expect(r.code).toBe(0);
    const s = r.json<{ head: { seq: number }; datasets: unknown[]; leases: unknown[]; recent: { seq: number }[]; disk: { level: string } }>();
    expect(s.datasets).toEqual([expect.objectContaining({ dataset: 'prices', partitions: 2, rows: 2600 })]);
    expect(s.leases).toEqual([]);
    expect(s.recent.map((e) => e.seq)).toEqual([s.head.seq, s.head.seq - 1, s.head.seq - 2]);
    expect(['ok', 'warning', 'critical', 'blocked']).toContain(s.disk.level);
    const human = await wh(['status']);
    expect(human.stdout).toMatch(/^warehouse .* \(log head seq \d+ at /);
    expect(human.stdout).toContain('leases: none held');
  });

  it('finds the warehouse from --warehouse, else WH_WAREHOUSE, else the current directory', async () => {
    const [env, flagWins, cwd] = await Promise.all([
      runWh(['status', '--json'], { env: { WH_WAREHOUSE: W } }),
      runWh(['status', '--json', '--warehouse', W], { env: { WH_WAREHOUSE: join(root, 'nowhere') } }),
      runWh(['status', '--json'], { cwd: W }),
    ]);
    for (const r of [env, flagWins, cwd]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ warehouse: W, datasets: [expect.objectContaining({ rows: 2600 })] });
    }
  });

  it('query renders table, csv and json, and binds --param values (never interpolated)', async () => {
    const sql = 'SELECT permno, count(*) AS n FROM prices GROUP BY permno ORDER BY permno';
    const [table, csv, json, globalJson] = await Promise.all([
      wh(['query', sql]),
      wh(['query', sql, '--format', 'csv']),
      wh(['query', sql, '--format', 'json']),
      wh(['--json', 'query', sql]),
    ]);
    expect(table.stdout.split('\n').slice(0, 3)).toEqual(['permno    n', '------  ---', ' 10001  520']);
    expect(table.stdout).toContain('(5 rows)');
    expect(csv.stdout).toBe('permno,n\n10001,520\n10002,520\n10003,520\n10004,520\n10005,520\n');
    const rows = [10001, 10002, 10003, 10004, 10005].map((permno) => ({ permno, n: 520 }));
    expect(json.json()).toEqual(rows);
    expect(globalJson.json()).toEqual(rows);

    const [bound, injected] = await Promise.all([
      wh(['query', 'SELECT count(*) AS n FROM prices WHERE permno = $1 AND date >= $2', '--param', '10001', '2023-01-01', '--json']),
      wh(['query', 'SELECT count(*) AS n FROM prices WHERE CAST(permno AS VARCHAR) = $1', '--param', "10001' OR '1'='1", '--json']),
    ]);
    expect(bound.json()).toEqual([{ n: 260 }]);
    expect(injected.json()).toEqual([{ n: 0 }]);
  });

  it('query --as-of a seq, an ISO time, a date and a tag reads the warehouse as it stood then', async () => {
    const log = await wh(['log', '--type', 'PartitionWritten', '--json']);
    const written = log.json<{ seq: number; time: number; data: { partition: string; object: string } }[]>();
    expect(written.map((e) => e.data.partition)).toEqual(['2022', '2023']);
    seen.time2022 = new Date(written[0]!.time).toISOString();
    seen.seq2023 = written[1]!.seq;
    seen.object2023 = written[1]!.data.object;
    const count = 'SELECT count(*) AS n FROM prices';
    const today = new Date().toISOString().slice(0, 10);
    const [bySeq, byTime, byDate, early, beyond] = await Promise.all([
      wh(['query', count, '--as-of', String(seen.seq2022), '--json']),
      wh(['query', count, '--as-of', seen.time2022, '--json']),
      wh(['query', count, '--as-of', today, '--json']),
      wh(['query', count, '--as-of', '2000-01-01', '--json']),
      wh(['query', count, '--as-of', '99999']),
    ]);
    expect(bySeq.json()).toEqual([{ n: 1300 }]);
    expect(byTime.json()).toEqual([{ n: 1300 }]);
    expect(byDate.json()).toEqual([{ n: 2600 }]);
    // Before the first write there is no prices view at all: a clear query error naming that.
    expect(early.code).toBe(1);
    expect(early.errorJson()).toMatchObject({ code: 'QUERY_FAILED', suggestion: expect.stringContaining('datasets at this point: (none)') });
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('seq 99999 is beyond the end of the log');
  });

  it('query errors are exit 1 with a JSON error on stderr and nothing on stdout under --json', async () => {
    const [r, none] = await Promise.all([wh(['query', 'SELECT * FROM nope', '--json']), wh(['query', 'SELECT * FROM prices WHERE false', '--json'])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // no half-written JSON on stdout
    expect(none.json()).toEqual([]);
    expect(r.errorJson()).toMatchObject({ code: 'QUERY_FAILED', message: expect.stringContaining('nope'), suggestion: 'datasets at this point: prices; see `wh status`' });
  });

  it('snapshot tag / list / hold / delete / unhold, and --as-of a tag', async () => {
    const v1 = await wh(['snapshot', 'tag', 'v1', '--at', String(seen.seq2022), '--note', 'first year', '--json']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.json()).toMatchObject({ tag: 'v1', seq: seen.seq2022 });
    const v2 = await wh(['snapshot', 'tag', 'v2']);
    expect(v2.stdout).toMatch(/^tagged v2 at seq \d+\n$/);
    const [dup, badName, asOfV1, asOfV2, unknown] = await Promise.all([
      wh(['snapshot', 'tag', 'v1', '--json']),
      wh(['snapshot', 'tag', 'a/b']),
      wh(['query', 'SELECT count(*) AS n FROM prices', '--as-of', 'v1', '--json']),
      wh(['query', 'SELECT count(*) AS n FROM prices', '--as-of', 'v2', '--json']),
      wh(['query', 'SELECT 1', '--as-of', 'no-such-tag', '--json']),
    ]);
    expect(dup.code).toBe(1);
    expect(dup.errorJson()).toMatchObject({ code: 'TAG_EXISTS' });
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('"a/b" is not a valid tag name');
    expect(asOfV1.json()).toEqual([{ n: 1300 }]);
    expect(asOfV2.json()).toEqual([{ n: 2600 }]);
    expect(unknown.errorJson()).toMatchObject({ code: 'UNKNOWN_TAG' });

    const hold = await wh(['snapshot', 'hold', 'paper-1', '--tag', 'v1', '--reason', 'published backtest']);
    expect(hold.code, hold.stderr).toBe(0);
    const [list, holdUnknown, deleteHeld] = await Promise.all([
      wh(['snapshot', 'list', '--json']),
      wh(['snapshot', 'hold', 'paper-2', '--tag', 'nope', '--reason', 'x']),
      wh(['snapshot', 'delete', 'v1']),
    ]);
    expect(list.json()).toEqual([
      expect.objectContaining({ tag: 'v1', seq: seen.seq2022, note: 'first year', heldBy: ['paper-1'] }),
      expect.objectContaining({ tag: 'v2', heldBy: [] }),
    ]);
    expect(holdUnknown.code).toBe(1);
    expect(holdUnknown.stderr).toContain('no snapshot tag "nope"');
    expect(deleteHeld.code).toBe(1);
    expect(deleteHeld.stderr).toContain('snapshot "v1" is held by retention reference paper-1');

    expect((await wh(['snapshot', 'unhold', 'paper-1'])).code).toBe(0);
    const del = await wh(['snapshot', 'delete', 'v1', '--reason', 'superseded']);
    expect(del).toMatchObject({ code: 0, stdout: 'deleted tag v1\n' });
    const [after, unholdAgain] = await Promise.all([wh(['snapshot', 'list', '--json']), wh(['snapshot', 'unhold', 'paper-1'])]);
    expect(after.json<{ tag: string }[]>().map((t) => t.tag)).toEqual(['v2']);
    expect(unholdAgain.code).toBe(1);
  });

  it('log --tail, --type, --from and --json', async () => {
    const [tail, types, from, bad, human] = await Promise.all([
      wh(['log', '--tail', '3', '--json']),
      wh(['log', '--type', 'SnapshotTagged', 'SnapshotDeleted', '--json']),
      wh(['log', '--from', '1', '--tail', '2', '--json']),
      wh(['log', '--type', 'Bogus']),
      wh(['log', '-n', '2']),
    ]);
    const last3 = tail.json<{ seq: number; type: string }[]>();
    expect(last3.map((e) => e.seq - last3[0]!.seq)).toEqual([0, 1, 2]);
    expect(last3.at(-1)!.type).toBe('SnapshotDeleted'); // the newest event: the last thing done
    expect(types.json<{ type: string; data: { tag: string } }[]>().map((e) => `${e.type}:${e.data.tag}`)).toEqual(['SnapshotTagged:v1', 'SnapshotTagged:v2', 'SnapshotDeleted:v1']);
    expect(from.json<{ seq: number; type: string }[]>().map((e) => [e.seq, e.type])).toEqual([[1, 'WarehouseInitialized'], [2, 'LeaseAcquired']]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown event type Bogus');
    expect(human.stdout.split('\n')[0]).toMatch(/^seq\s+time\s+type\s+lease\s+by\s+data$/);
    expect(human.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('replay --until shows the past state; --out writes a DuckDB file that reproduces it', async () => {
    const past = await wh(['replay', '--until', String(seen.seq2022), '--json']);
    expect(past.code, past.stderr).toBe(0);
    expect(past.json()).toMatchObject({ point: { seq: seen.seq2022, kind: 'seq' }, datasets: [{ dataset: 'prices', partitions: 1, rows: 1300 }], database: null });

    const out = join(root, 'replay-v2');
    const r = await wh(['replay', '--until', 'v2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(out, 'replay.duckdb')}`);
    const duck = await openDuck({ path: join(out, 'replay.duckdb'), readonly: true });
    try {
      expect((await duck.all('SELECT count(*) AS n, count(DISTINCT permno) AS p FROM prices')).rows).toEqual([{ n: 2600, p: 5 }]);
      expect((await duck.all('SELECT warehouse, label FROM wh_replay')).rows).toEqual([{ warehouse: W, label: expect.stringMatching(/^tag v2 \(seq \d+\)$/) }]);
    } finally {
      duck.close();
    }
    const empty = await wh(['replay', '--until', '2000-01-01']);
    expect(empty.stdout).toContain('no datasets');
  });

  it('audit shows lineage for a dataset, an object and a tag', async () => {
    const [ds, obj, tag, bad] = await Promise.all([
      wh(['audit', 'prices', '--json']),
      wh(['audit', seen.object2022, '--json']),
      wh(['audit', 'v2', '--json']),
      wh(['audit', 'nothing-by-that-name']),
    ]);
    const records = ds.json<{ partition: string; lineage: { kind: string; source: string; sourceHash: string }; lease: { scope: string } }[]>();
    expect(records.map((r) => r.partition)).toEqual(['2022', '2023']);
    expect(records[0]).toMatchObject({ lineage: { kind: 'ingest', source: files[0]!.file, sourceHash: createHash('sha256').update(readFileSync(files[0]!.file)).digest('hex') }, lease: { scope: 'dataset:prices' } });
    expect(obj.json()).toEqual([expect.objectContaining({ object: seen.object2022, writtenSeq: seen.seq2022, supersededAt: null, heldByTags: ['v2'] })]);
    expect(tag.json<unknown[]>()).toHaveLength(2);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a dataset, object hash or tag of this warehouse');
  });

  it('audit --verify: exit 0 when intact', async () => {
    const r = await wh(['audit', '--verify']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hash chain: intact \(\d+ events\)\nprojections: equal to the fold of the log\nobjects: 2\/2 intact\nverified: OK\n$/);
  });

  it('lease list / break, and exit 2 for a writer while another process holds the lease', async () => {
    const holder = spawnNode(join(supportDir, 'writer-child.mjs'), ['hold', W, 'dataset:prices', '600000']);
    const next = lineReader(holder.child);
    const acquired = await next((m) => m['event'] === 'acquired');
    try {
      const [list, blocked] = await Promise.all([
        wh(['lease', 'list', '--json']),
        wh(['ingest', 'prices', files[1]!.file, '-p', '2023b', '-k', 'permno,date']),
      ]);
      expect(list.json()).toEqual([expect.objectContaining({ scope: 'dataset:prices', pid: holder.child.pid, writerId: acquired['writerId'], epoch: acquired['epoch'] })]);
      expect(blocked.code).toBe(2);
      expect(blocked.stderr).toContain(`lease "dataset:prices" is held by writer ${String(acquired['writerId'])} (pid ${holder.child.pid}`);
      expect(blocked.stderr).toContain('fix: wait for that writer to finish');

      const broke = await wh(['lease', 'break', 'dataset:prices', '--reason', 'e2e test', '--json']);
      expect(broke.code, broke.stderr).toBe(0);
      expect(broke.json()).toMatchObject({ broken: { scope: 'dataset:prices', pid: holder.child.pid } });
      const [after, again, badScope, events] = await Promise.all([
        wh(['lease', 'list']),
        wh(['lease', 'break', 'dataset:prices', '--reason', 'again', '--json']),
        wh(['lease', 'break', 'nonsense', '--reason', 'x']),
        wh(['log', '--type', 'LeaseBroken', '--json']),
      ]);
      expect(after.stdout).toBe('no leases held\n');
      expect(again.code).toBe(1);
      expect(again.errorJson()).toMatchObject({ code: 'LEASE_NOT_FOUND' });
      expect(badScope.code).toBe(1);
      expect(badScope.stderr).toContain('"nonsense" is not a lease scope');
      expect(events.json()).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'operator: e2e test', epoch: acquired['epoch'] }) })]);
    } finally {
      holder.child.stdin!.write('release\n');
    }
    // The broken holder's release is a no-op: it no longer holds anything.
    expect(await next((m) => m['event'] === 'released')).toMatchObject({ ok: false });
    expect((await holder.result).code).toBe(0);
  });

  it('gc lists orphans and temporaries on a dry run and deletes them with --apply', async () => {
    const bytes = Buffer.from('not named by any event');
    const hash = createHash('sha256').update(bytes).digest('hex');
    const orphan = objectPath(W, hash);
    mkdirSync(join(orphan, '..'), { recursive: true });
    writeFileSync(orphan, bytes);
    const temporary = join(warehousePaths(W).tmp, 'leftover.parquet');
    writeFileSync(temporary, 'partial');

    const dry = await wh(['gc', '--json']);
    expect(dry.json()).toMatchObject({ applied: false, orphans: [{ hash, path: orphan, bytes: bytes.length }], temporaries: [{ path: temporary, bytes: 7 }] });
    expect(existsSync(orphan) && existsSync(temporary)).toBe(true);
    const human = await wh(['gc']);
    expect(human.stdout).toContain('1 orphan object(s), 1 temporary file(s)');
    expect(human.stdout).toContain('dry run; rerun with --apply to delete');

    const applied = await wh(['gc', '--apply', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json()).toMatchObject({ applied: true, orphans: [{ hash }] });
    expect(existsSync(orphan) || existsSync(temporary)).toBe(false);
    const [again, log, still] = await Promise.all([
      wh(['gc', '--json']),
      wh(['log', '--type', 'ObjectsCollected', '--json']),
      wh(['query', 'SELECT count(*) AS n FROM prices', '--json']),
    ]);
    expect(again.json()).toMatchObject({ orphans: [], temporaries: [], bytes: 0 });
    expect(log.json()).toEqual([expect.objectContaining({ data: { objects: [hash], bytes: bytes.length + 7, temporaries: 1 }, lease: expect.objectContaining({ scope: 'warehouse' }) })]);
    expect(still.json()).toEqual([{ n: 2600 }]);
  });

  it('rebuild: exit 0 when projections match; exit 3 (and repaired) when a projection table was altered', async () => {
    const ok = await wh(['rebuild', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json<{ ok: boolean; projections: { name: string; equal: boolean; matchesFold: boolean }[] }>()).toMatchObject({ ok: true });

    const log = openWarehouseLog(W);
    try {
      log.db.prepare(`UPDATE proj_manifest SET value = json_set(value, '$.rows', 1) WHERE key = 'prices/2023'`).run();
    } finally {
      log.close();
    }
    const bad = await wh(['rebuild']);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^manifest: \d+ rows, DIFFERED \(now repaired\)$/m);
    const again = await wh(['rebuild', '--json']);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ ok: true });
  });

  it('exit 3 for bad data: a duplicate key on ingest', async () => {
    const dup = join(root, 'dup.csv');
    writeFileSync(dup, 'permno,date,prc,ret,vol\n1,2024-01-02,1,0,1\n1,2024-01-02,2,0,1\n');
    const r = await wh(['ingest', 'prices', dup, '-p', '2024', '--json']);
    expect(r.code).toBe(3);
    expect(r.errorJson()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('duplicate key') });
  });

  it('audit --verify: exit 3 naming the object after a flipped byte, and the seq after a tampered event', async () => {
    const damaged = join(root, 'damaged');
    cpSync(W, damaged, { recursive: true });
    const p = objectPath(damaged, seen.object2023);
    chmodSync(p, 0o644); // objects are written read-only
    const fd = openSync(p, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 64);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, 64);
    closeSync(fd);
    const obj = await runWh(['audit', '--verify'], { warehouse: damaged });
    expect(obj.code).toBe(3);
    expect(obj.stdout).toContain('objects: 1/2 intact');
    expect(obj.stdout).toContain(`prices/2023 ${seen.object2023}: content changed`);
    expect(obj.stdout).toContain('verification FAILED');
    const recorded = await runWh(['log', '--type', 'ChecksumMismatch', '--json'], { warehouse: damaged });
    expect(recorded.json()).toEqual([expect.objectContaining({ data: expect.objectContaining({ object: seen.object2023 }) })]);

    const tampered = join(root, 'tampered');
    cpSync(W, tampered, { recursive: true });
    const log = openWarehouseLog(tampered);
    try {
      log.db.exec('DROP TRIGGER events_no_update');
      log.db.prepare(`UPDATE events SET data = json_set(data, '$.rows', 1) WHERE seq = ?`).run(seen.seq2023);
    } finally {
      log.close();
    }
    const ev = await runWh(['audit', '--verify', '--json'], { warehouse: tampered });
    expect(ev.code).toBe(3);
    expect(ev.json()).toMatchObject({ ok: false, chain: [{ seq: seen.seq2023, problem: 'hash does not match the event contents (event was modified)' }] });
    const human = await runWh(['audit', '--verify'], { warehouse: tampered });
    expect(human.stdout).toContain(`hash chain: BROKEN`);
    expect(human.stdout).toContain(`  seq ${seen.seq2023}: hash does not match`);
  });
});

