// The Activity ring reuses its entry objects: what it gives readers must still be whole,
// correct and independent of every later request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityRing, blankEntry, type ActivityEntry } from './activity.js';

/** Every field set (TypeScript asks for each), so a field the ring forgets to copy fails the deepEqual. */
function entry(seq: number, overrides: Partial<ActivityEntry> = {}): ActivityEntry {
  return {
    requestId: `req-${seq}`,
    operation: seq % 2 ? 'health_check' : 'repos_config',
    callerKind: seq % 2 ? 'token' : 'origin',
    origin: seq % 2 ? null : 'https://app.example.test',
    method: 'GET',
    route: '/api/gateway/version',
    status: 200 + seq,
    durationMs: seq + 0.25,
    seq,
    time: 1_796_000_000_000 + seq,
    path: `/api/gateway/version/${seq}`,
    callerOrigin: seq % 2 ? null : 'https://app.example.test',
    claimedSource: seq % 3 ? null : `tool-${seq}`,
    approval: seq % 4 ? null : { decision: 'allow_once', decidedBy: 'renderer' },
    ...overrides,
  };
}

/** Records entries 1..last through one reused object, as the request scope does. */
function recordThroughOneObject(ring: ActivityRing, last: number): void {
  const reused = blankEntry();
  for (let seq = 1; seq <= last; seq++) {
    Object.assign(reused, entry(seq));
    ring.record(reused);
  }
}

describe('ActivityRing', () => {
  it('keeps every field of each entry, from one reused object, newest first', () => {
    const ring = new ActivityRing(4);
    recordThroughOneObject(ring, 3);
    assert.deepEqual(ring.list(), [entry(3), entry(2), entry(1)]);
  });

  it('after it wraps: the newest `capacity` entries, in order, each still whole', () => {
    const ring = new ActivityRing(3);
    recordThroughOneObject(ring, 8);
    assert.equal(ring.latestSeq(), 8);
    assert.deepEqual(ring.list(), [entry(8), entry(7), entry(6)]);
    assert.deepEqual(ring.list({ after: 6 }), [entry(8), entry(7)]);
    assert.deepEqual(ring.list({ caller: 'token' }), [entry(7)]);
    assert.deepEqual(ring.list({ operation: 'repos_config', limit: 1 }), [entry(8)]);
  });

  it('gives readers copies: later entries that reuse a slot do not change what a reader holds', () => {
    const ring = new ActivityRing(2);
    ring.record(entry(1));
    ring.record(entry(2));
    const held = ring.list();
    held[0].status = 599;
    assert.deepEqual(ring.list(), [entry(2), entry(1)], 'a reader changing its copy changes nothing in the ring');
    ring.record(entry(3));
    ring.record(entry(4));
    assert.deepEqual(held, [{ ...entry(2), status: 599 }, entry(1)]);
    assert.deepEqual(ring.list(), [entry(4), entry(3)]);
  });

  it('copies the caller\'s object: changing it after record() changes nothing', () => {
    const ring = new ActivityRing(2);
    const mine = entry(1);
    ring.record(mine);
    mine.requestId = 'changed';
    mine.durationMs = 99.5;
    assert.deepEqual(ring.list(), [entry(1)]);
  });
});
