// Issue 9, item 3: a review run belongs to its caller. A paired origin cannot read or
// resume (extract, verdict) a review session another caller started: it is the same 404 as
// a session that does not exist, and no agent starts; its own sessions work; the local user
// reaches every run. Real claude against the mock model API through a real gateway.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { MockModelApi } from '../providers/testing/mock-model-api.js';
import { startReviewGateway, type Auth, type PairedOrigin, type ReviewGateway } from '../review/testing/review-gateway.js';
import { readUntil, type TestGateway } from './testing.js';

const CODEX = '/api/gateway/codex';

let setup: ReviewGateway;
let api: MockModelApi;
let gw: TestGateway;
let repo: string;
let origin: PairedOrigin;
let other: PairedOrigin;

before(async () => {
  setup = await startReviewGateway('review-owner', ['codex_review']);
  ({ api, gw, repo, origin, other } = setup);
});

after(() => setup.close());

/** A claude review of `ticketId` as `auth`; returns its CLI session. */
async function review(ticketId: string, auth: Auth): Promise<string> {
  api.script({ kind: 'text', text: 'Reviewed: nothing found.' });
  const res = await gw.request(`${CODEX}/review/${ticketId}`, { method: 'POST', json: { repoPath: repo, provider: 'claude', useBaseRepo: true }, auth });
  assert.equal(res.status, 200, res.text);
  const events = res.text.trim().split('\n').map((line) => JSON.parse(line) as { type: string; sessionId?: string });
  const sessionId = events.find((e) => e.type === 'sessionId')?.sessionId;
  assert.ok(sessionId, res.text);
  return sessionId;
}

const extract = (ticketId: string, sessionId: string, auth: Auth) =>
  gw.request(`${CODEX}/review-extract/${ticketId}`, { method: 'POST', json: { repoPath: repo, sessionId, provider: 'claude' }, auth });
const verdict = (ticketId: string, sessionId: string, auth: Auth) =>
  gw.request(`${CODEX}/review-verdict/${ticketId}`, { method: 'POST', json: { repoPath: repo, sessionId, provider: 'claude' }, auth });

test("another caller's review session is 404 to a paired origin (as one that does not exist, no agent started); its own and the local user's reach work", async () => {
  const desktop = await review('T-D', 'token');
  const mine = await review('T-O', origin);

  // The desktop's session, asked for by the origin: exactly the reply for a session nobody has.
  const requests = api.modelRequests().length;
  for (const call of [extract, verdict]) {
    const theirs = await call('T-D', desktop, origin);
    const none = await call('T-D', 'no-such-session', origin);
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.json.code, 'review_not_found');
    assert.deepEqual({ ...theirs.json, error: theirs.json.error.replace(desktop, '<session>') }, { ...none.json, error: none.json.error.replace('no-such-session', '<session>') });
    assert.equal(theirs.json.details, undefined, 'nothing of the run is named');
  }
  assert.equal(api.modelRequests().length, requests, 'no agent started for a session the origin does not own');

  // One origin's session is another origin's 404 too.
  assert.equal((await extract('T-O', mine, other)).status, 404);

  // Its own session is the origin's to read; the local user reaches every run.
  assert.equal((await extract('T-O', mine, origin)).status, 200);
  assert.equal((await extract('T-D', desktop, 'token')).status, 200);
  assert.equal((await extract('T-O', mine, 'token')).status, 200);
});

const status = (ticketId: string, auth: Auth) => gw.request(`${CODEX}/status/${ticketId}?repoPath=${encodeURIComponent(repo)}&provider=claude`, { auth });
const forget = (ticketId: string, auth: Auth) => gw.request(`${CODEX}/status/${ticketId}?repoPath=${encodeURIComponent(repo)}&provider=claude`, { method: 'DELETE', auth });
/** Where the ticket's worktree goes: the original's `worktreeDir`, in the "no review" reply too. */
const worktreeOf = (ticketId: string) => gw.services.ticketWorktrees.expectedPath(realpathSync(repo), ticketId);
const stop = (ticketId: string, auth: Auth) => gw.request(`${CODEX}/stop/${ticketId}`, { method: 'POST', json: { repoPath: repo, provider: 'claude' }, auth });

test("a review's status, stop and forget: another caller's review is the same reply as none to a paired origin; the local user reaches every one", async () => {
  const desktop = await review('T-S', 'token');
  const none = { hasReview: false, worktreeDir: worktreeOf('T-S'), message: 'No review of ticket T-S by claude yet.' };

  // The desktop's latest review, asked for by the origin: no review (its session named nowhere).
  const theirs = await status('T-S', origin);
  assert.equal(theirs.status, 200, theirs.text);
  assert.deepEqual(theirs.json, none);
  assert.doesNotMatch(theirs.text, new RegExp(desktop));
  assert.equal((await status('T-S', 'token')).json.sessionId, desktop);
  // Stopping or forgetting it from the origin touches nothing of the desktop's.
  assert.equal((await stop('T-S', origin)).status, 404);
  const forgot = await forget('T-S', origin);
  assert.deepEqual([forgot.status, forgot.json], [200, { success: true, deleted: [] }]);
  assert.equal((await status('T-S', 'token')).json.sessionId, desktop);

  // The origin's own review of the same ticket is its to read and forget; another origin sees none.
  const mine = await review('T-S', origin);
  assert.equal((await status('T-S', origin)).json.sessionId, mine);
  assert.deepEqual((await status('T-S', other)).json, none);
  assert.equal((await status('T-S', 'token')).json.sessionId, mine, "the local user's status is the ticket's latest, whoever ran it");
  assert.deepEqual((await forget('T-S', other)).json, { success: true, deleted: [] });
  const gone = await forget('T-S', origin);
  assert.equal(gone.json.deleted.length, 1, gone.text);
  assert.deepEqual((await status('T-S', origin)).json, none);
  assert.equal((await status('T-S', 'token')).json.sessionId, desktop, "the desktop's review outlived the origin's forget");
});

test("a paired origin cannot stop or forget the desktop's running review: it is as if none ran", async () => {
  api.script({ kind: 'hang' });
  const requests = api.modelRequests().length;
  const stream = await gw.openStream(`${CODEX}/review/T-R`, { repoPath: repo, provider: 'claude', useBaseRepo: true });
  assert.equal(stream.res.statusCode, 200);
  await api.waitForModelRequests(requests + 1);
  try {
    assert.equal((await status('T-R', 'token')).json.processRunning, true);
    const refused = await stop('T-R', origin);
    assert.deepEqual([refused.status, refused.json.code], [404, 'review_not_found']);
    assert.deepEqual((await forget('T-R', origin)).json, { success: true, deleted: [] }, 'not the 409 a running review gives its owner');
    assert.deepEqual((await status('T-R', origin)).json, { hasReview: false, worktreeDir: worktreeOf('T-R'), message: 'No review of ticket T-R by claude yet.' });
    assert.equal((await status('T-R', 'token')).json.processRunning, true, 'the review still runs');
    assert.equal((await forget('T-R', 'token')).status, 409);
  } finally {
    const stopped = await stop('T-R', 'token');
    assert.equal(stopped.json.stopped, true, stopped.text);
    await readUntil(stream.lines, 'done');
  }
});
