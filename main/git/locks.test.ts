import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RepoLocks, repositoryLockKey } from './locks.js';

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

test('the key is the repository root, whatever subfolder the caller passed', async () => {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'locks-')));
  try {
    mkdirSync(path.join(root, 'repo', '.git'), { recursive: true });
    mkdirSync(path.join(root, 'repo', 'src', 'deep'), { recursive: true });
    mkdirSync(path.join(root, 'tree'));
    writeFileSync(path.join(root, 'tree', '.git'), 'gitdir: elsewhere\n');
    assert.equal(repositoryLockKey(path.join(root, 'repo', 'src', 'deep')), path.join(root, 'repo'));
    assert.equal(repositoryLockKey(path.join(root, 'repo')), path.join(root, 'repo'));
    assert.equal(repositoryLockKey(path.join(root, 'tree')), path.join(root, 'tree'));
    assert.equal(repositoryLockKey(path.join(root, 'plain')), path.join(root, 'plain'));

    const locks = new RepoLocks();
    const events: string[] = [];
    await Promise.all([
      locks.exclusive(path.join(root, 'repo', 'src'), async () => {
        events.push('start sub');
        await sleep(20);
        events.push('end sub');
      }),
      locks.exclusive(path.join(root, 'repo'), async () => {
        events.push('start root');
        events.push('end root');
      }),
    ]);
    assert.deepEqual(events, ['start sub', 'end sub', 'start root', 'end root']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
