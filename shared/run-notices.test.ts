import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRunNotices, runNotice } from './run-notices.js';

const run = (runId: string, status: string, lastError: string | null = null) => ({ runId, ticketId: `T-${runId}`, status, phase: 'x', lastError });

test('a run needs its user at the plan checkpoint, on failure and when interrupted; not while it works or when done', () => {
  assert.equal(runNotice(run('1', 'AWAITING_USER'))?.kind, 'plan_review');
  assert.equal(runNotice(run('1', 'FAILED', '\nThe plan could not be parsed: no <plan> block\nmore'))?.body, 'The plan could not be parsed: no <plan> block');
  assert.equal(runNotice(run('1', 'INTERRUPTED'))?.kind, 'interrupted');
  for (const status of ['STARTING', 'IN_PROGRESS', 'COMPLETED', 'STOPPED']) assert.equal(runNotice(run('1', status)), null, status);
});

test('notices come for runs that newly need the user, never on the first look nor twice for one state', () => {
  const first = [run('a', 'FAILED'), run('b', 'IN_PROGRESS')];
  assert.deepEqual(newRunNotices(null, first), [], 'opening the app does not replay old failures');
  const seen = new Map(first.map((r) => [r.runId, r.status]));
  const second = [run('a', 'FAILED'), run('b', 'AWAITING_USER'), run('c', 'FAILED'), run('d', 'IN_PROGRESS')];
  assert.deepEqual(newRunNotices(seen, second).map((n) => [n.run.runId, n.notice.kind]), [['b', 'plan_review'], ['c', 'failed']]);
});
