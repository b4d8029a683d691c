// What `serve` imports before its port opens, and that the requests arriving the moment it
// says "listening" are checked exactly as later ones. zod (the route schemas), the route
// families, Koa, koa-body and the relay client load once listening (ARCHITECTURE "Start:
// what loads when"); a request that needs them sooner waits for them, never skips a check.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServe, type ServeProcess } from './cli/testing/serve.js';
import { errorCode, sendRequest, type TestResponse } from './gateway/testing.js';

/** Loaded after the port opens, never before: a path fragment of each (routes/index.ts, the list of families, loads before). */
const AFTER_LISTENING = ['/node_modules/zod/', '/node_modules/koa/', '/node_modules/@koa/router/', '/node_modules/koa-body/', '/node_modules/socket.io-client/', '/main/gateway/routes/', '/main/gateway/openapi.', '/main/relay/client.', '/shared/schemas/'];

describe('serve start', () => {
  let dir: string;
  let serve: ServeProcess;
  let first: TestResponse[];
  const moduleLog = () => readFileSync(join(dir, 'modules.log'), 'utf8').split('\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'symphony-serve-start-'));
    const dataDir = join(dir, 'data');
    const token = (await runCli(['token', '--data-dir', dataDir, '--secret-store', 'file'])).stdout.trim();
    assert.ok(token.length > 20, 'the data dir has its gateway token');
    serve = await startServe(dataDir, [], { ...process.env, SYMPHONY_MODULE_LOG: join(dir, 'modules.log') }, ['--import', join(import.meta.dirname, 'cli', 'testing', 'module-log.mjs')]);
    // At once, all together: the credential checks, a route of an eager family, and a body through Koa and its schema.
    const at = (path: string, options: Parameters<typeof sendRequest>[3] = {}) => sendRequest(serve.port, token, path, options);
    first = await Promise.all([
      at('/api/gateway/version'),
      at('/api/gateway/version', { headers: { 'X-Desktop-Gateway-Token': 'wrong' } }),
      at('/api/gateway/version', { auth: 'token' }),
      at('/api/gateway/desktop/config', { auth: 'token', method: 'PATCH', json: { workspaceRoot: 42 } }),
      at('/api/gateway/desktop/config', { auth: 'token', headers: { Origin: 'https://evil.example.test' } }),
    ]);
  });
  after(() => {
    serve?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports no schema, route family, Koa, body parser or relay client before the port opens, and all of them after', () => {
    const lines = moduleLog();
    const listening = lines.indexOf('-- listening');
    assert.ok(listening > 0, 'the module log has the listening mark');
    const before = lines.slice(0, listening);
    assert.ok(before.some((url) => url.endsWith('/main/cli.ts')), 'the log records our own modules');
    const early = before.filter((url) => AFTER_LISTENING.some((part) => url.includes(part)) && !url.endsWith('/main/gateway/routes/index.ts'));
    assert.deepEqual(early, [], 'imported before the port opened');
    const later = lines.slice(listening);
    for (const part of ['/node_modules/zod/', '/node_modules/koa/', '/main/gateway/routes/health.']) {
      assert.ok(later.some((url) => url.includes(part)), `${part} loads once listening`);
    }
  });

  it('checks the first requests exactly as later ones: 401 without or with a wrong credential, 200 with the token, 400 naming the field, the token with an Origin 403', () => {
    const [none, wrong, token, badBody, withOrigin] = first;
    assert.equal(none.status, 401, none.text);
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(token.status, 200, token.text);
    assert.equal((token.json as { version?: unknown }).version, serve.listening.version);
    assert.equal(badBody.status, 400, badBody.text);
    assert.equal(errorCode(badBody), 'invalid_input');
    assert.match(badBody.text, /workspaceRoot/);
    assert.equal(withOrigin.status, 403, withOrigin.text);
    assert.equal(errorCode(withOrigin), 'token_from_browser');
  });
});
