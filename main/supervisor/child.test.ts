import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import type { OutputLine } from './output.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';
import { capturingLogger, isAlive, tempDir } from './test-support.js';

async function readLines(child: SupervisedChild, count: number): Promise<OutputLine[]> {
  const lines: OutputLine[] = [];
  if (count === 0) return lines;
  for await (const line of child.lines()) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

async function collectAll(child: SupervisedChild): Promise<OutputLine[]> {
  const lines: OutputLine[] = [];
  for await (const line of child.lines()) lines.push(line);
  return lines;
}

test('streams stdout and stderr lines live and talks over stdin', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({
    command: 'sh',
    args: ['-c', 'while read line; do echo "got $line"; echo "note $line" >&2; done'],
    cwd: process.cwd(),
    stdin: 'pipe',
    label: 'echo',
  });
  const reader = child.lines()[Symbol.asyncIterator]();
  await child.write('one\n');
  const first = [(await reader.next()).value, (await reader.next()).value];
  assert.deepEqual(
    first.sort((a, b) => a.stream.localeCompare(b.stream)),
    [
      { stream: 'stderr', line: 'note one' },
      { stream: 'stdout', line: 'got one' },
    ],
  );
  child.endInput();
  const exit = await child.exited;
  assert.deepEqual(exit, { exitCode: 0, signal: null, state: 'exited' });
  assert.equal(child.state, 'exited');
  await assert.rejects(child.write('late\n'), /not open/);
  assert.deepEqual(supervisor.list(), []);
});

test('a reader gets every line in order, even a burst far larger than the queue', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({ command: 'seq', args: ['1', '50000'], cwd: process.cwd(), stdin: 'ignore', label: 'seq' });
  const lines = await collectAll(child);
  assert.equal(lines.length, 50_000);
  assert.equal(lines[0].line, '1');
  assert.equal(lines[49_999].line, '50000');
  assert.equal((await child.exited).state, 'exited');
});

test('the hard timeout kills the tree', async () => {
  const supervisor = new Supervisor({ graceMs: 500 });
  const child = await supervisor.start({ command: 'sh', args: ['-c', 'sleep 30 & echo $!; sleep 30'], cwd: process.cwd(), stdin: 'ignore', label: 't', timeoutMs: 300 });
  const [grandchild] = await readLines(child, 1);
  const started = Date.now();
  const exit = await child.exited;
  assert.equal(exit.state, 'timed_out');
  assert.ok(Date.now() - started < 2_000);
  assert.equal(isAlive(Number(grandchild.line)), false);
});

test('the idle watchdog kills a silent child and spares a chatty one', async () => {
  const supervisor = new Supervisor({ graceMs: 500 });
  const silent = await supervisor.start({ command: 'sh', args: ['-c', 'echo hi; sleep 30'], cwd: process.cwd(), stdin: 'ignore', label: 'silent', idleTimeoutMs: 300 });
  const chatty = await supervisor.start({
    command: 'sh',
    args: ['-c', 'for i in $(seq 16); do echo $i; sleep 0.1; done'],
    cwd: process.cwd(),
    stdin: 'ignore',
    label: 'chatty',
    idleTimeoutMs: 700, // each gap is 0.1 s, the whole run (1.6 s) more than twice the idle period
  });
  assert.equal((await silent.exited).state, 'idle_timeout');
  assert.deepEqual(await chatty.exited, { exitCode: 0, signal: null, state: 'exited' });
});

test('kill() twice is safe and both calls see the same end', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({ command: 'sleep', args: ['30'], cwd: process.cwd(), stdin: 'ignore', label: 'k' });
  const [a, b] = await Promise.all([child.kill(), child.kill('timed_out')]);
  assert.deepEqual(a, b);
  assert.equal(a.state, 'killed');
  assert.deepEqual(await child.kill(), a);
  assert.equal(isAlive(child.pid), false);
});

test('a child that exits leaving a background process behind has it killed', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({ command: 'sh', args: ['-c', 'sleep 30 & echo $!'], cwd: process.cwd(), stdin: 'ignore', label: 'leaver' });
  const [grandchild] = await readLines(child, 1);
  const exit = await child.exited;
  assert.equal(exit.state, 'exited');
  assert.equal(isAlive(Number(grandchild.line)), false);
});

test('a child killed from outside ends as failed', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({ command: 'sleep', args: ['30'], cwd: process.cwd(), stdin: 'ignore', label: 'victim' });
  process.kill(child.pid, 'SIGKILL');
  assert.deepEqual(await child.exited, { exitCode: null, signal: 'SIGKILL', state: 'failed' });
});

