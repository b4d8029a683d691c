// The real claude CLI (node_modules/.bin) against the loopback mock model API, offline.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Supervisor } from '../supervisor/supervisor.js';
import { ClaudeProvider } from './claude.js';
import { claudeTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from './testing/cli-env.js';
import { collect, ofType, text } from './testing/events.js';
import { MockModelApi } from './testing/mock-model-api.js';
import type { TurnOptions } from './types.js';

let api: MockModelApi;
let dirs: TestDirs;
let supervisor: Supervisor;
let provider: ClaudeProvider;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('claude-provider');
  supervisor = new Supervisor({ extraSearchDirs: [NODE_MODULES_BIN], graceMs: 1000 });
  provider = new ClaudeProvider(supervisor, claudeTestConfig(api, dirs.homes));
});

after(async () => {
  await supervisor.stopAll();
  await api.close();
  dirs.cleanup();
});

function turnOptions(extra: Partial<TurnOptions> = {}): TurnOptions {
  return { prompt: 'hello', cwd: dirs.cwd, confinement: { level: 'write', root: dirs.cwd }, signal: new AbortController().signal, ...extra };
}


/** The conversation the CLI sent in its last model call, as JSON text. */
function lastSentMessages(request = api.modelRequests().at(-1)): string {
  return JSON.stringify((request?.body as { messages: unknown[] }).messages);
}

