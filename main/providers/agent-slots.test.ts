// The concurrent-agent cap on its own: places in the queue as it moves, leaving it, the
// refusal when it is full, a changed limit, callers that are never capped, and the runs and
// loops counted from the database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoopStore } from '../relay/loops/loop-store.js';
import { openDatabase } from '../store/database.js';
import { RunStore } from '../symphony/run-store.js';
import { AgentSlots } from './agent-slots.js';

const ORIGIN = 'origin:https://app.example.test';

test('past the limit starts wait first come first served, told their place as the queue moves; a full queue is 429', async () => {
  let limit = 1;
  const slots = new AgentSlots({ limit: () => limit, maxQueued: 2 });
  const releaseFirst = await slots.acquire({ key: ORIGIN });
  const places: Record<string, number[]> = { b: [], c: [] };
  const b = slots.acquire({ key: ORIGIN, onQueued: (p) => places.b.push(p) });
  const leaving = new AbortController();
  const c = slots.acquire({ key: ORIGIN, onQueued: (p) => places.c.push(p), signal: leaving.signal });
  await assert.rejects(slots.acquire({ key: ORIGIN }), (error: { status: number; code: string; headers: Record<string, string> }) =>
    error.status === 429 && error.code === 'too_many_agents' && Number(error.headers['Retry-After']) > 0);
  assert.deepEqual(places, { b: [1], c: [2] });

  // c leaves; a new start d takes the free place behind b.
  leaving.abort();
  await assert.rejects(c, (error: { code: string }) => error.code === 'client_closed');
  const dPlaces: number[] = [];
  const d = slots.acquire({ key: ORIGIN, onQueued: (p) => dPlaces.push(p) });
  assert.deepEqual(dPlaces, [2]);

  releaseFirst();
  releaseFirst(); // a second release gives nothing back twice
  const releaseB = await b;
  assert.equal(slots.count(ORIGIN), 1);
  assert.deepEqual(dPlaces, [2, 1], 'd moved up when b got its slot');

  // A raised limit lets d start as soon as a slot is given back.
  limit = 3;
  releaseB();
  const releaseD = await d;
  assert.deepEqual([slots.count(ORIGIN), slots.queued(ORIGIN)], [1, 0]);
  releaseD();
  assert.equal(slots.count(ORIGIN), 0);
});

test('the local user (renderer, token) is never capped; each remote caller has its own slots', async () => {
  const slots = new AgentSlots({ limit: () => 1 });
  for (const key of ['renderer', 'token', 'renderer']) await slots.acquire({ key });
  await slots.acquire({ key: ORIGIN });
  const other = await slots.acquire({ key: 'origin:https://other.example.test' });
  const relay = await slots.acquire({ key: 'relay' });
  assert.deepEqual([slots.count('renderer'), slots.count(ORIGIN), slots.queued(ORIGIN)], [0, 1, 0]);
  other();
  relay();
});

test("runs and loops elsewhere hold the caller's slots: a launch at the limit is refused (never queued), a queued turn starts once they end", { timeout: 10_000 }, async () => {
  let elsewhere = 1;
  const slots = new AgentSlots({ limit: () => 2, elsewhere: (key) => (key === ORIGIN ? elsewhere : 0), recheckMs: 20 });
  const launch = slots.reserve(ORIGIN);
  assert.equal(slots.busy(ORIGIN), 2);
  assert.throws(() => slots.reserve(ORIGIN), (error: { status: number; code: string; details: unknown; headers: Record<string, string> }) =>
    error.status === 429 && error.code === 'too_many_agents' && Number(error.headers['Retry-After']) > 0 &&
    JSON.stringify(error.details) === JSON.stringify({ running: 2, limit: 2, queued: 0, maxQueued: 16 }));
  // The launch's run is live now (counted elsewhere) and its reservation goes.
  elsewhere = 2;
  launch();
  const places: number[] = [];
  const turn = slots.acquire({ key: ORIGIN, onQueued: (p) => places.push(p) });
  assert.deepEqual(places, [1]);
  // Both runs end in their hosts: nothing here is told, the queue looks again on its own.
  elsewhere = 0;
  // The queue's re-check timer is unref'd (it must not keep a gateway alive); here nothing
  // else holds the event loop open while the test waits for it.
  const keepAlive = setInterval(() => {}, 1000);
  const release = await turn.finally(() => clearInterval(keepAlive));
  assert.deepEqual([slots.count(ORIGIN), slots.queued(ORIGIN)], [1, 0]);
  release();
  // Launches from code and the local user's are never capped.
  elsewhere = 5;
  for (const key of [null, 'token', 'renderer']) slots.reserve(key)();
});

test('a run or loop end the gateway sees (recheck) starts a queued turn at once, not at the next timed look', async () => {
  let elsewhere = 1;
  const slots = new AgentSlots({ limit: () => 1, elsewhere: (key) => (key === ORIGIN ? elsewhere : 0), recheckMs: 60_000 });
  let granted = false;
  const turn = slots.acquire({ key: ORIGIN }).then((release) => ((granted = true), release));
  assert.equal(slots.queued(ORIGIN), 1);
  slots.recheck();
  await new Promise(setImmediate);
  assert.equal(granted, false, 'still held by the run');
  elsewhere = 0;
  slots.recheck();
  (await turn)();
  assert.deepEqual([granted, slots.count(ORIGIN), slots.queued(ORIGIN)], [true, 0, 0]);
});

test('live runs and loops are counted per caller from the database, 0 before their tables exist', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-slots-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'symphony.db'));
  t.after(() => db.close());
  assert.deepEqual([RunStore.liveLaunchedBy(db, ORIGIN), LoopStore.liveLaunchedBy(db, ORIGIN)], [0, 0], 'no tables yet');
  const runs = new RunStore(db);
  LoopStore.migrate(db);
  const loops = new LoopStore(db);
  const run = (launchedBy: string | null, status: 'IN_PROGRESS' | 'COMPLETED') => runs.create({
    ticketId: 'T', ticketSlug: 't', ticket: {}, repoPath: '/r', worktreePath: '/w', branch: 'b', baseBranch: null, workDir: '/d', provider: 'claude',
    model: null, status, phase: '', reason: null, iteration: 0, completedIteration: 0, maxIterations: 1, sessionId: null, lastError: null, plan: null,
    planAccepted: false, autoApprovePlan: false, currentTaskId: null, followPr: false, prRounds: 0, prNumber: null, prUrl: null, pendingFeedback: [],
    options: {} as never, launchedBy,
  });
  run(ORIGIN, 'IN_PROGRESS');
  run(ORIGIN, 'COMPLETED');
  run('token', 'IN_PROGRESS');
  run(null, 'IN_PROGRESS');
  loops.create({ loopId: 'l1', command: 'PLAN', repoPath: null, worktreePath: '/w', workDir: '/d', launchedBy: 'relay' });
  loops.create({ loopId: 'l2', command: 'PLAN', repoPath: null, worktreePath: '/w', workDir: '/d', launchedBy: ORIGIN });
  loops.finish('l2', 'completed', null, []);
  loops.create({ loopId: 'l3', command: 'PLAN', repoPath: null, worktreePath: '/w', workDir: '/d', launchedBy: ORIGIN });
  assert.deepEqual([RunStore.liveLaunchedBy(db, ORIGIN), LoopStore.liveLaunchedBy(db, ORIGIN), LoopStore.liveLaunchedBy(db, 'relay')], [1, 1, 1]);
});
