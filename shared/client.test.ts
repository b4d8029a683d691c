import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GatewayClient, GatewayError } from './client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

// A real HTTP server standing in for the gateway's reply shapes, so the client's
// headers, bodies and error handling are checked on the wire.
describe('GatewayClient', () => {
  let server: Server;
  let baseUrl: string;
  let seen: Seen[] = [];
  let answer: (req: Seen) => { status: number; body?: string } = () => ({ status: 200, body: '{}' });

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        seen.push(request);
        const { status, body: replyBody } = answer(request);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(replyBody ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    seen = [];
    answer = () => ({ status: 200, body: '{}' });
  });

  it('exchanges a challenge without a credential, then sends the session token', async () => {
    answer = (req) =>
      req.url === '/gateway-auth/exchange'
        ? { status: 200, body: JSON.stringify({ sessionToken: 'sess-1', expiresAt: '2030-01-01T00:00:00Z' }) }
        : { status: 200, body: JSON.stringify({ sessions: [] }) };
    const client = new GatewayClient({ baseUrl });
    const reply = await client.exchange('challenge-1');
    assert.equal(reply.sessionToken, 'sess-1');
    assert.deepEqual(await client.listSessions(), { sessions: [] });

    const [exchange, list] = seen;
    assert.equal(exchange.method, 'POST');
    assert.equal(exchange.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(exchange.body), { challengeToken: 'challenge-1' });
    assert.equal(exchange.headers['x-desktop-session-token'], undefined);
    assert.equal(list.url, '/api/gateway/desktop/sessions');
    assert.equal(list.headers['x-desktop-session-token'], 'sess-1');
    assert.equal(list.headers['content-type'], undefined);
  });

  it('sends the gateway token header for a token credential', async () => {
    const client = new GatewayClient({ baseUrl, credential: { gatewayToken: 'gw-1' } });
    await client.getConfig();
    assert.equal(seen[0].headers['x-desktop-gateway-token'], 'gw-1');
    assert.equal(seen[0].headers['x-desktop-session-token'], undefined);
  });

  it('encodes ids into the path and sends decisions as JSON', async () => {
    const client = new GatewayClient({ baseUrl, credential: { session: 's' } });
    await client.decideApproval('a/b c', 'allow_always', 3600);
    await client.decideApproval('x', 'allow_once', 3600);
    await client.revokeSession('../x');
    assert.equal(seen[0].url, '/api/gateway/desktop/approvals/a%2Fb%20c');
    assert.deepEqual(JSON.parse(seen[0].body), { decision: 'allow_always', ruleExpiresInSeconds: 3600 });
    assert.deepEqual(JSON.parse(seen[1].body), { decision: 'allow_once' });
    assert.equal(seen[2].method, 'DELETE');
    assert.equal(seen[2].url, '/api/gateway/desktop/sessions/..%2Fx');
  });

  it('turns an error reply into a GatewayError and reports a 401', async () => {
    answer = () => ({ status: 401, body: JSON.stringify({ error: 'Session revoked.', code: 'session_revoked' }) });
    const unauthorized: GatewayError[] = [];
    const client = new GatewayClient({ baseUrl, credential: { session: 's' }, onUnauthorized: (e) => unauthorized.push(e) });
    await assert.rejects(client.listApprovals(), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'session_revoked');
      assert.equal(error.message, 'Session revoked.');
      return true;
    });
    assert.equal(unauthorized.length, 1);
  });

  it('keeps going on a reply that is not JSON', async () => {
    answer = () => ({ status: 502, body: 'Bad gateway' });
    const onUnauthorized = () => assert.fail('not a 401');
    const client = new GatewayClient({ baseUrl, credential: { session: 's' }, onUnauthorized });
    await assert.rejects(client.healthCheck(), { name: 'GatewayError', status: 502, code: 'bad_reply', message: 'Bad gateway' });
  });

  it('reports an unreachable gateway as status 0', async () => {
    const client = new GatewayClient({ baseUrl: 'http://127.0.0.1:1' });
    await assert.rejects(client.version(), { name: 'GatewayError', status: 0, code: 'network_error' });
  });
});
