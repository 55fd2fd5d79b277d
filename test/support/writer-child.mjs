// A scripted writer process for lease and fencing tests. It imports the built library from dist/
// (no TypeScript loader needed), prints one JSON line per step on stdout, and takes commands as
// lines on stdin, so a test can pause it (SIGSTOP) or hold a lease at an exact point.
//
//   node writer-child.mjs hold <warehouse> <scope> <ttlMs>
//     acquire the lease, print {"event":"acquired",...}; on stdin "release" release it and exit.
//   node writer-child.mjs ingest-pause <warehouse> <dataset> <partition> <file> <ttlMs> <step>
//     ingest <file> with the given lease TTL; after write step <step> print {"event":"paused",...}
//     and wait for "go" on stdin; then print {"event":"result",...} and exit 0 (written) or 1.
import { createInterface } from 'node:readline';
import { acquireLease, leaseProjection, releaseLease } from '../../dist/src/log/index.js';
import { openWarehouseLog } from '../../dist/src/store/index.js';
import { ingestFile } from '../../dist/src/sync/index.js';

const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
const lines = [];
const waiting = [];
createInterface({ input: process.stdin }).on('line', (l) => {
  lines.push(l.trim());
  waiting.splice(0).forEach((w) => w());
});
async function nextLine() {
  while (lines.length === 0) await new Promise((r) => waiting.push(r));
  return lines.shift();
}

const [mode, warehouse, ...rest] = process.argv.slice(2);
const log = openWarehouseLog(warehouse);
const me = log.processIdentity;

if (mode === 'hold') {
  const [scope, ttl] = rest;
  try {
    const lease = acquireLease(log, scope, { ttlMs: Number(ttl), purpose: 'test holder' });
    say({ event: 'acquired', pid: process.pid, writerId: me.writerId, ...lease });
    for (;;) {
      const cmd = await nextLine();
      if (cmd === 'release') {
        say({ event: 'released', ok: releaseLease(log, lease) });
        break;
      }
    }
  } catch (e) {
    say({ event: 'error', code: e.code ?? null, name: e.name, message: e.message });
    process.exitCode = 1;
  }
} else if (mode === 'ingest-pause') {
  const [dataset, partition, file, ttl, pauseAt] = rest;
  try {
    const res = await ingestFile({
      dir: warehouse,
      log,
      dataset,
      partition,
      file,
      key: ['id'],
      whVersion: 'test',
      leaseTtlMs: Number(ttl),
      onStep: async (step, info) => {
        if (step !== pauseAt) return;
        const lease = log.table(leaseProjection).current(`dataset:${dataset}`)?.value ?? null;
        say({ event: 'paused', step, pid: process.pid, writerId: me.writerId, lease, ...info });
        while ((await nextLine()) !== 'go');
      },
    });
    say({ event: 'result', ok: true, status: res.status, object: res.entry.object });
  } catch (e) {
    say({ event: 'result', ok: false, code: e.code ?? null, name: e.name, message: e.message });
    process.exitCode = 1;
  }
} else {
  say({ event: 'error', message: `unknown mode ${mode}` });
  process.exitCode = 1;
}
log.close();
process.stdin.destroy();
