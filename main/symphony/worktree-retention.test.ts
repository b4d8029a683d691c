// Worktree retention with real git: merged, discarded, dirty, unmerged and commit-less
// worktrees of finished runs; the kept days counted from when the merge was first seen or
// the discard; removal only when due and clean; sizes on disk; and the CLI (`runs --json`,
// `runs prune --dry-run`, `runs prune`) on the same data dir.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/testing/serve.js';
import { bootId } from '../supervisor/procfs.js';
import { startTimeOf } from '../supervisor/start-time.js';
import { startTestGateway, type TestGateway } from '../gateway/testing.js';
import type { RunRow, RunStatus } from './run-store.js';
import { createRunRepo, sh } from './testing/run-fixture.js';
import { RETENTION_SETTINGS, retentionDecision, type RetentionFacts } from './worktree-retention.js';

const DAY = 86_400_000;

describe('the retention rule', () => {
  const finished = { status: 'COMPLETED' as RunStatus, discardedAt: null, host: null };
  const clean: RetentionFacts = { exists: true, merged: true, mergedSeenAt: 0, dirty: false };
  test('a merged, clean worktree goes the given days after the merge was seen', () => {
    assert.equal(retentionDecision(finished, clean, 7, 6 * DAY).decision, 'scheduled');
    assert.equal(retentionDecision(finished, clean, 7, 6 * DAY).removeAfter, new Date(7 * DAY).toISOString());
    assert.equal(retentionDecision(finished, clean, 7, 7 * DAY).decision, 'remove');
  });
  test('a discarded run counts from the discard, merged or not, even when it did not finish', () => {
    const discarded = { status: 'AWAITING_USER' as RunStatus, discardedAt: 2 * DAY, host: null };
    assert.equal(retentionDecision(discarded, { ...clean, merged: false, mergedSeenAt: null }, 7, 8 * DAY).decision, 'scheduled');
    assert.equal(retentionDecision(discarded, { ...clean, merged: false, mergedSeenAt: null }, 7, 9 * DAY).decision, 'remove');
  });
  test('never with uncommitted changes (or unknown ones), never while the run is live or resumable, never unmerged', () => {
    assert.match(retentionDecision(finished, { ...clean, dirty: true }, 0, DAY).why, /uncommitted changes/);
    assert.equal(retentionDecision(finished, { ...clean, dirty: null }, 0, DAY).decision, 'keep');
    assert.equal(retentionDecision({ ...finished, host: { pid: 1, procStartTime: 1, bootId: 'b' } }, clean, 0, DAY).decision, 'keep');
    for (const status of ['STARTING', 'IN_PROGRESS', 'AWAITING_USER', 'INTERRUPTED'] as RunStatus[]) {
      assert.equal(retentionDecision({ ...finished, status }, clean, 0, DAY).decision, 'keep', status);
    }
    assert.match(retentionDecision(finished, { ...clean, merged: false, mergedSeenAt: null }, 0, DAY).why, /not merged/);
    assert.equal(retentionDecision(finished, { ...clean, exists: false }, 0, DAY).decision, 'removed');
  });
});

