// The approval policy over real sockets: ask waits for a person, decisions are single
// use, deny and timeouts name the operation, "allow always" stores a rule.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MAX_PENDING_PER_CALLER } from '../auth/approvals.js';
import { startTestGateway, type TestGateway, type TestResponse } from './testing.js';

const APP = 'https://app.example.test';

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('approval policy', () => {
  let gw: TestGateway;
  let session: string;
  const asApp = { session: '', origin: APP };

  const pending = async () => (await gw.request('/api/gateway/desktop/approvals', { auth: 'token' })).json.approvals as Array<{
    id: string;
    operation: string;
    caller: { kind: string; origin: string; claimedSource: string | null };
    claimedReason: string | null;
    args: unknown;
  }>;
  const nextPending = () => waitFor(async () => (await pending())[0], 'a pending approval');
  const decide = (id: string, decision: string) =>
    gw.request(`/api/gateway/desktop/approvals/${id}`, { method: 'POST', json: { decision }, auth: 'token' });
  const setPolicies = (policies: unknown[]) => gw.request('/api/gateway/desktop/policies', { method: 'PUT', json: { policies }, auth: 'token' });

  before(async () => {
    gw = await startTestGateway();
    session = await gw.pair(APP);
    asApp.session = session;
  });
  beforeEach(async () => {
    await setPolicies([]);
    for (const rule of (await gw.request('/api/gateway/desktop/rules', { auth: 'token' })).json.rules) {
      await gw.request(`/api/gateway/desktop/rules/${rule.id}`, { method: 'DELETE', auth: 'token' });
    }
  });
  after(() => gw.close());

  it('lets a forced approval wait, shows the claims as claims, and completes on allow', async () => {
    const waiting = gw.request('/api/gateway/version?x=1', {
      auth: asApp,
      headers: { 'X-Desktop-Force-Approval': '1', 'X-Desktop-Approval-Reason': 'Ship it', 'X-Desktop-Source': 'executor' },
    });
    const approval = await nextPending();
    assert.equal(approval.operation, 'health_check');
    assert.equal(approval.caller.origin, APP);
    assert.equal(approval.caller.claimedSource, 'executor');
    assert.equal(approval.claimedReason, 'Ship it');
    assert.equal((await decide(approval.id, 'allow_once')).status, 200);
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.equal(res.json.version, gw.services.version);
  });

  it('never replays a decision: the same request asks again, the same id is gone', async () => {
    const first = gw.request('/api/gateway/version', { auth: asApp, headers: { 'X-Desktop-Force-Approval': '1' } });
    const approval = await nextPending();
    await decide(approval.id, 'allow_once');
    assert.equal((await first).status, 200);
    assert.equal((await decide(approval.id, 'allow_once')).status, 404);

    const second = gw.request('/api/gateway/version', { auth: asApp, headers: { 'X-Desktop-Force-Approval': '1' } });
    const again = await nextPending();
    assert.notEqual(again.id, approval.id);
    await decide(again.id, 'deny');
    const denied = await second;
    assert.equal(denied.status, 403);
    assert.equal(denied.json.code, 'policy_denied');
    assert.equal(denied.json.details.operation, 'health_check');
  });

  it('applies defaults: a paired origin reads binary paths freely, is asked to change them or commit, the token is not', async () => {
    const decision = gw.services.policy.decide({
      operation: 'binary_paths_settings',
      caller: { kind: 'origin', origin: APP, sessionId: null, claimedSource: null },
      method: 'GET',
      path: '/api/gateway/settings/binary-paths',
      access: 'read',
      action: null,
      repoPath: null,
      forceApproval: false,
    });
    assert.equal(decision, 'allow');
    const push = (kind: 'origin' | 'token', action: string) =>
      gw.services.policy.decide({
        operation: 'git_action',
        caller: { kind, origin: kind === 'origin' ? APP : null, sessionId: null, claimedSource: null },
        method: 'POST',
        path: '/api/gateway/git',
        access: 'write',
        action,
        repoPath: '/repo',
        forceApproval: false,
      });
    assert.equal(push('origin', 'push'), 'ask');
    assert.equal(push('origin', 'commit'), 'ask');
    assert.equal(push('origin', 'status'), 'allow');
    assert.equal(push('token', 'push'), 'allow');
  });

  it('denies what the policy denies, naming the operation, and deny beats force', async () => {
    await setPolicies([{ callerKind: 'origin', operation: 'health_check', access: 'read', decision: 'deny' }]);
    const res = await gw.request('/api/gateway/version', { auth: asApp, headers: { 'X-Desktop-Force-Approval': '1' } });
    assert.equal(res.status, 403);
    assert.match(res.json.error, /health_check/);
    assert.equal((await pending()).length, 0);
    assert.equal((await gw.request('/api/gateway/version', { auth: 'token' })).status, 200);
  });

  it('stores "allow always" as a rule that answers the next ask, until it is deleted', async () => {
    await setPolicies([{ callerKind: 'origin', operation: 'health_check', access: 'read', decision: 'ask' }]);
    const first = gw.request('/api/gateway/version', { auth: asApp });
    await decide((await nextPending()).id, 'allow_always');
    assert.equal((await first).status, 200);
    assert.equal((await gw.request('/api/gateway/version', { auth: asApp })).status, 200, 'the rule allows without asking');
    assert.equal((await pending()).length, 0);

    const rules = (await gw.request('/api/gateway/desktop/rules', { auth: 'token' })).json.rules;
    assert.equal(rules.length, 1);
    assert.equal(rules[0].operation, 'health_check');
    assert.equal(rules[0].origin, APP);
    assert.equal(rules[0].path, '/api/gateway/version');
    await gw.request(`/api/gateway/desktop/rules/${rules[0].id}`, { method: 'DELETE', auth: 'token' });

    const asked = gw.request('/api/gateway/version', { auth: asApp });
    await decide((await nextPending()).id, 'deny');
    assert.equal((await asked).status, 403);
  });

  it('"allow always" on a commit never lets a push through: rules store and match the action and access', async () => {
    await setPolicies([{ callerKind: 'origin', operation: 'git_action', access: 'write', decision: 'ask' }]);
    const post = (action: string) => ({
      operation: 'git_action' as const,
      caller: { kind: 'origin' as const, origin: APP, sessionId: 'sess', claimedSource: null },
      method: 'POST',
      path: '/api/gateway/git',
      access: 'write' as const,
      action,
      repoPath: '/repo',
      forceApproval: false,
      args: {},
      claimedReason: null,
      signal: new AbortController().signal,
    });
    const commit = gw.services.policy.authorize(post('commit'));
    await decide((await nextPending()).id, 'allow_always');
    await commit;
    assert.equal(gw.services.policy.decide(post('commit')), 'allow', 'the rule allows the same action');
    assert.equal(gw.services.policy.decide(post('push')), 'ask', 'a commit rule must not allow a push');
    const rules = (await gw.request('/api/gateway/desktop/rules', { auth: 'token' })).json.rules;
    const rule = rules.find((r: { operation: string }) => r.operation === 'git_action');
    assert.deepEqual([rule.action, rule.access], ['commit', 'write']);
    await gw.request(`/api/gateway/desktop/rules/${rule.id}`, { method: 'DELETE', auth: 'token' });
  });

  it('withdraws the approval when the client goes away', async () => {
    const aborted = new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: gw.port,
        path: '/api/gateway/version',
        headers: { Host: `127.0.0.1:${gw.port}`, Origin: APP, 'X-Desktop-Session-Token': session, 'X-Desktop-Force-Approval': '1' },
      });
      req.on('error', () => resolve());
      req.end();
      void nextPending().then(() => {
        req.destroy();
        resolve();
      });
    });
    await aborted;
    await waitFor(async () => ((await pending()).length === 0 ? true : undefined), 'the approval to be withdrawn');
  });

  it('caps the approvals one paired origin may have waiting at 20: the 21st is 429 with Retry-After, another origin still asks', async () => {
    const ask = (auth: { session: string; origin: string }, i: number) =>
      gw.request(`/api/gateway/version?n=${i}`, { auth, headers: { 'X-Desktop-Force-Approval': '1' } });
    const waiting = Array.from({ length: MAX_PENDING_PER_CALLER }, (_, i) => ask(asApp, i));
    await waitFor(async () => ((await pending()).length === MAX_PENDING_PER_CALLER ? true : undefined), 'twenty waiting approvals');
    const refused = await ask(asApp, 99);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.code, 'too_many_pending_approvals');
    assert.equal(typeof refused.json.error, 'string');
    assert.deepEqual(refused.json.details, { pending: MAX_PENDING_PER_CALLER, limit: MAX_PENDING_PER_CALLER });
    assert.ok(Number(refused.headers['retry-after']) > 0);
    const other = 'https://other.example.test';
    const otherAsk = ask({ session: await gw.pair(other), origin: other }, 100);
    await waitFor(async () => ((await pending()).some((approval) => approval.caller.origin === other) ? true : undefined), "the other origin's approval");
    for (const approval of await pending()) assert.equal((await decide(approval.id, 'deny')).status, 200);
    assert.deepEqual([...new Set((await Promise.all([...waiting, otherAsk])).map((reply: TestResponse) => reply.status))], [403]);
  });

  it('validates decisions and policy edits', async () => {
    const bad = await gw.request('/api/gateway/desktop/approvals/apr_x', { method: 'POST', json: { decision: 'yes' }, auth: 'token' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.details.issues[0].field, 'decision');
    const badPolicy = await setPolicies([{ callerKind: 'origin', operation: 'rm_rf', access: 'read', decision: 'allow' }]);
    assert.equal(badPolicy.status, 400);
    assert.equal(badPolicy.json.details.issues[0].field, 'policies.0.operation');
  });
});

describe('approval timeout', () => {
  it('answers 408 naming the operation when nobody decides', async () => {
    const gw = await startTestGateway({ approvalTimeoutMs: 300 });
    try {
      const session = await gw.pair(APP);
      const res: TestResponse = await gw.request('/api/gateway/version', {
        auth: { session, origin: APP },
        headers: { 'X-Desktop-Force-Approval': '1' },
      });
      assert.equal(res.status, 408);
      assert.equal(res.json.code, 'approval_timeout');
      assert.equal(res.json.details.operation, 'health_check');
    } finally {
      await gw.close();
    }
  });
});
