// Chat sessions over the in-process fake provider: persistence, one turn at a time,
// stopping (client gone, DELETE, reader gone) and restart after a crash. The real CLIs
// run through the same code in chat-sessions.cli.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { NormalizedEvent } from '../../shared/events.js';
import { AppError } from '../errors.js';
import { FAKE_PROVIDER_ID, FakeProvider } from '../providers/testing/fake-provider.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { Turn, TurnOptions } from '../providers/types.js';
import { openDatabase, type Db } from '../store/database.js';
import { ChatService, type ChatTurnRequest } from './chat-sessions.js';

const log = pino({ level: 'silent' });
let dir: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chat-sessions-'));
  db = openDatabase(join(dir, 'test.db'));
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function chats(fake = new FakeProvider({ deltas: 3 })): ChatService {
  return new ChatService({ db, providers: new ProviderRegistry([fake]), log });
}

function request(extra: Partial<ChatTurnRequest> = {}): ChatTurnRequest {
  return {
    kind: 'terminal', scope: '', provider: FAKE_PROVIDER_ID, cwd: dir, message: 'hi', confinement: { level: 'write', root: dir },
    signal: new AbortController().signal, ...extra,
  };
}

async function drain(events: AsyncIterable<NormalizedEvent>): Promise<NormalizedEvent[]> {
  const all: NormalizedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** Reads until the first text delta, so the turn is known to be mid-stream. */
async function readUntilText(events: AsyncIterable<NormalizedEvent>): Promise<AsyncIterator<NormalizedEvent>> {
  const iterator = events[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    assert.equal(next.done, false);
    if (next.value.type === 'text') return iterator;
  }
}

async function rest(iterator: AsyncIterator<NormalizedEvent>): Promise<NormalizedEvent[]> {
  const all: NormalizedEvent[] = [];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) all.push(next.value);
  return all;
}

