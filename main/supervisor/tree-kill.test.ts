import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { execa } from 'execa';
import { readProcStat } from './procfs.js';
import { killTree } from './tree-kill.js';
import { isAlive } from './test-support.js';

/** Starts `sh -c script` in its own group; the script prints the PIDs it starts, one a line. */
async function spawnTree(script: string, expectedPids: number) {
  const subprocess = execa('sh', ['-c', script], { detached: true, buffer: false, reject: false, stdin: 'ignore' });
  const pids: number[] = [];
  for await (const line of createInterface({ input: subprocess.stdout! })) {
    pids.push(Number(line));
    if (pids.length === expectedPids) break;
  }
  return { leader: subprocess.pid!, pids, done: subprocess };
}

test('kills the child and its grandchild', async () => {
  const tree = await spawnTree('sleep 60 & echo $!; sleep 60', 1);
  const result = await killTree(tree.leader, 2_000);
  assert.equal(result.forced, false);
  assert.deepEqual(result.survivors, []);
  assert.equal(isAlive(tree.leader), false);
  assert.equal(isAlive(tree.pids[0]), false, 'grandchild left behind');
  await tree.done;
});

test('also kills a descendant that moved to its own session (setsid)', async () => {
  const tree = await spawnTree('setsid sleep 60 & echo $!; sleep 60', 1);
  assert.ok(isAlive(tree.pids[0]));
  await killTree(tree.leader, 2_000);
  assert.equal(isAlive(tree.pids[0]), false, 'escaped descendant left behind');
  await tree.done;
});

test('kills a group member already reparented away from the leader', async () => {
  // The inner shell exits at once: its sleep is no descendant of the leader any more, only a group member.
  const tree = await spawnTree(`sh -c 'sleep 60 & echo $!'; sleep 60`, 1);
  assert.notEqual(readProcStat(tree.pids[0])?.ppid, tree.leader);
  await killTree(tree.leader, 2_000);
  assert.equal(isAlive(tree.pids[0]), false, 'reparented group member left behind');
  await tree.done;
});

test('falls back to SIGKILL after the grace when SIGTERM is ignored', async () => {
  const tree = await spawnTree(`trap '' TERM; sleep 60 & echo $!; wait`, 1);
  const started = Date.now();
  const result = await killTree(tree.leader, 300);
  assert.equal(result.forced, true);
  assert.ok(Date.now() - started >= 290, 'waited the grace first');
  assert.equal(isAlive(tree.leader), false);
  assert.equal(isAlive(tree.pids[0]), false);
  await tree.done;
});

test('an already finished tree resolves at once', async () => {
  const tree = await spawnTree('echo $$', 1);
  await tree.done;
  const result = await killTree(tree.leader, 5_000);
  assert.equal(result.forced, false);
  assert.ok(result.durationMs < 1_000, `took ${result.durationMs} ms: it waited for a grace it did not need`);
});
