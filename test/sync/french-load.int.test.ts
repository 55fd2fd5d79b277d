/**
 * Loading Kenneth French files into a real warehouse (real log, real DuckDB, real Parquet objects):
 * from a path, from a zip built here, and from a local HTTP server on 127.0.0.1 (never the
 * network). Each section is a partition written through the shared write path with the CRSP
 * vintage in its lineage; identical reloads write no PartitionWritten; a malformed or unreachable
 * source records nothing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Zip, ZipDeflate, strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseError, type EventLog, type StoredEvent, type WarehouseError } from '../../src/log/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { openWarehouseLog, warehousePaths } from '../../src/store/index.js';
import { runQuery } from '../../src/query/index.js';
import { loadFrenchFile, parseFrench, type LoadFrenchOptions } from '../../src/sync/french/index.js';
import { cleanupTempDirs, repoRoot, tempDir } from '../support/wh-cli.js';
import { newWarehouse } from '../store/crash-invariants.js';

const DATA = join(repoRoot, '..', 'shared', 'data', 'kenneth_french');
const bytesOf = (f: string): Buffer => readFileSync(join(DATA, f));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A zip streamed with data descriptors (sizes after the data), as a server would build it on the fly. */
function streamedZip(entries: Record<string, Uint8Array>): Buffer {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    parts.push(chunk);
  });
  for (const [name, data] of Object.entries(entries)) {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(data, true);
  }
  zip.end();
  return Buffer.concat(parts);
}

let files: string;
let server: Server;
let base: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  files = tempDir('wh-french-files-');
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    // Small, uneven chunks (the first shorter than a zip signature) so the streaming paths run.
    res.write(body.subarray(0, 2));
    for (let i = 2; i < body.length; i += 7919) res.write(body.subarray(i, i + 7919));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  cleanupTempDirs();
});

const events = (log: EventLog, type: StoredEvent['type']): StoredEvent[] => log.read({ types: [type], limit: 100_000 });
const written = (log: EventLog): Extract<StoredEvent, { type: 'PartitionWritten' }>[] =>
  events(log, 'PartitionWritten') as Extract<StoredEvent, { type: 'PartitionWritten' }>[];

async function refusal(p: Promise<unknown>): Promise<WarehouseError> {
  const e = await p.then(
    () => new Error('expected a refusal'),
    (err: unknown) => err,
  );
  if (!isWarehouseError(e)) throw e;
  return e;
}