describe('ChatService', () => {
  test('a turn stores both messages, the CLI session id, and the next turn resumes it', async () => {
    const service = chats();
    const first = await drain(await service.send(request({ message: 'first' })));
    assert.deepEqual(first.at(-1), { type: 'done' });

    const [session] = service.list('terminal');
    assert.equal(session.state, 'idle');
    assert.equal(session.provider, FAKE_PROVIDER_ID);
    assert.ok(session.cliSessionId);
    assert.deepEqual(session.messages.map((m) => [m.role, m.status]), [['user', 'complete'], ['assistant', 'complete']]);
    assert.equal(session.messages[0].content, 'first');
    assert.equal(session.messages[1].content, first.flatMap((e) => (e.type === 'text' ? [e.content] : [])).join(''));

    const second = await drain(await service.send(request({ message: 'second' })));
    assert.deepEqual(second[0], { type: 'status', status: 'resumed', pid: null, mode: 'default' });
    assert.deepEqual(second[1], { type: 'sessionId', sessionId: session.cliSessionId });
    assert.equal(service.list('terminal')[0].messages.length, 4);
  });

  test('sessions are per kind, scope and provider', async () => {
    const service = chats();
    await drain(await service.send(request({ kind: 'ticket', scope: 'T-1' })));
    await drain(await service.send(request({ kind: 'ticket', scope: 'T-2' })));
    await drain(await service.send(request()));
    assert.equal(service.list('ticket').length, 2);
    assert.equal(service.list('ticket', 'T-1').length, 1);
    assert.equal(service.list('terminal').length, 1);
  });

  test('a second turn while one runs is refused with 409 turn_in_progress', async () => {
    const service = chats(new FakeProvider({ deltas: 50, intervalMs: 5 }));
    const running = await service.send(request());
    const iterator = await readUntilText(running);
    await assert.rejects(service.send(request()), (error: AppError) => error.status === 409 && error.code === 'turn_in_progress');
    await rest(iterator);
    await drain(await service.send(request()));
  });

  test('the client going away stops its turn: state and message marked killed', async () => {
    const service = chats(new FakeProvider({ deltas: 1000, intervalMs: 5 }));
    const client = new AbortController();
    const iterator = await readUntilText(await service.send(request({ signal: client.signal })));
    client.abort();
    const events = await rest(iterator);
    assert.deepEqual(events.at(-2), { type: 'result', success: false, reason: 'killed' });
    const [session] = service.list('terminal');
    assert.equal(session.state, 'killed');
    assert.equal(session.messages[1].status, 'killed');
    assert.ok(session.messages[1].content.length > 0, 'the partial answer is kept');
  });

  test('a reader that stops reading mid-turn leaves the session killed, not running', async () => {
    const service = chats(new FakeProvider({ deltas: 1000, intervalMs: 1 }));
    const iterator = await readUntilText(await service.send(request()));
    await iterator.return?.();
    assert.equal(service.list('terminal')[0].state, 'killed');
    await drain(await service.send(request()));
  });

  test('end() stops the running turn and forgets the session', async () => {
    const service = chats(new FakeProvider({ deltas: 1000, intervalMs: 5 }));
    const iterator = await readUntilText(await service.send(request({ kind: 'ticket', scope: 'T-9' })));
    assert.deepEqual(await service.end('ticket', 'T-9'), { ended: 1 });
    const events = await rest(iterator);
    assert.equal(events.some((e) => e.type === 'result' && e.reason === 'killed'), true);
    assert.deepEqual(service.list('ticket'), []);
    assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM chat_messages').get(), { n: 0 });
  });

  test('turns left running by a crashed gateway are marked interrupted at the next start', async () => {
    const service = chats(new FakeProvider({ deltas: 1000, intervalMs: 5 }));
    await readUntilText(await service.send(request({ message: 'lost' })));
    assert.equal(service.list('terminal')[0].state, 'running');

    // A second service on the same database is what the restarted gateway builds.
    const restarted = chats();
    const [session] = restarted.list('terminal');
    assert.equal(session.state, 'interrupted');
    assert.deepEqual(session.messages.map((m) => m.status), ['complete', 'interrupted']);
    await drain(await restarted.send(request()));
    assert.equal(restarted.list('terminal')[0].state, 'idle');
    await service.close();
  });

  test('an unknown provider is a 400 and leaves nothing in the history', async () => {
    const service = chats();
    await assert.rejects(service.send(request({ provider: 'codex' })), (error: AppError) => error.status === 400);
    assert.deepEqual(service.list('terminal'), []);
  });

  test('a turn refused before it starts (429 at the agent cap) writes nothing: the conversation is as it was', async () => {
    class Refusing extends FakeProvider {
      refuse = false;
      override startTurn(options: TurnOptions): Promise<Turn> {
        return this.refuse ? Promise.reject(new AppError(429, 'too_many_agents', 'busy')) : super.startTurn(options);
      }
    }
    const fake = new Refusing({ deltas: 2 });
    const service = chats(fake);
    await drain(await service.send(request({ message: 'first' })));
    const [was] = service.list('terminal');
    fake.refuse = true;
    // Refused in its own folder, and refused after a move to another (the move is taken back too).
    for (const cwd of [dir, join(dir, 'elsewhere')]) {
      await assert.rejects(service.send(request({ message: 'refused', cwd })), (error: AppError) => error.code === 'too_many_agents');
      assert.deepEqual(service.list('terminal'), [was]);
    }
    assert.equal(service.started({ kind: 'terminal', scope: '', provider: FAKE_PROVIDER_ID }), true);
    // A new conversation refused on its first turn leaves no conversation at all.
    await assert.rejects(service.send(request({ kind: 'ticket', scope: 'T-new' })), (error: AppError) => error.status === 429);
    assert.deepEqual(service.list('ticket'), []);
    fake.refuse = false;
    await drain(await service.send(request({ message: 'second' })));
    assert.deepEqual(service.list('terminal')[0].messages.map((m) => [m.role, m.status]), [['user', 'complete'], ['assistant', 'complete'], ['user', 'complete'], ['assistant', 'complete']]);
  });

  test('stored messages, removal by index, responded marks and unread counts', async () => {
    const service = chats();
    const key = { kind: 'symphony' as const, scope: 'T-5', provider: FAKE_PROVIDER_ID };
    assert.equal(service.get(key), null);
    service.append(key, dir, { role: 'user', content: 'from the client', clientId: 'm-1', sender: 'ana' });
    await drain(await service.send(request({ ...key, message: 'a turn' })));
    const session = service.get(key)!;
    assert.deepEqual(session.messages.map((m) => [m.role, m.clientId, m.sender]), [
      ['user', 'm-1', 'ana'], ['user', undefined, undefined], ['assistant', undefined, undefined],
    ]);
    assert.equal(service.unreadCount('symphony'), 1, 'the last message is an unread reply');
    service.markRead(session.id);
    assert.equal(service.unreadCount('symphony'), 0);

    service.markResponded(key, undefined, true);
    assert.equal(service.get(key)!.messages[2].responded, true);
    service.markResponded(key, 'm-1', true);
    assert.equal(service.get(key)!.messages[0].responded, true);
    assert.throws(() => service.markResponded(key, 'nope', true), (error: AppError) => error.status === 404);

    service.removeMessage(key, 1);
    assert.deepEqual(service.get(key)!.messages.map((m) => m.role), ['user', 'assistant']);
    assert.throws(() => service.removeMessage(key, 2), (error: AppError) => error.status === 404);
  });

  test('conversations are per caller: same kind, scope and provider, separate histories', async () => {
    const service = chats();
    const key = { kind: 'symphony' as const, scope: 'T-6', provider: FAKE_PROVIDER_ID };
    await drain(await service.send(request({ ...key, caller: 'token', message: 'mine' })));
    service.append({ ...key, caller: 'origin:https://a.test' }, dir, { role: 'user', content: 'theirs' });
    assert.deepEqual(service.get({ ...key, caller: 'token' })!.messages.map((m) => m.content).slice(0, 1), ['mine']);
    assert.deepEqual(service.get({ ...key, caller: 'origin:https://a.test' })!.messages.map((m) => m.content), ['theirs']);
    assert.equal(service.get(key), null, "no caller is nobody's conversation");
    assert.equal(service.list('symphony', 'T-6', 'token').length, 1);
    assert.equal(service.unreadCount('symphony', 'token'), 1);
    assert.equal(service.unreadCount('symphony', 'origin:https://a.test'), 0);
    assert.deepEqual(await service.end('symphony', 'T-6', undefined, 'origin:https://a.test'), { ended: 1 });
    assert.ok(service.get({ ...key, caller: 'token' }));
  });

  test('an older database keeps its conversations through the migration that drops the kind CHECK', () => {
    db.exec(`CREATE TABLE chat_sessions (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('terminal', 'ticket', 'run_viewer')), scope TEXT NOT NULL,
        provider TEXT NOT NULL, cwd TEXT NOT NULL, cli_session_id TEXT, context TEXT, state TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, usage_totals TEXT, UNIQUE (kind, scope, provider));
      CREATE TABLE chat_messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL,
        status TEXT NOT NULL, created_at INTEGER NOT NULL);
      INSERT INTO chat_sessions VALUES ('s1', 'terminal', '', 'fake', '/tmp', 'cli-1', NULL, 'idle', 1, 2, NULL);
      INSERT INTO chat_messages (session_id, role, content, status, created_at) VALUES ('s1', 'user', 'kept', 'complete', 1);
      INSERT INTO schema_migrations (family, version) VALUES ('chats', 2);`);
    const service = chats();
    // Conversations from before callers were recorded belong to the desktop's own window.
    const [session] = service.list('terminal', undefined, 'renderer');
    assert.equal(session.cliSessionId, 'cli-1');
    assert.deepEqual(session.messages.map((m) => m.content), ['kept']);
    // The cascade still holds on the rebuilt tables.
    db.prepare("DELETE FROM chat_sessions WHERE id = 's1'").run();
    assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM chat_messages').get(), { n: 0 });
  });

  test("review chats from before they were keyed by caller become the desktop's own, so no paired origin reaches them", () => {
    chats();
    const key = { kind: 'review_finding' as const, scope: '/repo#T-1#F-1', provider: FAKE_PROVIDER_ID };
    db.exec(`INSERT INTO chat_sessions (id, caller, kind, scope, provider, cwd, state, created_at, updated_at)
      VALUES ('old', '', 'review_finding', '/repo#T-1#F-1', '${FAKE_PROVIDER_ID}', '/tmp', 'idle', 1, 2);
      UPDATE schema_migrations SET version = 5 WHERE family = 'chats';`);
    const service = chats();
    assert.equal(service.get({ ...key, caller: 'renderer' })?.id, 'old');
    assert.equal(service.get({ ...key, caller: 'origin:https://a.test' }), null);
    assert.equal(service.get(key), null);
  });
});
