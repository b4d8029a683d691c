// The headless gateway as a user runs it (`serve` as a real process): what used to end
// it, what it writes to disk and with which permissions, what it tells a person.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServe, type ServeProcess } from './cli/testing/serve.js';
import { errorCode, sendRequest } from './gateway/testing.js';

describe('serve', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let token: string;
  const request = (path: string, options: Parameters<typeof sendRequest>[3] = {}) =>
    sendRequest(serve.port, token, path, { auth: 'token', ...options });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'symphony-serve-'));
    // What a data dir made by an older version (or by hand) under umask 022 looks like.
    chmodSync(dataDir, 0o755);
    serve = await startServe(dataDir);
    token = (await runCli(['token', '--data-dir', dataDir])).stdout.trim();
  });
  after(() => {
    serve.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a bad workspace root with an error and keeps running; a good one replies with the new setting', async () => {
    const bad = await request('/api/gateway/desktop/config', { method: 'PATCH', json: { workspaceRoot: '~/no-such-folder-symphony-test' } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(errorCode(bad), 'invalid_workspace_root');
    const relative = await request('/api/gateway/desktop/config', { method: 'PATCH', json: { workspaceRoot: 'code' } });
    assert.equal(relative.status, 400, relative.text);
    assert.equal(serve.child.exitCode, null, `serve exited: ${serve.stderr()}`);
    assert.equal((await request('/health', { auth: undefined })).status, 200);

    const dir = join(dataDir, 'projects');
    mkdirSync(dir, { mode: 0o700 });
    const good = await request('/api/gateway/desktop/config', { method: 'PATCH', json: { workspaceRoot: dir } });
    assert.equal(good.status, 200, good.text);
    assert.equal(good.json.workspaceRoot, realpathSync(dir));
  });

  it('the CLI config and the route are one settings module: what one sets, the other shows', async () => {
    const set = await runCli(['config', '--allowed-origin', 'https://a.example.test', '--json', '--data-dir', dataDir]);
    assert.equal(set.code, 0, set.stderr);
    const view = await request('/api/gateway/desktop/config');
    assert.deepEqual(view.json.allowedOrigins, ['https://a.example.test']);
    assert.deepEqual(Object.keys(JSON.parse(set.stdout)).sort(), Object.keys(view.json).sort());
  });

  it('keeps its data private: the data dir 0700 (tightened, and said so), every folder in it 0700, the database, its -wal/-shm and every file 0600', async () => {
    const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
    assert.equal(process.umask() & 0o077, 0o022 & process.umask(), 'runs under the usual umask');
    await request('/api/gateway/desktop/config', { method: 'PATCH', json: { apiOrigin: 'https://api.example.test' } });
    assert.equal(mode(dataDir), '700');
    assert.match(serve.stderr(), /tightened/i);
    for (const name of ['symphony.db', 'symphony.db-wal', 'symphony.db-shm']) assert.equal(mode(join(dataDir, name)), '600', name);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? [join(dir, entry.name), ...walk(join(dir, entry.name))] : [join(dir, entry.name)]));
    for (const entry of walk(dataDir)) assert.equal(mode(entry), statSync(entry).isDirectory() ? '700' : '600', entry);
  });
});
