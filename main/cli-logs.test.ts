// serve's first-start help, `pair --ui`, `logs [--follow]` and `rotate-token`, as a user runs them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli as cli, startServe, type ServeProcess } from './cli/testing/serve.js';
import { sendRequest, until } from './gateway/testing.js';
import { logFilePath } from './telemetry/log-files.js';

const CLI = join(import.meta.dirname, 'cli.ts');

describe('serve, logs and rotate-token', () => {
  let dataDir: string;
  let serve: ServeProcess;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'symphony-cli-logs-'));
    serve = await startServe(dataDir);
  });
  after(() => {
    serve.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const exchange = (url: string) => {
    const challengeToken = decodeURIComponent(new URL(url).hash.replace(/^#challenge=/, ''));
    return sendRequest(serve.port, '', '/gateway-auth/exchange', { method: 'POST', json: { challengeToken }, headers: { Origin: serve.url } });
  };

  it('prints, on stderr for a person, a one-time /ui/ URL that pairs the UI, and how to get a fresh one', async () => {
    await until(() => /pair --ui/.test(serve.stderr()), 'the first-start text');
    const url = /(http:\/\/127\.0\.0\.1:\d+\/ui\/#challenge=\S+)/.exec(serve.stderr())?.[1];
    assert.ok(url, serve.stderr());
    assert.match(serve.stderr(), new RegExp(`log: ${logFilePath(dataDir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(serve.stdoutLines.length, 1, 'stdout keeps only the listening line');
    const first = await exchange(url);
    assert.equal(first.status, 200);
    assert.equal((await exchange(url)).status, 403, 'single use');
    const session = first.json.sessionToken as string;
    const sessions = JSON.parse((await cli(['sessions', '--json', '--data-dir', dataDir])).stdout).sessions;
    assert.equal(sessions.find((s: { origin: string }) => s.origin === serve.url)?.kind, 'renderer');
    assert.equal((await sendRequest(serve.port, '', '/api/gateway/desktop/sessions', { auth: { session, origin: serve.url } })).status, 200);
  });

  it('pair --ui prints a fresh one-time URL', async () => {
    const { code, stdout } = await cli(['pair', '--ui', '--data-dir', dataDir]);
    assert.equal(code, 0);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/ui\/#challenge=\S+)/.exec(stdout)?.[1];
    assert.ok(url, stdout);
    assert.equal((await exchange(url)).status, 200);
    assert.equal((await cli(['pair', '--ui', '--origin', 'https://x.test', '--data-dir', dataDir])).code, 2);
  });

  it('logs prints the log for a person (or as JSON), and --follow prints new lines as they come', async () => {
    const token = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    await sendRequest(serve.port, token, '/api/gateway/version', { auth: 'token' });
    const json = await cli(['logs', '--json', '--lines', '500', '--data-dir', dataDir]);
    assert.equal(json.code, 0);
    const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(lines.some((line) => line.msg === 'request' && line.route === '/api/gateway/version'));
    const human = await cli(['logs', '--data-dir', dataDir]);
    assert.match(human.stdout, /^\d{4}-\d\d-\d\dT\S+ INFO {2}request \{.*"route":"\/api\/gateway\/version"/m);

    const follow = spawn(process.execPath, ['--import', 'tsx', CLI, 'logs', '--follow', '--lines', '0', '--json', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follow.stdout.on('data', (chunk) => (out += chunk));
    // The follower starts at the end of the file, whenever it is up: keep sending until it has seen one.
    const sender = setInterval(() => void sendRequest(serve.port, token, '/api/gateway/repos', { auth: 'token' }), 300);
    try {
      await until(() => out.includes('"route":"/api/gateway/repos"'), 'the followed line', 20_000);
    } finally {
      clearInterval(sender);
      follow.kill('SIGTERM');
    }
    assert.equal(await new Promise((resolve) => follow.once('exit', (code) => resolve(code))), 0);
  });

  it('rotate-token replaces the token through the running gateway: the old one is refused at once', async () => {
    const old = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    assert.equal((await sendRequest(serve.port, old, '/api/gateway/version', { auth: 'token' })).status, 200);
    const rotated = await cli(['rotate-token', '--data-dir', dataDir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.doesNotMatch(rotated.stdout, /[A-Za-z0-9_-]{43}/, 'the new token is not printed');
    const refused = await sendRequest(serve.port, old, '/api/gateway/version', { auth: 'token' });
    assert.equal(refused.status, 401);
    const fresh = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    assert.notEqual(fresh, old);
    assert.equal((await sendRequest(serve.port, fresh, '/api/gateway/version', { auth: 'token' })).status, 200);
    // The CLI's own commands read the new one.
    assert.equal((await cli(['approvals', '--json', '--data-dir', dataDir])).code, 0);
  });
});