test('the ring buffer keeps only the most recent lines', async () => {
  const supervisor = new Supervisor({ ringLines: 10 });
  const child = await supervisor.start({ command: 'seq', args: ['1', '1000'], cwd: process.cwd(), stdin: 'ignore', label: 'ring' });
  await child.exited;
  const tail = child.tail();
  assert.equal(tail.length, 10);
  assert.deepEqual(
    tail.map((entry) => entry.line),
    ['991', '992', '993', '994', '995', '996', '997', '998', '999', '1000'],
  );
  assert.deepEqual(
    child.tail(2).map((entry) => entry.line),
    ['999', '1000'],
  );
});

test('the log file is capped and every line carries the child id and pid', async (t) => {
  const dataDir = tempDir(t);
  const supervisor = new Supervisor({ dataDir, logFileMaxBytes: 20_000 });
  const child = await supervisor.start({ command: 'seq', args: ['1', '20000'], cwd: process.cwd(), stdin: 'ignore', label: 'chatty log' });
  await child.exited;
  const dir = join(dataDir, 'logs', 'processes');
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, [`chatty_log-${child.id}.log`, `chatty_log-${child.id}.log.1`]);
  for (const file of files) {
    assert.ok(statSync(join(dir, file)).size <= 20_000, `${file} is over the cap`);
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      assert.ok(line.includes(`${child.id}:${child.pid}`), `untagged line: ${line}`);
    }
  }
  assert.match(readFileSync(join(dir, files[0]), 'utf8'), /out 20000\n/);
});

test('child logs are private (0600 in a 0700 folder) and never hold the argv (a prompt may ride in it)', async (t) => {
  const dataDir = tempDir(t);
  const supervisor = new Supervisor({ dataDir });
  const child = await supervisor.start({
    command: 'sh',
    args: ['-c', 'echo done', 'sh', 'secret prompt text from the user'],
    cwd: process.cwd(),
    stdin: 'ignore',
    label: 'private',
  });
  await child.exited;
  const dir = join(dataDir, 'logs', 'processes');
  const [file] = readdirSync(dir);
  assert.equal((statSync(dir).mode & 0o777).toString(8), '700');
  assert.equal((statSync(join(dir, file)).mode & 0o777).toString(8), '600');
  const text = readFileSync(join(dir, file), 'utf8');
  assert.match(text, /out done/);
  assert.doesNotMatch(text, /secret prompt/);
  assert.doesNotMatch(text, /echo done/);
});

test('every supervisor log line about a child names its id and pid, and no env value is logged', async () => {
  const { log, lines } = capturingLogger();
  const supervisor = new Supervisor({ log });
  const child = await supervisor.start({
    command: 'sh',
    args: ['-c', 'exit 0'],
    cwd: process.cwd(),
    stdin: 'ignore',
    label: 'quiet',
    env: { PROVIDER_KEY_FOR_TEST: 'value-that-must-not-be-logged' },
  });
  await child.exited;
  const about = lines().filter((line) => line.label === 'quiet');
  assert.ok(about.length >= 2);
  for (const line of about) {
    assert.equal(line.childId, child.id);
    assert.equal(line.pid, child.pid);
  }
  assert.doesNotMatch(JSON.stringify(lines()), /value-that-must-not-be-logged/);
});

test('a missing working directory or command is a typed error, not a crash', async () => {
  const supervisor = new Supervisor();
  await assert.rejects(
    supervisor.start({ command: 'sleep', args: ['1'], cwd: '/nonexistent/dir', stdin: 'ignore', label: 'x' }),
    (error: unknown) => error instanceof AppError && error.status === 422,
  );
  await assert.rejects(
    supervisor.start({ command: 'no-such-command-xyz', args: [], cwd: process.cwd(), stdin: 'ignore', label: 'x' }),
    (error: unknown) => error instanceof AppError && error.status === 424,
  );
});

test('a slow reader holds the child back instead of letting lines pile up', async () => {
  const supervisor = new Supervisor();
  const child = await supervisor.start({ command: 'seq', args: ['1', '2000000'], cwd: process.cwd(), stdin: 'ignore', label: 'flood' });
  const reader = child.lines()[Symbol.asyncIterator]();
  await reader.next();
  await new Promise((resolve) => setTimeout(resolve, 800));
  // Paused pipes: only the queue, Node's stream buffer and the OS pipe (tens of thousands of lines) got through.
  const newest = Number(child.tail(1)[0].line);
  assert.ok(newest < 50_000, `the child got to line ${newest} while nobody read`);
  assert.equal(child.state, 'running');
  await reader.return!();
  assert.equal((await child.exited).state, 'exited', 'once the reader leaves the child runs to its end');
  assert.equal(child.tail(1)[0].line, '2000000');
});
