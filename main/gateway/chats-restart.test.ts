// A headless gateway (`symphony-gateway serve`) dies with SIGKILL in the middle of a
// claude chat turn; the gateway started next on the same data dir reaps the orphaned CLI
// and shows the turn as interrupted, and the chat carries on.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { startTestGateway } from './testing.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
let api: MockModelApi;
let dirs: TestDirs;
let serve: ChildProcess | undefined;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('chats-restart');
});

after(async () => {
  // A failed assertion must not leave the headless gateway running.
  if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
  await api.close();
  dirs.cleanup();
});

/** Opens a chat turn on a gateway and returns the first event (its status, with the CLI's pid). */
async function startTurn(port: number, token: string): Promise<NormalizedEvent> {
  const body = JSON.stringify({ message: 'a turn that never ends' });
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1', port, path: '/api/gateway/terminal-chat', method: 'POST',
        headers: {
          Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)),
          'X-Desktop-Gateway-Token': token,
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(res.statusCode, 200);
  // The connection dies with the gateway later on: that is expected, not an error of the test.
  res.on('error', () => undefined);
  // Keep reading (and dropping) the stream: a client that stops reading is one that left.
  const line = await new Promise<string>((resolve) => {
    let buffered = '';
    res.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.includes('\n')) resolve(buffered.slice(0, buffered.indexOf('\n')));
    });
  });
  return NormalizedEvent.parse(JSON.parse(line));
}

test('a gateway killed mid-turn: the next one reaps the CLI, marks the turn interrupted, and the chat goes on', async () => {
  const dataDir = join(dirs.root, 'data');
  const claudeConfig = claudeTestConfig(api, dirs.homes);
  const configure = async (services: import('../services.js').Services) => {
    services.providers.register(new ClaudeProvider(services.supervisor, claudeConfig));
    await services.setWorkspaceRoot(dirs.cwd);
  };
  // A first gateway on the data dir makes the token and the workspace root the headless one will use.
  const first = await startTestGateway({ dataDir, configure });
  const token = first.token;
  await first.close();

  mkdirSync(join(dirs.root, 'home'), { recursive: true });
  serve = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    // The headless gateway takes the model API settings from its environment, as a user's would.
    env: { ...process.env, ...claudeConfig.env, PATH: `${NODE_MODULES_BIN}:${process.env.PATH}`, SYMPHONY_LOG_LEVEL: 'warn' },
  });
  const [listening] = (await once(createInterface({ input: serve.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(listening) as { port: number };

  api.script({ kind: 'hang' });
  const requests = api.modelRequests().length;
  const status = await startTurn(port, token);
  assert.equal(status.type, 'status');
  const pid = status.type === 'status' ? status.pid! : 0;
  await api.waitForModelRequests(requests + 1);
  serve.kill('SIGKILL');
  await once(serve, 'exit');
  // Inside the OS sandbox the CLI dies with the gateway (bubblewrap --die-with-parent), a
  // moment later or at once; without it, it lives on as an orphan. Either way the next
  // gateway must leave none running and mark the turn interrupted.

  const restarted = await startTestGateway({ dataDir, reapOrphans: true, binarySearchDirs: [NODE_MODULES_BIN], configure });
  try {
    assert.equal(groupAlive(pid), false, 'no CLI of the crashed gateway is left running');
    const history = await restarted.request('/api/gateway/terminal-chat', { auth: 'token' });
    const [session] = history.json.sessions;
    assert.equal(session.state, 'interrupted');
    assert.deepEqual(session.messages.map((m: { status: string }) => m.status), ['complete', 'interrupted']);

    api.script({ kind: 'text', text: 'back again' });
    const next = await restarted.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: 'still there?' }, auth: 'token' });
    assert.equal(next.status, 200);
    const events = next.text.trim().split('\n').map((line) => NormalizedEvent.parse(JSON.parse(line)));
    assert.deepEqual(events.at(-2), { type: 'result', success: true });
    const after = await restarted.request('/api/gateway/terminal-chat', { auth: 'token' });
    assert.equal(after.json.sessions[0].state, 'idle');
  } finally {
    await restarted.close();
  }
});
