/**
 * `wh etl prices` killed with SIGKILL (while fetching, and between year merges) is resumed by the
 * next run, which ends with exactly the objects of an uninterrupted run; `wh audit --verify` is clean.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouseLog } from '../../src/store/index.js';
import { manifestAt } from '../../src/projections/index.js';
import { sessions } from '../../src/calendar/index.js';
import { cleanupTempDirs, runWh, spawnWh, tempDir } from '../support/wh-cli.js';

afterAll(() => cleanupTempDirs());

const ARGS = ['etl', 'prices', '--symbols', 'AAA,BBB,CCC', '--start', '2019-01-01', '--end', '2024-12-31', '--source', 'yahoo'];

async function warehouse(): Promise<string> {
  const root = tempDir('wh-etl-kill-');
  const wh = join(root, 'wh');
  expect((await runWh(['init', wh])).code).toBe(0);
  const days = sessions('2019-01-02', '2024-12-31');
  let csv = 'date,symbol,open,high,low,close,adjclose,volume\n';
  ['AAA', 'BBB', 'CCC'].forEach((sym, s) => days.forEach((d, i) => {
    const p = (20 + s * 7 + Math.cos(i / 9 + s) * 3).toFixed(4);
    csv += `${d},${sym},${p},${p},${p},${p},${p},${100 + i}\n`;
  }));
  writeFileSync(join(root, 'y.csv'), csv);
  const r = await runWh(['ingest', 'yahoo_daily', '-p', 'all', '-k', 'symbol,date', join(root, 'y.csv')], { warehouse: wh });
  expect(r.code, r.stderr).toBe(0);
  return wh;
}

function objects(dir: string): Record<string, string> {
  const log = openWarehouseLog(dir, { readonly: true });
  try {
    return Object.fromEntries(manifestAt(log, undefined, 'prices_daily').map((m) => [m.partition, m.object]));
  } finally {
    log.close();
  }
}

/** Run the ETL and SIGKILL it at the `n`th stderr line with `msg`. */
async function killAt(dir: string, msg: string, n: number): Promise<boolean> {
  const p = spawnWh(ARGS, { warehouse: dir });
  let seen = 0;
  p.child.stderr!.on('data', (d: Buffer) => {
    seen += (d.toString().match(new RegExp(`"msg":"${msg}"`, 'g')) ?? []).length;
    if (seen >= n) p.child.kill('SIGKILL');
  });
  const r = await p.result;
  return r.signal === 'SIGKILL';
}

describe('wh etl prices under SIGKILL', () => {
  it('resumes after kills while fetching and between merges, ending with the objects of an uninterrupted run', async () => {
    const reference = await warehouse();
    const ref = await runWh(ARGS, { warehouse: reference });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = objects(reference);
    expect(Object.keys(expected)).toEqual(['2019', '2020', '2021', '2022', '2023', '2024']);

    let kills = 0;
    for (const [msg, n] of [['fetched', 1], ['partition', 1], ['partition', 4]] as const) {
      const dir = await warehouse();
      if (await killAt(dir, msg, n)) kills += 1;
      const partial = Object.keys(objects(dir)).length;
      expect(partial).toBeLessThan(6);
      const done = await runWh([...ARGS, '--json'], { warehouse: dir });
      expect(done.code, done.stderr).toBe(0);
      if (partial > 0) expect(done.json().resumedRun).not.toBeNull();
      expect(objects(dir)).toEqual(expected);
      const verify = await runWh(['audit', '--verify', '--json'], { warehouse: dir });
      expect(verify.code, verify.stdout).toBe(0);
      // And once complete, a rerun writes nothing.
      const again = await runWh([...ARGS, '--json'], { warehouse: dir });
      expect(again.json().status).toBe('unchanged');
    }
    expect(kills).toBeGreaterThanOrEqual(2);
  });
});
