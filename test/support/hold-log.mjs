// Holds a read connection on a warehouse log so that other processes' commits stay in the WAL
// (SQLite checkpoints only when the last connection closes). Prints {"event":"ready"} and waits
// to be SIGKILLed, which closes nothing: the WAL is left exactly as the last commit wrote it.
//   node hold-log.mjs <path to wh.log>
import Database from 'better-sqlite3';

const db = new Database(process.argv[2], { readonly: true });
db.prepare('SELECT count(*) FROM events').get();
process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n');
setInterval(() => db.prepare('SELECT 1').get(), 1000);
