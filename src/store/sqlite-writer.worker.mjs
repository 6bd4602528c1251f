// The tracking writer's SQLite connection, on its own thread: a batch of
// compiled statements (built by Kysely on the main thread, so the SQL is the
// same as everywhere else) runs in one IMMEDIATE transaction here, and the
// main thread keeps answering HTTP meanwhile. Plain JavaScript so it loads
// the same way under tsx, vitest or compiled output.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');

const statements = new Map();
function prepare(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= 200) statements.clear();
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

const runAll = db.transaction((queries) => {
  for (const query of queries) prepare(query.sql).run(...query.parameters);
});

parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    runAll.immediate(message.queries);
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
