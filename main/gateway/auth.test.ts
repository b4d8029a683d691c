// The auth model over real sockets: Host, credentials, Origin binding, CORS, body types.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROUTE_TABLE } from '../../shared/operations.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';
const EVIL = 'https://evil.example.test';

describe('gateway auth', () => {
  let gw: TestGateway;
  let session: string;

  before(async () => {
    gw = await startTestGateway();
    session = await gw.pair(APP);
  });
  after(() => gw.close());

  it('serves /health without credentials and leaks no paths or names', async () => {
    const res = await gw.request('/health');
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.port, gw.port);
    assert.equal(typeof res.json.capabilities.tools.git, 'boolean');
    for (const secret of [gw.dataDir, process.env.HOME ?? '/root', gw.token]) assert.ok(!res.text.includes(secret));
    assert.ok(res.headers['x-request-id']);
  });

  it('refuses a foreign Host before anything else (DNS rebinding)', async () => {
    for (const host of ['evil.example.test', `evil.example.test:${gw.port}`, `127.0.0.1:${gw.port + 1}`, '127.0.0.1']) {
      const res = await gw.request('/health', { headers: { Host: host } });
      assert.equal(res.status, 421, host);
      assert.equal(res.json.code, 'host_not_allowed');
    }
    for (const host of [`localhost:${gw.port}`, `LocalHost:${gw.port}`, `[::1]:${gw.port}`]) {
      assert.equal((await gw.request('/health', { headers: { Host: host } })).status, 200, `${host}: ours, whatever its letter case`);
    }
    const ui = await gw.request('/ui/', { headers: { Host: `rebound.example.test:${gw.port}` } });
    assert.equal(ui.status, 421, 'the static renderer is behind the Host check too');
    for (const host of [`localhost:${gw.port}`, `[::1]:${gw.port}`]) {
      assert.equal((await gw.request('/health', { headers: { Host: host } })).status, 200, host);
    }
  });

  it('answers every authenticated route with 401 when no credential is sent', async () => {
    const routes = gw.running.routes.filter((route) => !['/health', '/gateway-auth/exchange'].includes(route.path));
    assert.ok(routes.length >= ROUTE_TABLE.length - 2);
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, 'x').replace(/\*([A-Za-z]+)/g, 'x/y');
      const res = await gw.request(path, { method: route.method });
      assert.equal(res.status, 401, `${route.method} ${route.path}`);
      assert.equal(res.json.code, 'unauthorized');
    }
  });

  it('finds a route the same way through the exact lookup and the router (slash, case, HEAD, parameters)', async () => {
    const exact = await gw.request('/api/gateway/version', { auth: 'token' });
    assert.equal(exact.status, 200);
    for (const spelling of ['/api/gateway/version/', '/API/Gateway/Version']) {
      const res = await gw.request(spelling, { auth: 'token' });
      assert.deepEqual([res.status, res.json], [exact.status, exact.json], spelling);
    }
    assert.equal((await gw.request('/api/gateway/version', { method: 'HEAD', auth: 'token' })).status, 200);
    assert.equal((await gw.request('/api/gateway/version', { method: 'POST', auth: 'token', json: {} })).status, 404);
    const param = await gw.request('/api/gateway/desktop/sessions/ses_missing', { method: 'DELETE', auth: 'token' });
    assert.equal(param.json.code, 'session_not_found');
  });

  it('registers every route of the table and only routes of the table', () => {
    const registered = new Set(gw.running.routes.map((r) => `${r.method} ${r.path}`));
    for (const entry of ROUTE_TABLE) assert.ok(registered.has(`${entry.method} ${entry.path}`), `${entry.method} ${entry.path}`);
    assert.equal(registered.size, ROUTE_TABLE.length);
  });

  it("loads every lazy family's routes: each in the table and under its own family's prefixes", async () => {
    const loaded = await gw.running.loadRoutes();
    assert.deepEqual(loaded.map((r) => `${r.method} ${r.path}`), gw.running.routes.map((r) => `${r.method} ${r.path}`));
  });

  it('accepts the gateway token from a local tool and refuses it from a browser', async () => {
    assert.equal((await gw.request('/api/gateway/version', { auth: 'token' })).status, 200);
    const nodeFetch = await gw.request('/api/gateway/version', { auth: 'token', headers: { 'Sec-Fetch-Mode': 'cors' } });
    assert.equal(nodeFetch.status, 200, "Node's fetch sends Sec-Fetch-Mode alone");
    const browserHeaders: Array<Record<string, string>> = [{ Origin: APP }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Dest': 'empty' }];
    for (const headers of browserHeaders) {
      const res = await gw.request('/api/gateway/version', { auth: 'token', headers });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.json.code, 'token_from_browser');
    }
    const wrong = await gw.request('/api/gateway/version', { headers: { 'X-Desktop-Gateway-Token': 'x'.repeat(43) } });
    assert.equal(wrong.status, 401);
  });

  it('binds a session to its exact origin', async () => {
    const ok = await gw.request('/api/gateway/version', { auth: { session, origin: APP } });
    assert.equal(ok.status, 200);
    for (const origin of [EVIL, `${APP}:443`, 'http://app.example.test', `${APP}.evil.test`, 'null']) {
      const res = await gw.request('/api/gateway/version', { auth: { session, origin } });
      assert.equal(res.status, 403, origin);
      assert.equal(res.json.code, 'origin_mismatch');
    }
    const noOrigin = await gw.request('/api/gateway/version', { headers: { 'X-Desktop-Session-Token': session } });
    assert.equal(noOrigin.status, 403);
    assert.equal(noOrigin.json.code, 'origin_required');
    const unknown = await gw.request('/api/gateway/version', { auth: { session: 'nope'.repeat(11), origin: APP } });
    assert.equal(unknown.status, 401);
  });

  it('keeps a paired origin away from desktop-only routes', async () => {
    for (const [method, path] of [
      ['GET', '/api/gateway/desktop/sessions'],
      ['GET', '/api/gateway/desktop/approvals'],
      ['PUT', '/api/gateway/desktop/policies'],
      ['POST', '/gateway-auth/challenge'],
    ] as const) {
      const res = await gw.request(path, { method, auth: { session, origin: APP }, json: method === 'GET' ? undefined : {} });
      assert.equal(res.status, 403, path);
      assert.equal(res.json.code, 'desktop_only');
    }
  });

  it('answers CORS preflights only for known origins, with the private-network grant', async () => {
    const preflight = (origin: string) =>
      gw.request('/api/gateway/version', {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'x-desktop-session-token',
          'Access-Control-Request-Private-Network': 'true',
        },
      });
    const allowed = await preflight(APP);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    assert.equal(allowed.headers['access-control-allow-private-network'], 'true');
    assert.match(String(allowed.headers['access-control-allow-headers']), /X-Desktop-Session-Token/);
    assert.match(String(allowed.headers['access-control-allow-headers']), /X-Desktop-Force-Approval/);
    assert.equal(allowed.headers['access-control-allow-credentials'], undefined);
    assert.match(String(allowed.headers.vary), /Origin/);

    const denied = await preflight(EVIL);
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    const simple = await gw.request('/health', { headers: { Origin: EVIL } });
    assert.equal(simple.headers['access-control-allow-origin'], undefined);
  });

  it('answers preflights for configured web-app origins before they pair', async () => {
    const webApp = 'https://symphony.example.test';
    gw.services.config.setAllowedOrigins([webApp]);
    const res = await gw.request('/gateway-auth/exchange', {
      method: 'OPTIONS',
      headers: { Origin: webApp, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], webApp);
    gw.services.config.setAllowedOrigins([]);
  });

  it('refuses bodies a page could send without a preflight (415)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await gw.request('/gateway-auth/challenge', {
        method: 'POST',
        auth: 'token',
        body: JSON.stringify({ origin: APP }),
        headers: { 'Content-Type': type },
      });
      assert.equal(res.status, 415, type);
      assert.equal(res.json.code, 'unsupported_media_type');
    }
  });

  it('never reads a token from the URL', async () => {
    const res = await gw.request(`/api/gateway/version?token=${gw.token}&x-desktop-gateway-token=${gw.token}`);
    assert.equal(res.status, 401);
  });
});
