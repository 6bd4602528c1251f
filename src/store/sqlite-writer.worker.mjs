// The tracking writer's SQLite connection, on its own thread: a batch of
// compiled statements (built by Kysely on the main thread, so the SQL is the
// same as everywhere else) runs in one IMMEDIATE transaction here, and the
// main thread keeps answering HTTP meanwhile. The batch's reads run first
// under the write lock; when their rows differ from what the main thread
// decided on, nothing is written and the rows go back (see BatchPlan). Plain JavaScript so it loads
// the same way under tsx, vitest or compiled output.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
// FULL or NORMAL (TRACKGUARD_SQLITE_SYNC): a fixed word, never other input.
db.pragma(workerData.sync === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
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

const runPlan = db.transaction((plan) => {
  const rows = plan.reads.map((query) => prepare(query.sql).raw(true).all(...query.parameters));
  if (JSON.stringify(rows) !== plan.expected) return rows;
  for (const query of plan.writes) prepare(query.sql).run(...query.parameters);
  return undefined;
});

parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const rows = runPlan.immediate(message);
    parentPort.postMessage({ id: message.id, rows });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
