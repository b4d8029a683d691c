import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../store/database.js';
import { ApprovalQueue } from './approvals.js';
import type { Caller } from './caller.js';
import { PolicyService } from './policy.js';

const origin: Caller = { kind: 'origin', origin: 'https://app.example.test', sessionId: 'ses_1', claimedSource: null };
const request = (overrides: Partial<Parameters<PolicyService['decide']>[0]> = {}) => ({
  operation: 'repos_config' as const,
  caller: origin,
  method: 'POST',
  path: '/api/gateway/repos',
  access: 'write' as const,
  action: null,
  repoPath: '/work/repo',
  forceApproval: false,
  ...overrides,
});

function policy() {
  return new PolicyService(openDatabase(':memory:'), new ApprovalQueue(50));
}

describe('PolicyService.decide', () => {
  it('has safe defaults for a paired origin and trusts the token and renderer', () => {
    const p = policy();
    assert.equal(p.decide(request()), 'ask');
    assert.equal(p.decide(request({ access: 'read', method: 'GET' })), 'allow');
    assert.equal(p.decide(request({ caller: { ...origin, kind: 'token', origin: null } })), 'allow');
    assert.equal(p.decide(request({ caller: { ...origin, kind: 'renderer' } })), 'allow');
    assert.equal(p.decide(request({ operation: 'deploy' })), 'ask');
    assert.equal(p.decide(request({ operation: 'ticket_chat' })), 'allow');
  });

  it('lets deny beat ask beat allow across generic and action entries', () => {
    const p = policy();
    p.replaceOverrides([{ callerKind: 'origin', operation: 'git_action', access: 'write', decision: 'deny' }]);
    assert.equal(p.decide(request({ operation: 'git_action', action: 'commit' })), 'deny');
    assert.equal(p.decide(request({ operation: 'git_action', action: 'push' })), 'deny', 'the push default (ask) does not soften a deny');
    p.replaceOverrides([{ callerKind: 'origin', operation: 'git_action', access: 'write', action: 'push', decision: 'allow' }]);
    assert.equal(p.decide(request({ operation: 'git_action', action: 'push' })), 'allow');
  });

  it('turns allow into ask on force, and never turns deny into anything else', () => {
    const p = policy();
    assert.equal(p.decide(request({ operation: 'ticket_chat', forceApproval: true })), 'ask');
    p.replaceOverrides([{ callerKind: 'origin', operation: 'ticket_chat', access: 'write', decision: 'deny' }]);
    assert.equal(p.decide(request({ operation: 'ticket_chat', forceApproval: true })), 'deny');
  });

  it('expires "allow always" rules and scopes them to the repository', async () => {
    let now = 1_000_000;
    const approvals = new ApprovalQueue(5_000);
    const p = new PolicyService(openDatabase(':memory:'), approvals, () => now);
    approvals.once('pending', (approval) => approvals.decide(approval.id, { decision: 'allow_always', ruleExpiresInSeconds: 60 }));
    await p.authorize({ ...request(), args: {}, claimedReason: null, signal: new AbortController().signal });
    assert.equal(p.decide(request()), 'allow');
    assert.equal(p.decide(request({ repoPath: '/work/other' })), 'ask', 'a rule for one repository does not cover another');
    assert.equal(p.decide(request({ caller: { ...origin, origin: 'https://other.example.test' } })), 'ask');
    now += 61_000;
    assert.equal(p.decide(request()), 'ask');
  });
});
