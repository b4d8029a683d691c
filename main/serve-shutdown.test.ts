// Issue 9, item 4: SIGTERM and SIGINT of a real `serve` stop agent turns first (each open chat
// stream ends status killed → result → done and reaches its client), then close the
// connections, then the database (the turns are recorded killed, not left to the next start
// to call interrupted). The turns are the real claude CLI waiting on the mock model API.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { NormalizedEvent } from '../shared/events.js';
import { setUpServe, startServe, type ServeSetup } from './cli/testing/serve.js';
import { openStream, readUntil } from './gateway/testing.js';
import { groupAlive } from './providers/testing/cli-env.js';
import type { MockModelApi } from './providers/testing/mock-model-api.js';

let setup: ServeSetup;
let api: MockModelApi;
let dataDir: string;

before(async () => {
  setup = await setUpServe('serve-shutdown');
  ({ api, dataDir } = setup);
});

after(() => setup.cleanup());

/** `tickets` chat turns that hang in claude, then `signal` to serve: what each stream said after, and how serve ended. */
async function stopWhileTurnsRun(signal: NodeJS.Signals, tickets: string[]) {
  const serve = await startServe(dataDir, [], setup.env);
  const requestsBefore = api.modelRequests().length;
  api.script(...tickets.map(() => ({ kind: 'hang' as const })));
  const streams = await Promise.all(
    tickets.map((ticketId) => openStream(serve.port, '/api/gateway/ticket-chat', { ticketId, message: 'wait', ticketContext: 'c' }, { 'X-Desktop-Gateway-Token': setup.token })),
  );
  const started = await Promise.all(streams.map((stream) => readUntil(stream.lines, 'status')));
  const pids = started.map((events) => {
    const status = events.at(-1);
    assert.ok(status?.type === 'status' && status.status === 'started' && status.pid, JSON.stringify(events));
    return status.pid as number;
  });
  // Every claude is waiting on its model answer.
  await api.waitForModelRequests(requestsBefore + tickets.length);
  serve.child.kill(signal);
  const closing = await Promise.all(streams.map((stream) => readUntil(stream.lines, 'done')));
  const code = await serve.exited;
  return { closing, pids, code, stderr: serve.stderr() };
}

function assertStoppedFirst(result: Awaited<ReturnType<typeof stopWhileTurnsRun>>, tickets: string[]): void {
  assert.equal(result.code, 0, result.stderr);
  for (const events of result.closing) {
    const tail = events.slice(-3).map((event: NormalizedEvent) => (event.type === 'status' ? `status ${event.status}` : event.type === 'result' ? `result ${event.reason}` : event.type));
    assert.deepEqual(tail, ['status killed', 'result killed', 'done'], 'each open stream got its closing events before the connection closed');
  }
  for (const pid of result.pids) assert.equal(groupAlive(pid), false, `claude (pid ${pid}) is gone`);
  // The database was closed after the turns ended: they are recorded killed, not running (which the next start would call interrupted).
  const db = new Database(join(dataDir, 'symphony.db'), { readonly: true });
  try {
    for (const ticketId of tickets) {
      const row = db.prepare("SELECT state FROM chat_sessions WHERE kind = 'ticket' AND scope = ? AND caller = 'token'").get(ticketId) as { state: string };
      assert.equal(row.state, 'killed', `the turn of ${ticketId}`);
      const last = db.prepare("SELECT m.status FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id WHERE s.scope = ? ORDER BY m.id DESC LIMIT 1").get(ticketId) as { status: string };
      assert.equal(last.status, 'killed');
    }
  } finally {
    db.close();
  }
}

test('SIGTERM stops every agent turn first: each stream ends status killed → result → done, no claude is left, the turns are recorded killed', async () => {
  const tickets = ['T-term-1', 'T-term-2'];
  assertStoppedFirst(await stopWhileTurnsRun('SIGTERM', tickets), tickets);
});

test('SIGINT does the same', async () => {
  const tickets = ['T-int-1'];
  assertStoppedFirst(await stopWhileTurnsRun('SIGINT', tickets), tickets);
});
