// The headless CLI as a user runs it: real processes, one data dir shared by all commands.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli as cli, startServe, type ServeProcess } from './cli/testing/serve.js';
import { sendRequest } from './gateway/testing.js';
import { NODE_MODULES_BIN } from './providers/testing/cli-env.js';

const APP = 'https://app.example.test';

describe('symphony-gateway CLI', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let port: number;
  let stdoutLines: string[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'symphony-cli-'));
    serve = await startServe(dataDir);
    assert.equal(serve.listening.event, 'listening');
    port = serve.port;
    stdoutLines = serve.stdoutLines;
    assert.equal(serve.url, `http://127.0.0.1:${port}`);
  });

  after(() => {
    serve.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a token that authenticates, and nothing else on stdout while serving', async () => {
    const { code, stdout } = await cli(['token', '--data-dir', dataDir]);
    assert.equal(code, 0);
    const token = stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await sendRequest(port, token, '/api/gateway/version', { auth: 'token' })).status, 200);
    assert.equal(stdoutLines.length, 1, 'serve prints only the listening line on stdout');
  });

  it('pairs an origin through the running gateway', async () => {
    const { code, stdout } = await cli(['pair', '--origin', APP, '--json', '--data-dir', dataDir]);
    assert.equal(code, 0);
    const challenge = JSON.parse(stdout);
    assert.equal(challenge.origin, APP);
    const exchange = await sendRequest(port, '', '/gateway-auth/exchange', {
      method: 'POST',
      json: { challengeToken: challenge.challengeToken },
      headers: { Origin: APP },
    });
    assert.equal(exchange.status, 200);
    const sessions = await cli(['sessions', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(sessions.stdout).sessions[0].origin, APP);
  });

  it("prints a /ui/ URL with the challenge in the fragment for the gateway's own origin", async () => {
    const own = `http://127.0.0.1:${port}`;
    const { stdout } = await cli(['pair', '--origin', own, '--json', '--data-dir', dataDir]);
    const challenge = JSON.parse(stdout);
    assert.equal(challenge.url, `${own}/ui/#challenge=${challenge.challengeToken}`);
  });

  it('approves a waiting request from the command line', async () => {
    const token = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    const challenge = JSON.parse((await cli(['pair', '--origin', APP, '--json', '--data-dir', dataDir])).stdout);
    const session = (
      await sendRequest(port, token, '/gateway-auth/exchange', { method: 'POST', json: { challengeToken: challenge.challengeToken }, headers: { Origin: APP } })
    ).json.sessionToken;
    const waiting = sendRequest(port, token, '/api/gateway/version', {
      auth: { session, origin: APP },
      headers: { 'X-Desktop-Force-Approval': '1', 'X-Desktop-Approval-Reason': 'cli test' },
    });
    let listed: Array<{ id: string }> = [];
    for (let i = 0; i < 50 && listed.length === 0; i++) {
      listed = JSON.parse((await cli(['approvals', '--json', '--data-dir', dataDir])).stdout).approvals;
    }
    assert.equal(listed.length, 1);
    const approve = await cli(['approve', listed[0].id, '--data-dir', dataDir]);
    assert.equal(approve.code, 0, approve.stderr);
    assert.equal((await waiting).status, 200);
    const again = await cli(['approve', listed[0].id, '--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No pending approval/);
  });

  it('reads the API key from stdin only', async () => {
    const refused = await cli(['set-api-key', 'sk-on-argv-never', '--data-dir', dataDir]);
    assert.notEqual(refused.code, 0);
    const saved = await cli(['set-api-key', '--data-dir', dataDir], 'sk-desktop-key-123\n');
    assert.equal(saved.code, 0, saved.stderr);
    const token = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    const config = await sendRequest(port, token, '/api/gateway/desktop/config', { auth: 'token' });
    assert.equal(config.json.apiKeySet, true);
    assert.ok(!config.text.includes('sk-desktop-key-123'));
  });

  it('keeps settings in the data dir and refuses bad origins', async () => {
    const set = await cli(['config', '--api-origin', 'https://api.example.test', '--allowed-origin', APP, '--json', '--data-dir', dataDir]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout).allowedOrigins, [APP]);
    const bad = await cli(['config', '--allowed-origin', '*', '--data-dir', dataDir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /exact origin/);
  });

  it('sets the agents\' environment, the sandbox switch and binary paths; a secret value is never printed', async () => {
    const claudeBin = join(NODE_MODULES_BIN, 'claude');
    const set = await cli([
      'config', '--agent-env', 'CORP_API_KEY=sk-corp-secret-7', '--agent-env', 'DISABLE_AUTOUPDATER=1', '--agent-env', 'EXTRA_PASSED',
      '--agent-confinement', 'off', '--binary', `claude=${claudeBin}`, '--data-dir', dataDir,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.doesNotMatch(set.stdout + set.stderr, /sk-corp-secret-7/);
    assert.match(set.stdout, /CORP_API_KEY=\(secret, set\)/);
    assert.match(set.stdout, /DISABLE_AUTOUPDATER=1/);
    assert.match(set.stdout, /agent sandbox: +OFF/);
    assert.match(set.stdout, new RegExp(`claude=${claudeBin}`));
    const token = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    // The running gateway sees the CLI's writes (the settings are re-read within a second).
    let config = await sendRequest(port, token, '/api/gateway/desktop/config', { auth: 'token' });
    for (let i = 0; i < 30 && config.json.agentConfinement.enabled !== false; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      config = await sendRequest(port, token, '/api/gateway/desktop/config', { auth: 'token' });
    }
    assert.equal(config.json.agentConfinement.enabled, false);
    assert.deepEqual(config.json.agentEnv.pass, ['EXTRA_PASSED']);
    assert.ok(config.json.agentEnv.entries.some((entry: { name: string; secret: boolean }) => entry.name === 'CORP_API_KEY' && entry.secret));
    assert.doesNotMatch(config.text, /sk-corp-secret-7/);
    const binaries = await sendRequest(port, token, '/api/gateway/settings/binary-paths', { auth: 'token' });
    assert.equal(binaries.json.binaryPaths.claude, claudeBin);

    const unset = await cli(['config', '--unset', 'CORP_API_KEY', '--unset', 'EXTRA_PASSED', '--agent-confinement', 'on', '--binary', 'claude=', '--json', '--data-dir', dataDir]);
    assert.equal(unset.code, 0, unset.stderr);
    const view = JSON.parse(unset.stdout);
    assert.equal(view.agentConfinement.enabled, true);
    assert.deepEqual(view.agentEnv.pass, []);
    assert.ok(!view.agentEnv.entries.some((entry: { name: string }) => entry.name === 'CORP_API_KEY'));
    const refused = await cli(['config', '--agent-env', 'LD_PRELOAD=/x.so', '--data-dir', dataDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /LD_PRELOAD cannot be set/);
    const badBinary = await cli(['config', '--binary', 'vim=/usr/bin/vim', '--data-dir', dataDir]);
    assert.equal(badBinary.code, 2);
  });

  it('config is all or nothing: a bad workspace root keeps a good --binary and origin unsaved, a bad --binary a good root', async () => {
    const claudeBin = join(NODE_MODULES_BIN, 'claude');
    const before = JSON.parse((await cli(['config', '--json', '--data-dir', dataDir])).stdout);
    const badRoot = await cli([
      'config', '--binary', `claude=${claudeBin}`, '--api-origin', 'https://changed.example.test', '--workspace-root', join(dataDir, 'no-such-folder'), '--data-dir', dataDir,
    ]);
    assert.notEqual(badRoot.code, 0);
    assert.match(badRoot.stderr, /workspace root does not exist/);
    const goodRoot = mkdtempSync(join(tmpdir(), 'symphony-cli-root-'));
    const badBinary = await cli(['config', '--workspace-root', goodRoot, '--binary', `codex=${join(goodRoot, 'no-codex')}`, '--data-dir', dataDir]);
    assert.notEqual(badBinary.code, 0);
    assert.match(badBinary.stderr, /binaryPaths\.codex/);
    const after = JSON.parse((await cli(['config', '--json', '--data-dir', dataDir])).stdout);
    assert.deepEqual([after.apiOrigin, after.workspaceRoot], [before.apiOrigin, before.workspaceRoot], 'neither failed update changed a setting');
    const token = (await cli(['token', '--data-dir', dataDir])).stdout.trim();
    const binaries = await sendRequest(port, token, '/api/gateway/settings/binary-paths', { auth: 'token' });
    assert.deepEqual([binaries.json.binaryPaths.claude, binaries.json.binaryPaths.codex], [null, null], 'no binary override was saved');
    rmSync(goodRoot, { recursive: true, force: true });
  });

  it('shows, pauses and resumes the relay of the running gateway; the relay origin must be https', async () => {
    const paused = await cli(['relay', 'pause', '--json', '--data-dir', dataDir]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(JSON.parse(paused.stdout).paused, true);
    const status = await cli(['relay', 'status', '--data-dir', dataDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /cloud commands paused/);
    assert.match(status.stdout, /origin: +https:\/\/api\.example\.test/);
    // What the user registers with the cloud for PoP: the gateway id and its Ed25519 public key, the same on every status.
    assert.match(status.stdout, /gateway id: gw_[0-9a-f-]{36}\npublic key: [A-Za-z0-9_-]{43} \(Ed25519, raw, base64url\)/);
    assert.equal(JSON.parse(paused.stdout).identity.gatewayId, /gateway id: (\S+)/.exec(status.stdout)![1]);
    const resumed = await cli(['relay', 'resume', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(resumed.stdout).paused, false);
    const insecure = await cli(['config', '--relay-origin', 'http://relay.example.test', '--data-dir', dataDir]);
    assert.equal(insecure.code, 1);
    assert.match(insecure.stderr, /must use https/);
    const loopback = await cli(['config', '--relay-origin', 'http://127.0.0.1:9', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(loopback.stdout).relayOrigin, 'http://127.0.0.1:9');
  });

  it('refuses a second gateway on the same data dir', async () => {
    const second = await cli(['serve', '--port', '0', '--data-dir', dataDir]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already serves/);
  });

  it('stops cleanly on SIGTERM', async () => {
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
    assert.equal(existsSync(join(dataDir, 'gateway.json')), false);
  });
});
