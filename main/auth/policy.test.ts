import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../store/database.js';
import { ApprovalQueue } from './approvals.js';
import type { Caller } from './caller.js';
import { AGENT_OPERATIONS, OPERATION_IDS, ROUTE_TABLE } from '../../shared/operations.js';
import { AGENT_START, PAIRED_ORIGIN_PROMISE, PolicyService, TOOL_USE } from './policy.js';

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

describe('paired-origin defaults (issue 9)', () => {
  const write = (operation: Parameters<PolicyService['decide']>[0]['operation'], action: string | null, extra = {}) =>
    request({ operation, action, ...extra });

  it('asks before commits, branch switches, pulls, pushes, worktrees, uploads and every agent start; reads pass', () => {
    const p = policy();
    for (const action of ['commit', 'branch', 'pull', 'push', 'worktree-create', 'worktree-cleanup', 'worktree-delete', 'worktree-delete-force']) {
      assert.equal(p.decide(write('git_action', action)), 'ask', action);
    }
    assert.equal(p.decide(write('filesystem', 'upload')), 'ask');
    for (const operation of AGENT_OPERATIONS) assert.equal(p.decide(write(operation, AGENT_START)), 'ask', operation);
    for (const operation of OPERATION_IDS) {
      assert.equal(p.decide(request({ operation, access: 'read', method: 'GET', action: null })), 'allow', `${operation} read`);
    }
    assert.equal(p.decide(write('git_action', 'status', { access: 'read' })), 'allow');
    assert.equal(p.decide(write('terminal_chat', AGENT_START, { caller: { ...origin, kind: 'renderer' } })), 'allow');
  });

  it('lists every agent route of the table among the agent operations', () => {
    for (const entry of ROUTE_TABLE.filter((e) => e.agent)) assert.ok(AGENT_OPERATIONS.includes(entry.kind as never), entry.path);
    for (const path of ['/terminal-chat', '/ticket-chat', '/run-viewer-chat', '/symphony/chat/:ticketId', '/codex/review/:ticketId', '/symphony/launch', '/symphony/loop', '/symphony/commit-message/:ticketId', '/symphony/extract-learnings', '/chat']) {
      const entry = ROUTE_TABLE.find((e) => e.path === `/api/gateway${path}` && e.agent);
      assert.ok(entry, `${path} starts an agent`);
      assert.equal(entry.access, 'write');
    }
  });

  it("the pairing dialog's promise names what asks", () => {
    for (const words of ['starts an agent', 'commits', 'pushes', 'pulls', 'switches branches', 'worktrees', 'pull requests', 'uploads', 'deploys', 'repositories', 'binary-path', 'read']) {
      assert.ok(PAIRED_ORIGIN_PROMISE.includes(words), words);
    }
  });

  it('asks on the first turn of a conversation only; a deny still denies; force still asks', () => {
    const p = policy();
    const start = write('terminal_chat', AGENT_START, { scope: 'terminal' });
    assert.equal(p.decide(start), 'ask');
    assert.equal(p.decide({ ...start, continuing: true }), 'allow');
    assert.equal(p.decide({ ...start, continuing: true, forceApproval: true }), 'ask');
    p.replaceOverrides([{ callerKind: 'origin', operation: 'terminal_chat', access: 'write', action: AGENT_START, decision: 'deny' }]);
    assert.equal(p.decide({ ...start, continuing: true }), 'deny');
  });

  it('"allow always" on an agent start covers that conversation scope only', async () => {
    const approvals = new ApprovalQueue(5_000);
    const p = new PolicyService(openDatabase(':memory:'), approvals);
    const start = write('ticket_chat', AGENT_START, { scope: 'ticket:T-1' });
    approvals.once('pending', (approval) => {
      assert.equal(approval.scope, 'ticket:T-1');
      approvals.decide(approval.id, { decision: 'allow_always' });
    });
    await p.authorize({ ...start, args: {}, claimedReason: null, signal: new AbortController().signal });
    assert.equal(p.decide(start), 'allow');
    assert.equal(p.decide({ ...start, scope: 'ticket:T-2' }), 'ask');
    assert.equal(p.listRules()[0].scope, 'ticket:T-1');
  });

  it('caps the approvals one caller may have waiting (429), other callers unaffected', async () => {
    const approvals = new ApprovalQueue(5_000, 2);
    const p = new PolicyService(openDatabase(':memory:'), approvals);
    const stop = new AbortController();
    const ask = (caller: Caller) =>
      p.authorize({ ...request({ caller }), args: {}, claimedReason: null, signal: stop.signal }).catch((e: unknown) => e);
    const waiting = [ask(origin), ask(origin)];
    const third = (await ask(origin)) as { status: number; code: string; headers: Record<string, string> };
    assert.equal(third.status, 429);
    assert.equal(third.code, 'too_many_pending_approvals');
    assert.ok(third.headers['Retry-After']);
    const other = ask({ ...origin, origin: 'https://other.example.test' });
    assert.equal(approvals.list().length, 3, 'another origin still asks');
    stop.abort();
    await Promise.all([...waiting, other]);
  });

  it('the tool approver asks a paired origin and answers deny when the queue is full', async () => {
    const approvals = new ApprovalQueue(5_000, 1);
    const p = new PolicyService(openDatabase(':memory:'), approvals);
    const approver = p.toolApprover({ operation: 'terminal_chat', caller: origin, path: '/api/gateway/terminal-chat', scope: 'terminal' });
    const stopped = new AbortController();
    const first = approver({ requestId: '1', toolName: 'Bash', input: { command: 'ls' } }, stopped.signal);
    assert.equal(approvals.list()[0].action, TOOL_USE);
    assert.equal(await approver({ requestId: '2', toolName: 'Bash', input: {} }, stopped.signal), 'deny');
    approvals.decide(approvals.list()[0].id, { decision: 'allow_once' });
    assert.equal(await first, 'allow');
    const token = p.toolApprover({ operation: 'terminal_chat', caller: { ...origin, kind: 'token', origin: null }, path: '/api/gateway/terminal-chat' });
    assert.equal(await token({ requestId: '3', toolName: 'Bash', input: {} }, stopped.signal), 'allow');
  });
});
