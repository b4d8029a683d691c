// A lazy route family stays unloaded until its first authenticated request: no credential,
// a wrong one, or a paired origin on a desktop-only path is refused before its module is
// asked for, on the fast path (an exact path) and through Koa (a parameterised one).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RouteFamily } from './route-family.js';
import { routeFamilies } from './routes/index.js';
import { startTestGateway, type TestGateway } from './testing.js';

function family(name: string): RouteFamily & { kind: 'lazy' } {
  const found = routeFamilies.find((f): f is RouteFamily & { kind: 'lazy' } => f.kind === 'lazy' && f.name === name);
  assert.ok(found, `no lazy family ${name}`);
  return found;
}

describe('lazy route families', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.close());

  it('are not loaded at start', () => {
    const loaded = routeFamilies.filter((f) => f.kind === 'lazy' && f.loaded()).map((f) => (f as { name: string }).name);
    assert.deepEqual(loaded, []);
  });

  it('load on the first authenticated request to one of their paths, not before (exact path: the fast path)', async () => {
    const learnings = family('learnings');
    assert.equal((await gw.request('/api/gateway/learnings')).status, 401);
    assert.equal((await gw.request('/api/gateway/learnings', { headers: { 'X-Desktop-Gateway-Token': 'wrong' } })).status, 401);
    assert.equal(learnings.loaded(), false, 'refused requests load nothing');
    const res = await gw.request('/api/gateway/learnings', { auth: 'token' });
    assert.notEqual(res.status, 401);
    assert.equal(learnings.loaded(), true);
  });

  it('load on the first authenticated request through the router too (a parameterised path)', async () => {
    const deploy = family('deploy');
    assert.equal((await gw.request('/api/gateway/deploy/status/T-1')).status, 401);
    assert.equal(deploy.loaded(), false);
    const res = await gw.request('/api/gateway/deploy/status/T-1', { auth: 'token' });
    assert.notEqual(res.status, 401);
    assert.equal(deploy.loaded(), true);
    // The others are still where they were.
    assert.equal(family('codex').loaded(), false);
  });
});
