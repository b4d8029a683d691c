import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RepoLocks } from './locks.js';

test('writes on one key run one at a time, in order, even after a failure; other keys do not wait', async () => {
  const locks = new RepoLocks();
  const events: string[] = [];
  const job = (name: string, ms: number, fail = false) => async () => {
    events.push(`start ${name}`);
    await sleep(ms);
    events.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([
    locks.exclusive('/a', job('a1', 30, true)),
    locks.exclusive('/a', job('a2', 5)),
    locks.exclusive('/b', job('b1', 5)),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled']);
  assert.deepEqual(events, ['start a1', 'start b1', 'end b1', 'end a1', 'start a2', 'end a2']);
});
