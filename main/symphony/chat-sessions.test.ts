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
import { FakeProvider } from '../providers/fake.js';
import { ProviderRegistry } from '../providers/registry.js';
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
    kind: 'terminal', scope: '', provider: 'fake', cwd: dir, message: 'hi', confinement: { level: 'write', root: dir },
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
    assert.equal(session.provider, 'fake');
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

  test('an unknown provider is a 400 and leaves no turn behind', async () => {
    const service = chats();
    await assert.rejects(service.send(request({ provider: 'codex' })), (error: AppError) => error.status === 400);
    const [session] = service.list('terminal');
    assert.equal(session.state, 'failed');
    assert.deepEqual(session.messages.map((m) => m.status), ['complete', 'failed']);
  });
});
