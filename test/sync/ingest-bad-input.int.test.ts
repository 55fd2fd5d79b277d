/**
 * Bad input and damage: every malformed file, bad name, duplicate or NULL key, schema drift,
 * flipped object byte, tampered event and corrupted log gives a clear error (a code, a message
 * naming the problem) and loses nothing: the previous state stays readable and verifies clean.
 */
import { chmodSync, cpSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { currentLeases, isWarehouseError, type EventLog, type WarehouseError } from '../../src/log/index.js';
import { manifestAt, schemaOf } from '../../src/projections/index.js';
import { objectPath, openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { runQuery } from '../../src/query/index.js';
import { ingestFile } from '../../src/sync/index.js';
import { planGc, verifyWarehouse } from '../../src/store/index.js';
import { cleanupTempDirs, runWh, tempDir } from '../support/wh-cli.js';
import { manifestState, newWarehouse, typesAfter } from '../store/crash-invariants.js';

let files: string;
const file = (name: string, content: string | Buffer): string => {
  const p = join(files, name);
  writeFileSync(p, content);
  return p;
};
const csv = (header: string, rows: readonly string[]): string => [header, ...rows].join('\n') + '\n';
const goodRows = (from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${from + i},2024-01-${String((i % 28) + 1).padStart(2, '0')},${(10 + i / 4).toFixed(2)},S${from + i}`);

beforeAll(() => {
  files = tempDir('wh-bad-files-');
});
afterAll(cleanupTempDirs);

/** Await a promise that must reject with a WarehouseError; return the error. */
async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected the call to be refused, but it succeeded'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

describe('malformed files, bad names and bad keys', () => {
  let dir: string;
  let log: EventLog;
  let baseline: ReturnType<typeof manifestState>;
  let seq: number;

  beforeAll(async () => {
    dir = newWarehouse('wh-bad-');
    log = openWarehouseLog(dir);
    const good = file('good.csv', csv('id,date,prc,sym', goodRows(1, 50)));
    await ingestFile({ dir, log, dataset: 'prices', partition: '2024', file: good, key: ['id'], whVersion: 'test' });
    baseline = manifestState(log);
  });
  afterAll(() => log.close());

  const ingest = (f: string, o: { dataset?: string; partition?: string; key?: string[] } = {}) =>
    ingestFile({ dir, log, dataset: o.dataset ?? 'prices', partition: o.partition ?? '2025', file: f, key: o.key ?? ['id'], whVersion: 'test' });

  // After every refusal: nothing recorded but lease bookkeeping, nothing left behind, old state readable.
  afterEach(async () => {
    expect(typesAfter(log, seq).filter((t) => !t.startsWith('Lease'))).toEqual([]);
    expect(manifestState(log)).toEqual(baseline);
    expect(currentLeases(log)).toEqual([]);
    expect(planGc(dir, log)).toEqual({ orphans: [], temporaries: [], inUse: [], quarantine: [], bytes: 0 });
    expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
    const q = await runQuery(dir, log, 'SELECT count(*) AS n, sum(id) AS s FROM prices');
    expect(q.rows).toEqual([{ n: 50, s: 1275 }]);
  });
  const mark = (): void => {
    seq = log.head().seq;
  };

  it.each([
    ['a short row among the sampled rows', csv('a,b,c', ['1,2,3', '4,5,6', '7,8', '10,11,12'])],
    ['a long row among the sampled rows', csv('a,b,c', ['1,2,3', '4,5,6,7', '8,9,10'])],
    ['a ragged last row', csv('a,b,c', ['1,2,3', '4,5', '6,7,8,9'])],
  ])('ragged CSV (%s) is refused, not read as one mangled column', async (_what, content) => {
    mark();
    const e = await refusal(ingest(file('ragged.csv', content), { dataset: 'ragged', key: [] }));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/^cannot read .*ragged\.csv: /);
    expect(e.suggestion).toMatch(/same number of fields on every line/);
  });

  it.each([
    ['a semicolon-separated .csv', 'semi.csv', csv('id;v', ['1;a', '2;b']), '"id;v"'],
    ['a ragged .txt (delimiter auto-detected)', 'ragged.txt', csv('a,b,c', ['1,2,3', '4,5', '6,7,8']), '"a,b,c"'],
  ])('%s is refused as parsing to a single column', async (_what, name, content, column) => {
    mark();
    const e = await refusal(ingest(file(name, content), { dataset: 'oddities', key: [] }));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toContain(`it parses as a single column named ${column}`);
  });

  it('a well-formed semicolon .txt, tab .tsv and quoted .csv are still read correctly', async () => {
    mark();
    const out = tempDir('wh-formats-');
    const d = newWarehouse('wh-formats-');
    const l = openWarehouseLog(d);
    try {
      const inputs: [string, string][] = [
        ['semi.txt', 'id;v\n1;a\n2;b\n'],
        ['tab.tsv', 'id\tv\n1\ta\n2\tb\n'],
        ['quoted.csv', 'id,v\n1,"a,b"\n2,"x""y"\n'],
      ];
      for (const [i, [name, content]] of inputs.entries()) {
        const p = join(out, name);
        writeFileSync(p, content);
        await ingestFile({ dir: d, log: l, dataset: 'fmt', partition: `p${i}`, file: p, key: ['id'], whVersion: 'test' });
      }
      const q = await runQuery(d, l, 'SELECT id, v FROM fmt ORDER BY v');
      expect(q.rows).toEqual([{ id: 1, v: 'a' }, { id: 1, v: 'a' }, { id: 1, v: 'a,b' }, { id: 2, v: 'b' }, { id: 2, v: 'b' }, { id: 2, v: 'x"y' }]);
    } finally {
      l.close();
    }
  });

  it('a ragged row far past the sniffer sample is refused with its line number', async () => {
    mark();
    const rows = goodRows(1, 30_000);
    rows.push('30001,2024-01-01');
    const e = await refusal(ingest(file('ragged-late.csv', csv('id,date,prc,sym', rows))));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/CSV Error on Line: 30002/);
  });

  it('a file that is neither CSV nor Parquet by name is refused before reading', async () => {
    mark();
    const e = await refusal(ingest(file('data.json', '[{"id":1}]')));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/unknown file type "\.json"/) });
  });

  it('random bytes named .parquet are refused as unreadable', async () => {
    mark();
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
    const e = await refusal(ingest(file('junk.parquet', bytes)));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/cannot read .*junk\.parquet: .*magic bytes/i);
  });

  it.each([
    ['an empty file', ''],
    ['a header without rows', 'id,date,prc,sym\n'],
  ])('%s is refused as having no rows', async (_what, content) => {
    mark();
    const e = await refusal(ingest(file('norows.csv', content)));
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/norows\.csv has no rows/) });
  });

  it('a missing file, or a directory, is refused naming the path', async () => {
    mark();
    const missing = join(files, 'does-not-exist.csv');
    expect(await refusal(ingest(missing))).toMatchObject({ code: 'INVALID_ARGUMENT', message: `no such file: ${missing}` });
    const d = join(files, 'a-directory.csv');
    mkdirSync(d, { recursive: true });
    expect(await refusal(ingest(d))).toMatchObject({ code: 'INVALID_ARGUMENT', message: `${d} is a directory, not a file` });
  });

  it('duplicate keys are refused naming the key and the number of copies', async () => {
    mark();
    const e = await refusal(ingest(file('dup.csv', csv('id,date,prc,sym', [...goodRows(1, 10), '7,2024-02-01,1.00,X', '7,2024-02-02,2.00,Y']))));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/duplicate key in .*dup\.csv: id=7 appears 3 times/);
  });

  it('a duplicate composite key names every key column', async () => {
    mark();
    const rows = ['1,2024-01-01,1.0,A', '1,2024-01-02,1.0,A', '2,2024-01-01,1.0,A', '1,2024-01-01,2.0,B'];
    const e = await refusal(ingest(file('dup2.csv', csv('id,date,prc,sym', rows)), { key: ['id', 'date'] }));
    expect(e.message).toMatch(/duplicate key in .*: id=1, date=2024-01-01 appears 2 times/);
  });

  it('a NULL key is refused with the number of rows', async () => {
    mark();
    const e = await refusal(ingest(file('nullkey.csv', csv('id,date,prc,sym', ['1,2024-01-01,1.0,A', ',2024-01-02,1.0,B', ',2024-01-03,1.0,C']))));
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/2 row\(s\) of .*nullkey\.csv have a NULL key \(id\)/) });
  });

  it('an unknown key column is refused listing the columns there are', async () => {
    mark();
    const e = await refusal(ingest(file('ok.csv', csv('id,date,prc,sym', goodRows(1, 3))), { key: ['permno'] }));
    expect(e.message).toMatch(/key column\(s\) permno not in .*ok\.csv \(columns: id, date, prc, sym\)/);
  });

  it.each(['../x', '../../etc', 'a/b', 'Prices', '1abc', 'a-b', 'a b', '', 'x'.repeat(65), 'p;drop', '"q"'])(
    'dataset name %j is refused before anything is read',
    async (name) => {
      mark();
      const e = await refusal(ingest(join(files, 'never-read.csv'), { dataset: name }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain('is not a valid dataset name');
    },
  );

  it.each(['../x', '..', 'a/b', '/etc', '.hidden', 'a\\b', '', 'x/../../y', 'a b'])('partition key %j is refused before anything is read', async (key) => {
    mark();
    const e = await refusal(ingest(join(files, 'never-read.csv'), { partition: key }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('is not a valid partition key');
  });

  it('the CLI maps these to exit codes 1 (arguments) and 3 (data), with the message and a fix', async () => {
    mark();
    const dup = file('dup-cli.csv', csv('id,date,prc,sym', ['1,2024-01-01,1.0,A', '1,2024-01-02,1.0,B']));
    const [bad, traversal] = await Promise.all([
      runWh(['ingest', 'prices', dup, '--partition', '2025', '--key', 'id'], { warehouse: dir }),
      runWh(['ingest', 'prices', dup, '--partition', '../x'], { warehouse: dir }),
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^wh: error: duplicate key in .*: id=1 appears 2 times\n {2}fix: /);
    expect(traversal.code).toBe(1);
    expect(traversal.stderr).toContain('"../x" is not a valid partition key');
  });
});

describe('schema drift against the registered schema', () => {
  let dir: string;
  let log: EventLog;
  beforeAll(async () => {
    dir = newWarehouse('wh-drift-');
    log = openWarehouseLog(dir);
    await ingestFile({ dir, log, dataset: 'prices', partition: '2023', file: file('d0.csv', csv('id,date,prc,sym', goodRows(1, 5))), key: ['id'], whVersion: 'test' });
  });
  afterAll(() => log.close());
  const ingest = (name: string, content: string, partition = '2024', acceptDrift?: boolean) =>
    ingestFile({ dir, log, dataset: 'prices', partition, file: file(name, content), key: ['id'], whVersion: 'test', acceptDrift });

  it('a removed column is refused with SCHEMA_DRIFT and recorded as a refused SchemaDriftDetected', async () => {
    const before = manifestState(log);
    const seq = log.head().seq;
    const e = await refusal(ingest('d1.csv', csv('id,date,prc', ['1,2024-01-01,1.5'])));
    expect(e).toMatchObject({ code: 'SCHEMA_DRIFT', message: 'schema of prices changed: removed sym' });
    expect(e.suggestion).toContain('--accept-schema-change');
    const drift = log.read({ fromSeq: seq + 1, types: ['SchemaDriftDetected'] });
    expect(drift.map((d) => d.data)).toEqual([expect.objectContaining({ dataset: 'prices', removed: [{ name: 'sym', type: 'VARCHAR' }], added: [], changed: [], accepted: false })]);
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'SchemaDriftDetected', 'LeaseReleased']);
    expect(manifestState(log)).toEqual(before);
    expect(schemaOf(log, 'prices')!.columns.map((c) => c.name)).toEqual(['id', 'date', 'prc', 'sym']);
  });

  it('a changed type is refused with SCHEMA_DRIFT naming the column and both types', async () => {
    const before = manifestState(log);
    const e = await refusal(ingest('d2.csv', csv('id,date,prc,sym', ['1,2024-01-01,n/a,A', '2,2024-01-02,1.5,B'])));
    expect(e).toMatchObject({ code: 'SCHEMA_DRIFT', message: 'schema of prices changed: changed prc DOUBLE -> VARCHAR' });
    expect(log.read({ types: ['SchemaDriftDetected'] }).at(-1)!.data).toMatchObject({ changed: [{ name: 'prc', from: 'DOUBLE', to: 'VARCHAR' }], accepted: false });
    expect(manifestState(log)).toEqual(before);
    expect((await verifyWarehouse(dir, log, { record: false })).ok).toBe(true);
  });

  it('an added column is accepted (recorded), and older partitions read NULL for it', async () => {
    const seq = log.head().seq;
    const r = await ingest('d3.csv', csv('id,date,prc,sym,vol', ['100,2024-01-01,1.5,A,7']));
    expect(r.status).toBe('written');
    expect(typesAfter(log, seq)).toEqual(['LeaseAcquired', 'SchemaDriftDetected', 'SchemaRegistered', 'PartitionWritten', 'HealthReported', 'LeaseReleased']);
    expect(log.read({ fromSeq: seq + 1, types: ['SchemaDriftDetected'] })[0]!.data).toMatchObject({ added: [{ name: 'vol', type: 'BIGINT' }], accepted: true });
    const q = await runQuery(dir, log, 'SELECT count(*) AS n, count(vol) AS with_vol, sum(vol) AS v FROM prices');
    expect(q.rows).toEqual([{ n: 6, with_vol: 1, v: 7 }]);
  });

  it('a breaking change passes only when accepted deliberately', async () => {
    const r = await ingest('d4.csv', csv('id,date,prc,sym', ['200,2024-01-01,1.5,A']), '2025', true);
    expect(r.status).toBe('written');
    expect(log.read({ types: ['SchemaDriftDetected'] }).at(-1)!.data).toMatchObject({ removed: [{ name: 'vol' }], accepted: true });
    expect(manifestAt(log).map((m) => m.partition)).toEqual(['2023', '2024', '2025']);
  });
});

describe('damage to objects and to the log', () => {
  let source: string;
  beforeAll(async () => {
    source = newWarehouse('wh-damage-');
    const log = openWarehouseLog(source);
    try {
      for (const year of ['2023', '2024']) {
        await ingestFile({ dir: source, log, dataset: 'prices', partition: year, file: file(`${year}.csv`, csv('id,date,prc,sym', goodRows(Number(year), 20))), key: ['id'], whVersion: 'test' });
      }
    } finally {
      log.close(); // checkpoints the WAL into wh.log, so copies and byte surgery see everything
    }
  });
  /** A private copy of the seeded warehouse. */
  const copy = (): string => {
    const d = join(tempDir('wh-damage-copy-'), 'wh');
    cpSync(source, d, { recursive: true });
    return d;
  };

  it('a flipped byte in an object is reported by verify and recorded as ChecksumMismatch', async () => {
    const dir = copy();
    const log = openWarehouseLog(dir);
    try {
      const [damaged, intact] = manifestAt(log);
      const p = objectPath(dir, damaged!.object);
      chmodSync(p, 0o644); // objects are written read-only
      const fd = openSync(p, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, 100);
      b[0] = b[0]! ^ 0x01;
      writeSync(fd, b, 0, 1, 100);
      closeSync(fd);

      const seq = log.head().seq;
      const report = await verifyWarehouse(dir, log);
      expect(report.ok).toBe(false);
      expect(report.chain).toEqual([]);
      expect(report.damaged).toEqual([
        expect.objectContaining({ object: damaged!.object, dataset: 'prices', partition: damaged!.partition, path: p, problem: expect.stringMatching(/^content changed \(sha256 [0-9a-f]{64}, \d+ bytes\)$/) }),
      ]);
      const recorded = log.read({ fromSeq: seq + 1 });
      expect(recorded.map((e) => e.type)).toEqual(['ChecksumMismatch']);
      expect(recorded[0]!.data).toMatchObject({ object: damaged!.object, path: p, actual: report.damaged[0]!.actual });
      // The intact partition is still readable on its own.
      const q = await runQuery(dir, log, `SELECT count(*) AS n FROM read_parquet('${objectPath(dir, intact!.object)}')`);
      expect(q.rows).toEqual([{ n: 20 }]);
    } finally {
      log.close();
    }
  });

  it('a modified event row (triggers dropped, data rewritten) is named by seq', async () => {
    const dir = copy();
    const log = openWarehouseLog(dir);
    try {
      const target = log.read({ types: ['PartitionWritten'] })[0]!;
      log.db.exec('DROP TRIGGER events_no_update');
      const data = JSON.parse(log.db.prepare('SELECT data FROM events WHERE seq = ?').get<{ data: string }>(target.seq)!.data) as { rows: number };
      data.rows = 999;
      log.db.prepare('UPDATE events SET data = ? WHERE seq = ?').run(JSON.stringify(data), target.seq);
      const seq = log.head().seq;
      const report = await verifyWarehouse(dir, log);
      expect(report.ok).toBe(false);
      expect(report.chain).toEqual([{ seq: target.seq, problem: 'hash does not match the event contents (event was modified)' }]);
      // A broken chain is reported, never papered over with a ChecksumVerified.
      expect(log.head().seq).toBe(seq);
    } finally {
      log.close();
    }
  });

  it('a deleted event row is named by the seq after the gap', async () => {
    const dir = copy();
    const log = openWarehouseLog(dir);
    try {
      log.db.exec('DROP TRIGGER events_no_delete');
      log.db.prepare('DELETE FROM events WHERE seq = ?').run(3);
      const report = await verifyWarehouse(dir, log, { record: false });
      expect(report.ok).toBe(false);
      expect(report.chain).toEqual(
        expect.arrayContaining([
          { seq: 4, problem: 'expected seq 3: events are missing' },
          { seq: 4, problem: 'prev_hash does not match the previous event (removed or reordered event)' },
        ]),
      );
    } finally {
      log.close();
    }
  });

  it('a log with a damaged header is refused with LOG_CORRUPT (and exit 3 from the CLI)', async () => {
    const dir = copy();
    const p = warehousePaths(dir).log;
    const bytes = readFileSync(p);
    bytes.write('this is not SQLite', 0, 'latin1');
    writeFileSync(p, bytes);
    expect(() => openWarehouseLog(dir)).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT', message: expect.stringContaining(`the operation log ${p} is damaged`) }));
    const r = await runWh(['status'], { warehouse: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('is damaged (SQLITE_NOTADB)');
    expect(r.stderr).toContain('fix: restore wh.log from a backup');
  });

  it('a log whose event pages are damaged gives LOG_CORRUPT on read (and exit 3), not an internal error', async () => {
    const dir = copy();
    const p = warehousePaths(dir).log;
    const pageOf = (() => {
      const log = openWarehouseLog(dir);
      try {
        const pageSize = Number((log.db.pragma('page_size') as { page_size: number }[])[0]!.page_size);
        const root = log.db.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'events'`).get<{ rootpage: number }>()!.rootpage;
        return { pageSize, root };
      } finally {
        log.close();
      }
    })();
    const bytes = readFileSync(p);
    const start = (pageOf.root - 1) * pageOf.pageSize;
    for (let i = start; i < start + pageOf.pageSize; i += 3) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(p, bytes);

    const read = (): void => {
      const log = openWarehouseLog(dir);
      try {
        log.head();
        log.verifyChain();
      } finally {
        log.close();
      }
    };
    expect(read).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT' }));
    const [status, log, audit] = await Promise.all([runWh(['status'], { warehouse: dir }), runWh(['log'], { warehouse: dir }), runWh(['audit', '--verify'], { warehouse: dir })]);
    for (const r of [status, log, audit]) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/wh: error: the operation log .* is damaged \(SQLITE_CORRUPT/);
    }
  });

  it('an untouched copy still verifies (the damage above was to the copies only)', async () => {
    const log = openWarehouseLog(source);
    try {
      expect((await verifyWarehouse(source, log, { record: false })).ok).toBe(true);
    } finally {
      log.close();
    }
  });
});