describe('ClaudeProvider with the real claude CLI', () => {
  test('a text turn streams deltas, the session id, usage and a successful result', async () => {
    api.script({ kind: 'text', text: 'Hello from the mock', chunks: 3 });
    const events = await collect(await provider.startTurn(turnOptions({ prompt: 'say hello' })));

    assert.equal(events[0].type, 'status');
    assert.equal(ofType(events, 'status')[0].status, 'started');
    assert.ok(ofType(events, 'status')[0].pid! > 0);
    assert.equal(ofType(events, 'sessionId').length, 1);
    assert.equal(text(events), 'Hello from the mock');
    assert.ok(ofType(events, 'text').length >= 2, 'text arrives as several deltas');
    assert.equal(ofType(events, 'usage')[0].outputTokens, 7);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    assert.deepEqual(events.at(-1), { type: 'done' });
    assert.match(lastSentMessages(), /say hello/);
  });

  test('thinking streams as thinking events, once', async () => {
    api.script({ kind: 'text', text: 'answer', thinking: 'let me think about it' });
    const events = await collect(await provider.startTurn(turnOptions()));
    assert.deepEqual(ofType(events, 'thinking'), [{ type: 'thinking', content: 'let me think about it' }]);
    assert.equal(text(events), 'answer');
  });

  test('a tool turn: claude runs the tool and sends its result back to the model', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'echo tool-ran-42', description: 'echo' }, id: 'toolu_echo' },
      { kind: 'text', text: 'The tool said tool-ran-42' },
    );
    const before = api.modelRequests().length;
    const events = await collect(await provider.startTurn(turnOptions({ prompt: 'run echo' })));

    assert.deepEqual(ofType(events, 'tool_use')[0], {
      type: 'tool_use', id: 'toolu_echo', name: 'Bash', input: { command: 'echo tool-ran-42', description: 'echo' },
    });
    const result = ofType(events, 'tool_result')[0];
    assert.equal(result.toolUseId, 'toolu_echo');
    assert.match(result.content, /tool-ran-42/);
    assert.equal(result.isError, false);
    assert.equal(api.modelRequests().length, before + 2);
    const messages = (api.modelRequests().at(-1)?.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    const toolResults = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((b) => b.type === 'tool_result');
    assert.equal(toolResults.at(-1).tool_use_id, 'toolu_echo');
    assert.match(JSON.stringify(toolResults.at(-1).content), /tool-ran-42/);
    assert.equal(text(events), 'The tool said tool-ran-42');
  });

  test('a tool that needs permission is asked through the approval callback; a denial stops it', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch denied.txt', description: 'touch' }, id: 'toolu_touch' },
      { kind: 'text', text: 'ok' },
    );
    const asked: string[] = [];
    const events = await collect(
      await provider.startTurn(turnOptions({ onApproval: async (ask) => (asked.push(ask.toolName), 'deny') })),
    );
    assert.deepEqual(asked, ['Bash']);
    assert.deepEqual(ofType(events, 'approval_request').map((e) => e.decision), [undefined, 'deny']);
    assert.equal(ofType(events, 'tool_result')[0].isError, true);
    assert.equal(existsSync(join(dirs.cwd, 'denied.txt')), false);
  });

  test('an allowed tool runs', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch allowed.txt', description: 'touch' } },
      { kind: 'text', text: 'ok' },
    );
    const events = await collect(await provider.startTurn(turnOptions({ onApproval: async () => 'allow' })));
    assert.equal(ofType(events, 'tool_result')[0].isError, false);
    assert.equal(existsSync(join(dirs.cwd, 'allowed.txt')), true);
  });

  test('bypassPermissions runs tools without asking (as root too: IS_SANDBOX is set for it)', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch bypassed.txt', description: 'touch' } },
      { kind: 'text', text: 'ok' },
    );
    const events = await collect(await provider.startTurn(turnOptions({ permissionMode: 'bypassPermissions' })));
    assert.equal(ofType(events, 'status')[0].mode, 'bypassPermissions');
    assert.equal(ofType(events, 'approval_request').length, 0);
    assert.equal(ofType(events, 'tool_result')[0].isError, false);
    assert.equal(existsSync(join(dirs.cwd, 'bypassed.txt')), true);
  });

  test('read-only mode offers reading tools only and never asks for approval', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch readonly.txt', description: 'touch' } },
      { kind: 'text', text: 'ok' },
    );
    let asked = false;
    const events = await collect(
      await provider.startTurn(turnOptions({ confinement: { level: 'read', root: dirs.cwd }, onApproval: async () => ((asked = true), 'allow') })),
    );
    const tools = (api.modelRequests().at(-2)?.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    assert.equal(tools.includes('Bash'), false);
    assert.ok(tools.includes('Read'));
    assert.equal(asked, false);
    assert.equal(ofType(events, 'tool_result')[0].isError, true);
    assert.equal(existsSync(join(dirs.cwd, 'readonly.txt')), false);
  });

  test('resume continues the session from its own cwd with the earlier messages', async () => {
    api.script({ kind: 'text', text: 'first answer' }, { kind: 'text', text: 'second answer' });
    const first = await collect(await provider.startTurn(turnOptions({ prompt: 'first question' })));
    const sessionId = ofType(first, 'sessionId')[0].sessionId;

    const second = await collect(await provider.startTurn(turnOptions({ prompt: 'second question', resumeSessionId: sessionId })));
    assert.equal(ofType(second, 'status')[0].status, 'resumed');
    assert.equal(ofType(second, 'sessionId')[0].sessionId, sessionId);
    assert.equal(text(second), 'second answer');
    const sent = JSON.stringify(api.modelRequests().at(-1)?.body);
    assert.match(sent, /first question/);
    assert.match(sent, /first answer/);
  });

  test('resuming a session the CLI does not know starts a new one seeded with the transcript', async () => {
    api.script({ kind: 'text', text: 'fresh answer' });
    const events = await collect(
      await provider.startTurn(
        turnOptions({
          prompt: 'and now?',
          resumeSessionId: randomUUID(),
          transcript: [
            { role: 'user', content: 'remember the word pelican' },
            { role: 'assistant', content: 'noted' },
          ],
        }),
      ),
    );
    const statuses = ofType(events, 'status').map((e) => e.status);
    assert.deepEqual(statuses, ['resumed', 'new_session']);
    assert.match(text(events), /could not be resumed/);
    assert.match(text(events), /fresh answer$/);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    assert.equal(ofType(events, 'error').length, 0);
    assert.match(lastSentMessages(), /pelican[\s\S]*and now\?/);
  });

  test('an API error ends the turn with an error and a failed result', async () => {
    api.script({ kind: 'error', status: 500, message: 'the mock is down' });
    const events = await collect(await provider.startTurn(turnOptions()));
    assert.equal(ofType(events, 'error').length, 1);
    assert.match(ofType(events, 'error')[0].message, /the mock is down/);
    assert.equal(ofType(events, 'result')[0].success, false);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('kill mid-turn stops the whole tree and ends the turn as killed', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const turn = await provider.startTurn(turnOptions());
    const pid = turn.pid!;
    const collecting = collect(turn);
    await api.waitForModelRequests(requests + 1);
    assert.ok(groupAlive(pid));
    await turn.kill();
    const events = await collecting;
    assert.equal(groupAlive(pid), false);
    assert.equal(ofType(events, 'status').at(-1)?.status, 'killed');
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'killed' }]);
    assert.equal(ofType(events, 'error').length, 0);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('a turn that goes silent is stopped by the idle watchdog', async () => {
    const watched = new ClaudeProvider(supervisor, { ...claudeTestConfig(api, dirs.homes), idleTimeoutMs: 3000 });
    api.script({ kind: 'hang' });
    const turn = await watched.startTurn(turnOptions());
    const events = await collect(turn);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'idle_timeout' }]);
    assert.match(ofType(events, 'error')[0].message, /idle_timeout/);
    assert.equal(groupAlive(turn.pid!), false);
  });

  test('aborting the signal (client gone) kills the turn', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const controller = new AbortController();
    const turn = await provider.startTurn(turnOptions({ signal: controller.signal }));
    const collecting = collect(turn);
    await api.waitForModelRequests(requests + 1);
    controller.abort();
    const events = await collecting;
    assert.equal(groupAlive(turn.pid!), false);
    assert.equal(ofType(events, 'result')[0].reason, 'killed');
  });

  test('the CLI crashing mid-stream ends the turn with an error, not a hang', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const turn = await provider.startTurn(turnOptions());
    const collecting = collect(turn);
    await api.waitForModelRequests(requests + 1);
    process.kill(turn.pid!, 'SIGKILL');
    const events = await collecting;
    assert.match(ofType(events, 'error')[0].message, /claude stopped before finishing the turn/);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'crashed' }]);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('a model stream cut mid-way fails the turn with the partial text kept', async () => {
    api.script({ kind: 'cut', text: 'partial answer that never ends' });
    const events = await collect(await provider.startTurn(turnOptions()));
    assert.equal(ofType(events, 'result')[0].success, false);
    assert.ok(ofType(events, 'error').length >= 1);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });
});
