import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PendingApproval } from '../auth/approvals.js';
import type { Session } from '../auth/sessions.js';
import { countPairedOrigins, describeApproval, statusLines } from './status.js';

const session = (origin: string, kind: Session['kind']): Session => ({
  id: `ses_${origin}_${kind}`,
  origin,
  kind,
  createdAt: 0,
  lastUsedAt: 0,
  expiresAt: 1,
});

test('paired origins are distinct browser origins, not the app window', () => {
  const sessions = [
    session('https://a.example.com', 'origin'),
    session('https://a.example.com', 'origin'),
    session('https://b.example.com', 'origin'),
    session('app://symphony', 'renderer'),
  ];
  assert.equal(countPairedOrigins(sessions), 2);
  assert.equal(countPairedOrigins([]), 0);
});

test('status lines name the port and counts, and waiting approvals only when there are some', () => {
  assert.deepEqual(statusLines({ port: 19432, pairedOrigins: 1, runningProcesses: 0, pendingApprovals: 0 }), [
    'Gateway on 127.0.0.1:19432',
    '1 paired origin',
    '0 running processes',
  ]);
  assert.equal(statusLines({ port: 19433, pairedOrigins: 2, runningProcesses: 1, pendingApprovals: 3 }).at(-1), '3 approvals waiting');
});

test('an approval notification says who asks for what and marks claims as claims', () => {
  const approval: PendingApproval = {
    id: 'apr_1',
    operation: 'git_pr',
    method: 'POST',
    path: '/api/gateway/git/pr',
    access: 'write',
    action: 'create',
    caller: { kind: 'origin', origin: 'https://app.example.com', claimedSource: 'executor' },
    claimedReason: 'open the PR for ticket 42',
    args: {},
    repoPath: '/home/me/repo',
    createdAt: '',
    expiresAt: '',
  };
  assert.deepEqual(describeApproval(approval), {
    title: 'Approval requested',
    body: [
      'https://app.example.com asks to run git_pr (create) on /home/me/repo.',
      'Source (as claimed): executor',
      'Reason (as claimed): open the PR for ticket 42',
    ].join('\n'),
  });
  const fromToken = describeApproval({ ...approval, caller: { kind: 'token', origin: null, claimedSource: null }, claimedReason: null, action: null, repoPath: null });
  assert.equal(fromToken.body, 'A local tool asks to run git_pr.');
});
