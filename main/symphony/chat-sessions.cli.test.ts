// Chat sessions with the real claude and codex CLIs against the mock model API: context
// and resume across turns, a client that goes away, and a gateway that crashes mid-turn.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { NormalizedEvent } from '../../shared/events.js';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { ProviderRegistry } from '../providers/registry.js';
import { claudeTestConfig, codexTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import type { ProviderId } from '../providers/types.js';
import { openDatabase, type Db } from '../store/database.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { ChatService, type ChatTurnRequest } from './chat-sessions.js';

const log = pino({ level: 'silent' });
const HOST = fileURLToPath(new URL('./testing/chat-crash-host.ts', import.meta.url));

let api: MockModelApi;
let dirs: TestDirs;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('chat-cli');
});

after(async () => {
  await api.close();
  dirs.cleanup();
});

interface Gateway {
  db: Db;
  supervisor: Supervisor;
  chats: ChatService;
  close(): Promise<void>;
}

/** What a gateway builds for chats, on the data dir `name` (the same name = the same database). */
function gateway(name: string): Gateway {
  const dataDir = join(dirs.root, name);
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(join(dataDir, 'symphony.db'));
  const supervisor = new Supervisor({ db, dataDir, log, graceMs: 1000, extraSearchDirs: [NODE_MODULES_BIN] });
  const providers = new ProviderRegistry([
    new ClaudeProvider(supervisor, claudeTestConfig(api, dirs.homes)),
    new CodexProvider(supervisor, codexTestConfig(api, dirs.homes)),
  ]);
  const chats = new ChatService({ db, providers, log, supervisor });
  return {
    db, supervisor, chats,
    async close() {
      await chats.close();
      await supervisor.stopAll();
      db.close();
    },
  };
}

async function drain(events: AsyncIterable<NormalizedEvent>): Promise<NormalizedEvent[]> {
  const all: NormalizedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const sentToModel = () => JSON.stringify(api.modelRequests().at(-1)?.body);

for (const provider of ['claude', 'codex'] as ProviderId[]) {
  describe(`chat sessions with the real ${provider} CLI`, () => {
    const request = (extra: Partial<ChatTurnRequest>): ChatTurnRequest => ({
      kind: 'ticket', scope: `T-${provider}`, provider, cwd: dirs.cwd, message: 'hi', confinement: { level: 'read', root: dirs.cwd },
      signal: new AbortController().signal, ...extra,
    });

    test('a ticket chat sends its context with the first message, then resumes the same CLI session', async () => {
      const gw = gateway(`context-${provider}`);
      try {
        api.script({ kind: 'text', text: 'first answer' }, { kind: 'text', text: 'second answer' });
        await drain(await gw.chats.send(request({ message: 'what is this ticket?', context: 'Ticket T-1: fix the flaky login test' })));
        assert.match(sentToModel(), /fix the flaky login test[\s\S]*what is this ticket\?/);
        const cliSessionId = gw.chats.list('ticket')[0].cliSessionId;
        assert.ok(cliSessionId);

        const second = await drain(await gw.chats.send(request({ message: 'and then?' })));
        const [session] = gw.chats.list('ticket');
        assert.equal(session.cliSessionId, cliSessionId);
        assert.equal(session.state, 'idle');
        assert.deepEqual(session.messages.map((m) => m.content), ['what is this ticket?', 'first answer', 'and then?', 'second answer']);
        assert.match(sentToModel(), /first answer[\s\S]*and then\?/);
        // Usage is per turn for both CLIs (codex's running totals are turned into this turn's share).
        assert.deepEqual(second.filter((e) => e.type === 'usage').map((e) => e.type === 'usage' && e.inputTokens), [12]);
      } finally {
        await gw.close();
      }
    });

    test('a client that goes away mid-turn stops the process tree; the session is killed', async () => {
      const gw = gateway(`abort-${provider}`);
      try {
        api.script({ kind: 'hang' });
        const requests = api.modelRequests().length;
        const client = new AbortController();
        const events = await gw.chats.send(request({ signal: client.signal }));
        const pid = gw.supervisor.list().find((p) => p.owner?.startsWith('chat:'))!.pid;
        const reading = drain(events);
        await api.waitForModelRequests(requests + 1);
        client.abort();
        const all = await reading;
        assert.equal(groupAlive(pid), false);
        assert.deepEqual(all.at(-2), { type: 'result', success: false, reason: 'killed' });
        assert.equal(gw.chats.list('ticket')[0].state, 'killed');
      } finally {
        await gw.close();
      }
    });

    test('a gateway crash mid-turn: the CLI dies with it (bubblewrap --die-with-parent), the restart closes its record and marks the turn interrupted', async () => {
      const dataDir = join(dirs.root, `crash-${provider}`);
      mkdirSync(dataDir, { recursive: true });
      api.script({ kind: 'hang' });
      const requests = api.modelRequests().length;
      // The crashing gateway is a process of its own, so it can die with SIGKILL.
      const host = spawn(process.execPath, ['--import', 'tsx', HOST, JSON.stringify({ dataDir, homes: dirs.homes, cwd: dirs.cwd, apiUrl: api.url, provider })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(createInterface({ input: host.stdout! }), 'line')) as [string];
      const { pid, sessionId } = JSON.parse(line) as { pid: number; sessionId: string };
      await api.waitForModelRequests(requests + 1);
      host.kill('SIGKILL');
      await once(host, 'exit');

      const gw = gateway(`crash-${provider}`);
      try {
        const [session] = gw.chats.list('terminal');
        assert.equal(session.id, sessionId);
        assert.equal(session.state, 'interrupted');
        assert.deepEqual(session.messages.map((m) => m.status), ['complete', 'interrupted']);
        // The sandboxed tree goes down with its parent; whatever is still dying, the reap finishes.
        const report = await gw.supervisor.reapOrphans();
        assert.deepEqual(report.processes.map((p) => p.record.owner), [`chat:${sessionId}`]);
        assert.equal(groupAlive(pid), false);
      } finally {
        await gw.close();
      }
    });
  });
}
