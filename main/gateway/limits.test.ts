// What a hostile or broken client cannot do to the gateway: stall it with idle or
// half-sent connections, hold a body open forever, pair from a malformed Origin, point
// the cloud API at plain http, or walk out of owner/repo names. Real sockets.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FailureLimiter } from '../auth/rate-limit.js';
import { errorCode, sendRequest, startTestGateway, type TestGateway } from './testing.js';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('limits', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ headersTimeoutMs: 1_500, bodyReadTimeoutMs: 1_000 });
    // /health reports the tools; their first detection (a login shell, up to seconds) is not what is
    // measured here, nor the route families' import once listening (serve-start.test.ts checks that).
    await Promise.all([gw.services.toolAvailability(), gw.running.ready]);
  });
  after(() => gw.close());

  it('answers /health in under a second while 500 connections stall, and drops them after the headers timeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 500 }, () => open(gw.port)));
    sockets.forEach((socket, i) => {
      socket.on('error', () => undefined);
      // Half of them send part of a request line and stop; the rest send nothing at all.
      if (i % 2 === 0) socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\n`);
    });
    const started = performance.now();
    const health = await gw.request('/health');
    const ms = performance.now() - started;
    assert.equal(health.status, 200);
    assert.ok(ms < 1_000, `/health took ${ms.toFixed(0)} ms`);
    // The gateway's side is what matters: its connections go back to none.
    const connections = () => new Promise<number>((resolve) => gw.running.server.getConnections((_error, n) => resolve(n)));
    const deadline = Date.now() + 15_000;
    let left = await connections();
    while (left > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = await connections();
    }
    assert.equal(left, 0, `${left} idle or half-open connections still open on the gateway`);
    for (const socket of sockets) socket.destroy();
  });

  it('a body that never finishes gets 408 after the body-read deadline', async () => {
    const socket = await open(gw.port);
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `PATCH /api/gateway/desktop/config HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nX-Desktop-Gateway-Token: ${gw.token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"apiOrigin":',
    );
    const started = performance.now();
    await ended;
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.ok(performance.now() - started < 5_000);
  });

  it('an exchange from Origin null or a malformed origin is refused before anything else', async () => {
    for (const origin of ['null', 'https://app.example.test/path', 'https://*.example.test', 'file://', 'https://app.example.test:99999']) {
      const res = await gw.request('/gateway-auth/exchange', { method: 'POST', json: { challengeToken: 'x'.repeat(43) }, headers: { Origin: origin } });
      assert.equal(res.status, 400, `${origin}: ${res.text}`);
      assert.equal(errorCode(res), 'invalid_origin', origin);
    }
  });

  it('the cloud API origin must be https, except on loopback', async () => {
    const set = (apiOrigin: string) => gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { apiOrigin }, auth: 'token' });
    const plain = await set('http://api.example.test');
    assert.equal(plain.status, 400, plain.text);
    assert.equal(errorCode(plain), 'insecure_origin');
    for (const ok of ['https://api.example.test', 'http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787']) {
      const res = await set(ok);
      assert.equal(res.status, 200, `${ok}: ${res.text}`);
      assert.equal(res.json.apiOrigin, ok);
    }
  });

  it('owner and repo names refuse . and ..', async () => {
    for (const repoFullName of ['../..', './x', 'acme/..', 'acme/.']) {
      const res = await sendRequest(gw.port, gw.token, `/api/gateway/git/repo-path?repoFullName=${encodeURIComponent(repoFullName)}`, { auth: 'token' });
      assert.equal(res.status, 400, `${repoFullName}: ${res.text}`);
    }
  });
});

describe('FailureLimiter', () => {
  it('keeps a bounded map: expired windows are pruned and the oldest keys go first', () => {
    let now = 0;
    const limiter = new FailureLimiter(3, 1_000, () => now, 1_000);
    for (let i = 0; i < 5_000; i++) limiter.recordFailure(`https://guess-${i}.example.test`);
    assert.ok(limiter.size <= 1_000, `${limiter.size} entries`);
    for (let i = 0; i < 3; i++) limiter.recordFailure('https://last.example.test');
    assert.ok(limiter.retryAfterSeconds('https://last.example.test') > 0);
    now = 5_000;
    limiter.recordFailure('https://later.example.test');
    assert.equal(limiter.size, 1, 'expired windows are pruned');
  });
});