describe('loading French files into a warehouse', () => {
  let dir: string;
  let log: EventLog;
  const load = (source: string, o: Partial<LoadFrenchOptions> = {}) => loadFrenchFile({ dir, log, source, whVersion: 'test', ...o });

  beforeAll(() => {
    dir = newWarehouse('wh-french-');
    log = openWarehouseLog(dir);
  });
  afterAll(() => log.close());

  it('loads a path: one partition per section, lineage with the CRSP vintage and the bytes hash', async () => {
    const path = join(DATA, 'F-F_Research_Data_Factors.CSV');
    const res = await load(path);
    expect(res).toMatchObject({ dataset: 'french_ff3', status: 'loaded', vintage: '202408', name: 'F-F_Research_Data_Factors.CSV', sourceHash: sha256(bytesOf('F-F_Research_Data_Factors.CSV')) });
    expect(res.partitions.map((p) => [p.partition, p.rows, p.status, p.unit])).toEqual([
      ['monthly', 1178, 'written', 'decimal'],
      ['annual', 97, 'written', 'decimal'],
    ]);
    const pw = written(log);
    expect(pw.map((e) => e.data.partition)).toEqual(['monthly', 'annual']);
    for (const e of pw) {
      expect(e.data.lineage).toEqual({ kind: 'sync', source: path, sourceHash: res.sourceHash, sql: null, vintage: '202408', whVersion: 'test' });
      expect(e.lease?.scope).toBe('dataset:french_ff3');
    }
    const [started] = events(log, 'SyncStarted');
    expect(started).toMatchObject({ data: { dataset: 'french_ff3', vintage: '202408', partitions: ['monthly', 'annual'] } });
    expect(events(log, 'SyncCompleted')[0]).toMatchObject({ data: { dataset: 'french_ff3', vintage: '202408', written: 2, rows: 1275 } });

    const q = await runQuery(dir, log, "SELECT * FROM french_ff3 WHERE section = 'monthly' ORDER BY date LIMIT 1");
    expect(q.columns).toEqual(['date', 'mkt_rf', 'smb', 'hml', 'rf', 'period', 'section', 'frequency', 'unit', 'vintage']);
    expect(q.rows[0]).toEqual({ date: '1926-07-31', mkt_rf: 0.0296, smb: -0.0256, hml: -0.0243, rf: 0.0022, period: 192607, section: 'monthly', frequency: 'monthly', unit: 'decimal', vintage: '202408' });
    const a = await runQuery(dir, log, "SELECT count(*) AS n, max(date) AS last FROM french_ff3 WHERE section = 'annual'");
    expect(a.rows[0]).toEqual({ n: 97, last: '2023-12-31' });
  });

  it('reloading identical bytes records nothing at all', async () => {
    const head = log.head().seq;
    const res = await load(join(DATA, 'F-F_Research_Data_Factors.CSV'));
    expect(res.status).toBe('unchanged');
    expect(res.partitions.every((p) => p.status === 'unchanged')).toBe(true);
    expect(log.head().seq).toBe(head);
  });

  it('a zip of the same file (or --force) writes no new PartitionWritten: the objects are identical', async () => {
    const zipPath = join(files, 'F-F_Research_Data_Factors_CSV.zip');
    const zipped = zipSync({ 'F-F_Research_Data_Factors.CSV': bytesOf('F-F_Research_Data_Factors.CSV') });
    writeFileSync(zipPath, zipped);
    const before = written(log).length;
    const res = await load(zipPath);
    expect(res).toMatchObject({ dataset: 'french_ff3', status: 'unchanged', name: 'F-F_Research_Data_Factors.CSV', sourceHash: sha256(zipped), vintage: '202408' });
    expect(res.partitions.map((p) => p.status)).toEqual(['unchanged', 'unchanged']);
    expect((await load(join(DATA, 'F-F_Research_Data_Factors.CSV'), { force: true })).status).toBe('unchanged');
    expect(written(log)).toHaveLength(before);
  });

  it('parses a zip and a URL like the plain file', async () => {
    const plain = await parseFrench(join(DATA, 'F-F_Research_Data_Factors.CSV'));
    const zipped = await parseFrench(join(files, 'F-F_Research_Data_Factors_CSV.zip'));
    served.set('/ff3.zip', streamedZip({ 'F-F_Research_Data_Factors.CSV': bytesOf('F-F_Research_Data_Factors.CSV') }));
    const remote = await parseFrench(`${base}/ff3.zip`);
    expect(zipped.read.zipped).toBe(true);
    expect(remote.read).toMatchObject({ zipped: true, name: 'F-F_Research_Data_Factors.CSV', source: `${base}/ff3.zip` });
    expect(zipped.sections).toEqual(plain.sections);
    expect(remote.sections).toEqual(plain.sections);
  });

  it('loads from a local HTTP server, plain and zipped; the daily file joins its family dataset', async () => {
    served.set('/ftp/F-F_Research_Data_Factors_daily.CSV', bytesOf('F-F_Research_Data_Factors_daily.CSV'));
    const daily = await load(`${base}/ftp/F-F_Research_Data_Factors_daily.CSV`);
    expect(daily).toMatchObject({ dataset: 'french_ff3', status: 'loaded', vintage: '202408', source: `${base}/ftp/F-F_Research_Data_Factors_daily.CSV` });
    expect(daily.partitions.map((p) => [p.partition, p.rows])).toEqual([['daily', 25817]]);
    expect(written(log).at(-1)!.data.lineage).toMatchObject({ source: `${base}/ftp/F-F_Research_Data_Factors_daily.CSV`, vintage: '202408' });
    expect(manifestAt(log, undefined, 'french_ff3').map((m) => m.partition).sort()).toEqual(['annual', 'daily', 'monthly']);

    served.set('/ftp/10_Industry_Portfolios_CSV.zip', streamedZip({ '10_Industry_Portfolios.CSV': bytesOf('10_Industry_Portfolios.CSV') }));
    const ind = await load(`${base}/ftp/10_Industry_Portfolios_CSV.zip`);
    expect(ind).toMatchObject({ dataset: 'french_ind10', vintage: '202104' });
    expect(ind.partitions.map((p) => `${p.partition}:${p.unit}:${p.rows}`)).toEqual([
      'vw_monthly:decimal:1138', 'ew_monthly:decimal:1138', 'vw_annual:decimal:94', 'ew_annual:decimal:94',
      'nfirms_monthly:count:1138', 'size_monthly:usd_millions:1138', 'bm_sum_annual:ratio:95', 'bm_vw_annual:ratio:95',
    ]);
    const q = await runQuery(dir, log, "SELECT section, hlth, unit FROM french_ind10 WHERE period = 192607 ORDER BY section");
    expect(q.rows).toEqual([
      { section: 'ew_monthly', hlth: 0.0245, unit: 'decimal' },
      { section: 'nfirms_monthly', hlth: 7, unit: 'count' },
      { section: 'size_monthly', hlth: 25.52, unit: 'usd_millions' },
      { section: 'vw_monthly', hlth: 0.0177, unit: 'decimal' },
    ]);
  });

  it('a --dataset name of the caller’s choosing', async () => {
    const res = await load(join(DATA, 'F-F_Research_Data_5_Factors_2x3_daily.CSV'), { dataset: 'ff5_french_daily' });
    expect(res).toMatchObject({ dataset: 'ff5_french_daily', vintage: '202408' });
    const q = await runQuery(dir, log, 'SELECT count(*) AS n, min(date) AS first, max(date) AS last FROM ff5_french_daily');
    expect(q.rows[0]).toEqual({ n: 15397, first: '1963-07-01', last: '2024-08-30' });
    expect((await refusal(load(join(DATA, 'F-F_Research_Data_5_Factors_2x3_daily.CSV'), { dataset: 'Bad-Name' }))).code).toBe('INVALID_ARGUMENT');
  });

  it('French renaming a series is schema drift: refused and recorded, the old version intact; accepted on request', async () => {
    await load(join(DATA, 'F-F_Research_Data_Factors.CSV'), { dataset: 'drift_ff3' });
    const renamed = join(files, 'F-F_Research_Data_Factors_renamed.CSV');
    writeFileSync(renamed, readFileSync(join(DATA, 'F-F_Research_Data_Factors.CSV'), 'latin1').replaceAll(',Mkt-RF,', ',Mkt,'), 'latin1');
    const before = manifestAt(log, undefined, 'drift_ff3');
    const e = await refusal(load(renamed, { dataset: 'drift_ff3' }));
    expect(e.code).toBe('SCHEMA_DRIFT');
    expect(e.message).toMatch(/mkt_rf/);
    expect(events(log, 'SchemaDriftDetected').at(-1)).toMatchObject({ data: { dataset: 'drift_ff3', accepted: false } });
    expect(events(log, 'SyncFailed').at(-1)).toMatchObject({ data: { dataset: 'drift_ff3', code: 'SCHEMA_DRIFT' } });
    expect(manifestAt(log, undefined, 'drift_ff3')).toEqual(before);
    const seq = log.head().seq;
    const ok = await load(renamed, { dataset: 'drift_ff3', acceptDrift: true });
    expect(ok.partitions.map((p) => p.status)).toEqual(['written', 'written']);
    const sql = "SELECT * EXCLUDE (smb, hml, rf, period, section, frequency, unit, vintage) FROM drift_ff3 WHERE section = 'monthly' AND period = 192607";
    expect((await runQuery(dir, log, sql)).rows).toEqual([{ date: '1926-07-31', mkt: 0.0296 }]);
    expect((await runQuery(dir, log, sql, { asOf: String(seq) })).rows).toEqual([{ date: '1926-07-31', mkt_rf: 0.0296 }]);
  });

  describe('a bad source records nothing (log head unchanged, no temporaries left)', () => {
    const text = readFileSync(join(DATA, 'F-F_Research_Data_Factors.CSV'), 'latin1');
    const cases: Record<string, () => Promise<string>> = {
      'a truncated file': async () => {
        const p = join(files, 'truncated.CSV');
        writeFileSync(p, text.slice(0, text.indexOf('195001,') + 12), 'latin1');
        return p;
      },
      'a corrupted date deep in the file': async () => {
        const p = join(files, 'F-F_Research_Data_Factors_bad.CSV');
        writeFileSync(p, text.replace('  2001,', '  2O01,'), 'latin1');
        return p;
      },
      'a zip with two CSV files': async () => {
        const p = join(files, 'two.zip');
        writeFileSync(p, zipSync({ 'a.CSV': strToU8(text), 'b.CSV': strToU8(text) }));
        return p;
      },
      'a zip with no CSV file': async () => {
        const p = join(files, 'none.zip');
        writeFileSync(p, zipSync({ 'readme.md': strToU8('hello') }));
        return p;
      },
      'a truncated zip': async () => {
        const p = join(files, 'cut.zip');
        const z = streamedZip({ 'F-F_Research_Data_Factors.CSV': strToU8(text) });
        writeFileSync(p, z.subarray(0, Math.floor(z.length / 2)));
        return p;
      },
      'an HTML error page served with 200': async () => {
        served.set('/oops.CSV', Buffer.from('<html><body>Service unavailable</body></html>\n'));
        return `${base}/oops.CSV`;
      },
    };

    it.each(Object.keys(cases))('%s → VALIDATION_FAILED', async (name) => {
      const source = await cases[name]!();
      const head = log.head();
      const e = await refusal(load(source));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.suggestion).toMatch(/nothing was written|Nothing was written/i);
      expect(log.head()).toEqual(head);
      expect(readdirSync(warehousePaths(dir).tmp).filter((f) => f.startsWith('french-'))).toEqual([]);
    });

    it('names the line of a malformed file', async () => {
      const e = await refusal(load(await cases['a corrupted date deep in the file']!()));
      expect(e.message).toMatch(/^line 1260: "2O01" is not a date/);
      expect(e.details['line']).toBe(1260);
    });

    it('a missing URL → SOURCE_UNAVAILABLE; a missing file → INVALID_ARGUMENT', async () => {
      const head = log.head();
      const e = await refusal(load(`${base}/nothing-here.CSV`));
      expect(e.code).toBe('SOURCE_UNAVAILABLE');
      expect(e.message).toContain('HTTP 404');
      expect((await refusal(load(join(files, 'nope.CSV')))).code).toBe('INVALID_ARGUMENT');
      expect(log.head()).toEqual(head);
    });
  });
});
