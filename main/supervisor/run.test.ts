import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../store/database.js';
import { Supervisor } from './supervisor.js';
import { capturingLogger, isAlive, tempDir, waitFor } from './test-support.js';

test('returns exit code and output, never throwing for a non-zero exit', async () => {
  const result = await new Supervisor().run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(result, { exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false, truncated: false });
});

test('passes input on stdin and runs in cwd', async (t) => {
  const dir = tempDir(t);
  const result = await new Supervisor().run('sh', ['-c', 'cat; pwd'], { input: 'hello\n', cwd: dir });
  assert.equal(result.stdout, `hello\n${dir}\n`);
});

test('a timeout kills the whole tree, grandchild included', async () => {
  const started = Date.now();
  const result = await new Supervisor({ graceMs: 500 }).run('sh', ['-c', 'sleep 30 & echo $!; sleep 30'], { timeoutMs: 300 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, null);
  assert.ok(Date.now() - started < 2_000);
  assert.equal(isAlive(Number(result.stdout.trim())), false);
});

test('output past maxBuffer is cut, flagged, and the tree stopped', async () => {
  const result = await new Supervisor({ graceMs: 500 }).run('sh', ['-c', 'sleep 30 & echo $!; yes'], { maxBuffer: 10_000 });
  assert.equal(result.truncated, true);
  assert.ok(result.stdout.length <= 10_000);
  assert.equal(isAlive(Number(result.stdout.split('\n')[0])), false);
});

test('an abort signal stops the tree', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const result = await new Supervisor({ graceMs: 500 }).run('sleep', ['30'], { signal: controller.signal });
  assert.equal(result.exitCode, null);
  assert.equal(result.timedOut, false);
});

test('a run is listed and recorded while it runs, and forgotten after', async (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'));
  t.after(() => db.close());
  const supervisor = new Supervisor({ db });
  const running = supervisor.run('sleep', ['0.3']);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(
    supervisor.list().map((p) => [p.command, p.args]),
    [['sleep', ['0.3']]],
  );
  assert.equal((db.prepare(`SELECT count(*) AS n FROM processes WHERE state = 'running'`).get() as { n: number }).n, 1);
  await running;
  assert.deepEqual(supervisor.list(), []);
  assert.equal((db.prepare('SELECT count(*) AS n FROM processes').get() as { n: number }).n, 0);
});

test('stopAll() during a run waits until the run is fully wound up', async (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'));
  const { log, lines } = capturingLogger();
  const supervisor = new Supervisor({ db, log, graceMs: 500 });
  const running = supervisor.run('sh', ['-c', 'sleep 30 & sleep 30']);
  await waitFor(() => supervisor.list().length === 1);
  await supervisor.stopAll();
  assert.equal((db.prepare('SELECT count(*) AS n FROM processes').get() as { n: number }).n, 0);
  db.close(); // what quitting does right after stopAll: no late write may hit the closed database
  assert.equal((await running).exitCode, null);
  assert.deepEqual(lines().filter((line) => Number(line.level) >= 50), []);
});