describe('worktree retention on real repositories', () => {
  let root: string;
  let repo: string;
  let gw: TestGateway;

  before(async () => {
    root = realpathSync(mkdtempSync(path.join(tmpdir(), 'retention-')));
    repo = await createRunRepo(root);
    gw = await startTestGateway({ configure: (services) => services.setWorkspaceRoot(root).then(() => undefined) });
    await gw.services.load('runs');
  });

  after(async () => {
    await gw?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A finished run of `ticketId` with its real worktree (as a launch makes it). */
  async function finishedRun(ticketId: string, status: RunStatus = 'COMPLETED'): Promise<RunRow> {
    const { services } = gw;
    const worktree = await services.ticketWorktrees.ensure({ repoPath: repo, ticketId });
    return services.runs.store.create({
      ticketId, ticketSlug: ticketId, ticket: {}, repoPath: worktree.repoPath, worktreePath: worktree.path, branch: worktree.branch,
      baseBranch: 'origin/main', workDir: services.ticketWorktrees.workFolder(worktree.repoPath, ticketId), provider: 'claude', model: null,
      status, phase: status, reason: null, iteration: 1, completedIteration: 1, maxIterations: 20, sessionId: null, lastError: null, plan: null,
      planAccepted: true, autoApprovePlan: false, currentTaskId: null, followPr: false, prRounds: 0, prNumber: null, prUrl: null, pendingFeedback: [],
      options: { commandJudges: [], llmJudge: null, judgeTimeoutMs: 1, stallTimeoutMs: 1, backoffBaseMs: 1, backoffMaxMs: 1, maxApiRetries: 0, maxStallRetries: 0, budgetTokens: null, budgetUsd: null, prompt: null, skipPlan: false, extraSections: [] },
    });
  }

  async function commit(worktree: string, file: string): Promise<void> {
    writeFileSync(path.join(worktree, file), `${file}\n`);
    await sh(worktree, 'add', file);
    await sh(worktree, '-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', `add ${file}`);
  }

  const cli = (...args: string[]) => runCli([...args, '--data-dir', gw.dataDir, '--secret-store', 'file']);

  test('merged and discarded clean worktrees go when due; dirty, unmerged and commit-less ones stay; sizes are shown', async () => {
    const { services } = gw;
    const merged = await finishedRun('RET-1');
    await commit(merged.worktreePath, 'one.txt');
    await sh(merged.worktreePath, 'push', '--quiet', 'origin', `${merged.branch}:main`);
    await sh(repo, 'fetch', '--quiet', 'origin');
    const discarded = await finishedRun('RET-2', 'STOPPED');
    await commit(discarded.worktreePath, 'two.txt');
    services.runs.discard(discarded.id);
    writeFileSync(path.join(discarded.worktreePath, 'scratch.txt'), 'not committed\n');
    const unmerged = await finishedRun('RET-3', 'FAILED');
    await commit(unmerged.worktreePath, 'three.txt');
    const empty = await finishedRun('RET-4');
    // A live run's worktree (no host here, but STARTING: a launch in flight) is never touched.
    const live = await finishedRun('RET-5', 'STARTING');

    // Default 7 days: the merge is seen now, so nothing is due yet.
    const listed = await cli('runs', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const views = new Map((JSON.parse(listed.stdout).runs as Array<{ ticketId: string; disk: { bytes: number } | null; retention: { decision: string; why: string } }>).map((v) => [v.ticketId, v]));
    assert.ok(views.get('RET-1')!.disk!.bytes > 0, 'the size on disk is measured');
    assert.equal(views.get('RET-1')!.retention.decision, 'scheduled');
    assert.match(views.get('RET-2')!.retention.why, /uncommitted changes/);
    assert.match(views.get('RET-3')!.retention.why, /not merged/);
    assert.match(views.get('RET-4')!.retention.why, /not merged/, 'a branch with no commits of its own is not "merged"');
    assert.equal(views.get('RET-5')!.retention.decision, 'keep');
    const text = await cli('runs');
    assert.match(text.stdout, /RET-1 +COMPLETED/);

    // Eight days later (the merge first seen 8 days ago): a dry run names it and removes nothing.
    gw.services.db.prepare('UPDATE symphony_worktree_retention SET merged_seen_at = ? WHERE run_id = ?').run(Date.now() - 8 * DAY, merged.id);
    const dry = await cli('runs', 'prune', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.stderr);
    const dryActions = Object.fromEntries((JSON.parse(dry.stdout).worktrees as Array<{ ticketId: string; action: string }>).map((w) => [w.ticketId, w.action]));
    assert.deepEqual(dryActions, { 'RET-1': 'would_remove', 'RET-2': 'kept', 'RET-3': 'kept', 'RET-4': 'kept', 'RET-5': 'kept' });
    assert.ok(existsSync(merged.worktreePath));

    const pruned = await cli('runs', 'prune');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^removed .*repo-RET-1/m);
    assert.ok(!existsSync(merged.worktreePath), 'the merged worktree is gone');
    for (const run of [discarded, unmerged, empty, live]) assert.ok(existsSync(run.worktreePath), run.ticketId);
    assert.match(await sh(repo, 'worktree', 'list'), /repo-RET-2/);

    // Through the gateway's route, with the retention set to 0 days: the discarded run goes once it is clean.
    services.settings.set(RETENTION_SETTINGS.days, 0);
    const stillDirty = await gw.request('/api/gateway/symphony/worktrees/prune', { method: 'POST', json: {}, auth: 'token' });
    assert.equal(stillDirty.status, 200, stillDirty.text);
    assert.ok(existsSync(discarded.worktreePath), 'never with uncommitted changes');
    rmSync(path.join(discarded.worktreePath, 'scratch.txt'));
    const clean = await gw.request('/api/gateway/symphony/worktrees/prune', { method: 'POST', json: { dryRun: false }, auth: 'token' });
    assert.deepEqual(clean.json.worktrees.filter((w: { action: string }) => w.action === 'removed').map((w: { ticketId: string }) => w.ticketId), ['RET-2']);
    assert.ok(!existsSync(discarded.worktreePath));
    const status = await gw.request(`/api/gateway/symphony/runs/${discarded.id}`, { auth: 'token' });
    assert.equal(status.json.retention.decision, 'removed');
    assert.ok(status.json.discardedAt);
  });

  test('a live run cannot be discarded; bad prune input is a 400 naming the field', async () => {
    // Live: IN_PROGRESS with a host that is alive (this test process stands in for it).
    const live = await finishedRun('RET-6', 'IN_PROGRESS');
    gw.services.runs.store.setHost(live.id, { pid: process.pid, procStartTime: await startTimeOf(process.pid), bootId: bootId() });
    const refused = await gw.request(`/api/gateway/symphony/runs/${live.id}/discard`, { method: 'POST', auth: 'token' });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'run_live');
    const bad = await gw.request('/api/gateway/symphony/worktrees/prune', { method: 'POST', json: { dryRun: 'yes' }, auth: 'token' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /dryRun/);
  });

  test('the retention setting through its route (the Runs screen): read, changed, bad input named, desktop callers only', async () => {
    const url = '/api/gateway/symphony/worktrees/retention';
    assert.deepEqual((await gw.request(url, { auth: 'token' })).json, { days: gw.services.runs.retention.days(), auto: gw.services.runs.retention.auto() });
    const changed = await gw.request(url, { method: 'PUT', json: { days: 3, auto: false }, auth: 'token' });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.json, { days: 3, auto: false });
    assert.equal(gw.services.settings.get(RETENTION_SETTINGS.days), 3);
    for (const json of [{ days: -1 }, { days: 1.5 }, { auto: 'no' }, { keep: 3 }]) {
      const bad = await gw.request(url, { method: 'PUT', json, auth: 'token' });
      assert.equal(bad.status, 400, JSON.stringify(json));
      assert.match(bad.text, new RegExp(Object.keys(json)[0]));
    }
    assert.deepEqual((await gw.request(url, { auth: 'token' })).json, { days: 3, auto: false }, 'nothing half-written');
    const origin = 'https://app.example.test';
    const session = await gw.pair(origin);
    assert.equal((await gw.request(url, { method: 'PUT', json: { days: 0 }, auth: { session, origin } })).status, 403);
    assert.equal((await gw.request('/api/gateway/symphony/loop/list', { auth: { session, origin } })).status, 403);
  });
});
