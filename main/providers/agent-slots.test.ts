// The concurrent-agent cap on its own: places in the queue as it moves, leaving it, the
// refusal when it is full, a changed limit, and callers that are never capped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
