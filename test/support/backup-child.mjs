// A backup / restore / gc / repair process that SIGKILLs itself at a chosen point, for the
// "killed part-way, a rerun finishes" tests. Imports the built library from dist/.
//
//   node backup-child.mjs backup <warehouse> <targetDir> <keyFile> <killAfterObjects>
//   node backup-child.mjs restore <targetDir> <keyFile> <outDir> <killAfterObjects>
//   node backup-child.mjs gc <warehouse>                 (killed between ObjectsCollected and unlink)
//   node backup-child.mjs repair <warehouse> <targetDir> <keyFile>  (killed once the first damaged object is quarantined)
import { openWarehouseLog, applyRetention } from '../../dist/src/store/index.js';
import { directoryTarget, loadKey, runBackup, restoreBackup, repairObjects } from '../../dist/src/backup/index.js';

const [mode, ...a] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');

if (mode === 'backup') {
  const [warehouse, targetDir, keyFile, after] = a;
  const log = openWarehouseLog(warehouse);
  await runBackup({
    dir: warehouse, log, name: 'nas', target: directoryTarget(targetDir), key: loadKey(keyFile),
    onProgress: (p) => { if (p.phase === 'objects' && p.done >= Number(after)) die(); },
  });
} else if (mode === 'restore') {
  const [targetDir, keyFile, out, after] = a;
  await restoreBackup({ target: directoryTarget(targetDir), key: loadKey(keyFile), out, onProgress: (done) => { if (done >= Number(after)) die(); } });
} else if (mode === 'gc') {
  const [warehouse] = a;
  const log = openWarehouseLog(warehouse);
  await applyRetention(log, warehouse, { onRecorded: die });
}
else if (mode === 'repair') {
  const [warehouse, targetDir, keyFile] = a;
  const log = openWarehouseLog(warehouse);
  await repairObjects(warehouse, log, directoryTarget(targetDir), loadKey(keyFile), 'nas', { onQuarantined: die });
}
process.stdout.write('finished without being killed\n');
