import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { openDatabase } from '../store/database.js';
import { reapOrphans } from './orphans.js';
import { bootId, readProcStat } from './procfs.js';
import { ProcessRecords } from './records.js';
import { psStartTime } from './start-time.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';
import { isAlive, tempDir, waitFor } from './test-support.js';

async function firstLine(child: SupervisedChild): Promise<string> {
  for await (const entry of child.lines()) return entry.line;
  throw new Error('no output');
}

test('a second supervisor on the same database reaps what a crashed first one left', async (t) => {
  const dbFile = join(tempDir(t), 'gateway.sqlite');
  const crashedDb = openDatabase(dbFile);
  const crashed = new Supervisor({ db: crashedDb });
  const child = await crashed.start({
    command: 'sh',
    args: ['-c', 'sleep 30 & echo $!; sleep 30'],
    cwd: process.cwd(),
    stdin: 'ignore',
    label: 'claude turn',
    owner: 'chat:session-1',
  });
  const grandchild = Number(await firstLine(child));
  crashedDb.close(); // the crash: the first gateway is gone, its children are not

  const db = openDatabase(dbFile);
  t.after(() => db.close());
  const restarted = new Supervisor({ db });
  const told: string[] = [];
  restarted.onReaped((reaped) => {
    for (const p of reaped) told.push(`${p.record.owner}:${p.killed}`);
  });
  const report = await restarted.reapOrphans();

  assert.equal(report.reaped, 1);
  assert.deepEqual(told, ['chat:session-1:true']);
  assert.equal(isAlive(child.pid), false);
  assert.equal(isAlive(grandchild), false);
  assert.equal(new ProcessRecords(db).get(child.id)?.state, 'orphaned_reaped');
  await child.exited; // the dead instance's child object still ends cleanly, its db write failing quietly
  assert.equal((await restarted.reapOrphans()).processes.length, 0, 'reaping twice finds nothing new');
});

test('a reused PID (same number, different start time) is never killed', async (t) => {
  const db = openDatabase(join(tempDir(t), 'gateway.sqlite'));
  t.after(() => db.close());
  const bystander = execa('sleep', ['30'], { detached: true, reject: false });
  t.after(() => bystander.kill('SIGKILL'));
  const stat = readProcStat(bystander.pid!)!;
  const records = new ProcessRecords(db);
  records.insert({
    id: 'old-child',
    pid: stat.pid,
    pgid: stat.pid,
    command: 'claude',
    args: [],
    cwd: null,
    label: 'old',
    owner: 'chat:old',
    startedAt: Date.now() - 60_000,
    procStartTime: stat.startTime - 100, // what the crashed gateway recorded for its own process
    bootId: bootId(),
    supervisorId: 'crashed-instance',
    hostPid: process.pid,
    hostStartTime: null,
    state: 'running',
    exitCode: null,
    signal: null,
    endedAt: null,
  });
  const report = await new Supervisor({ db }).reapOrphans();
  assert.equal(report.reaped, 0);
  assert.deepEqual(
    report.processes.map((p) => [p.record.id, p.killed]),
    [['old-child', false]],
  );
  assert.equal(isAlive(bystander.pid!), true, 'the bystander was killed');
  assert.equal(records.get('old-child')?.state, 'orphaned_reaped');
});

test('children of another gateway that is still alive are left alone', async (t) => {
  const db = openDatabase(join(tempDir(t), 'gateway.sqlite'));
  t.after(() => db.close());
  const otherGateway = execa('sleep', ['30'], { detached: true, reject: false });
  t.after(() => otherGateway.kill('SIGKILL'));
  const first = new Supervisor({ db });
  const child = await first.start({ command: 'sleep', args: ['30'], cwd: process.cwd(), stdin: 'ignore', label: 'theirs' });
  t.after(() => first.stopAll());
  const host = readProcStat(otherGateway.pid!)!;
  db.prepare('UPDATE processes SET host_pid = ?, host_start_time = ? WHERE id = ?').run(host.pid, host.startTime, child.id);
  const report = await new Supervisor({ db }).reapOrphans();
  assert.equal(report.processes.length, 0);
  assert.equal(isAlive(child.pid), true);
});

test('list(), kill(id) and stopAll() cover every live tree', async () => {
  const supervisor = new Supervisor();
  const children = await Promise.all(
    ['a', 'b', 'c'].map((label) =>
      supervisor.start({ command: 'sh', args: ['-c', 'sleep 30 & echo $!; sleep 30'], cwd: process.cwd(), stdin: 'ignore', label }),
    ),
  );
  const grandchildren = await Promise.all(children.map(async (child) => Number(await firstLine(child))));
  await waitFor(() => supervisor.list().every((p) => p.tail.length === 1));
  assert.deepEqual(supervisor.list().map((p) => p.label).sort(), ['a', 'b', 'c']);
  const listed = supervisor.list().find((p) => p.label === 'a')!;
  assert.deepEqual(
    { pid: listed.pid, command: listed.command, state: listed.state, tail: listed.tail },
    { pid: children[0].pid, command: 'sh', state: 'running', tail: [{ stream: 'stdout', line: String(grandchildren[0]) }] },
  );

  await supervisor.kill(children[0].id);
  assert.equal(children[0].state, 'killed');
  await assert.rejects(supervisor.kill(children[0].id), /No running process/);

  await supervisor.stopAll();
  assert.deepEqual(supervisor.list(), []);
  for (const pid of [...children.map((c) => c.pid), ...grandchildren]) assert.equal(isAlive(pid), false);
  await assert.rejects(supervisor.start({ command: 'sleep', args: ['1'], cwd: process.cwd(), stdin: 'ignore', label: 'late' }), /shutting down/);
});

test('without /proc (macOS) the leader is identified by its ps start time', async (t) => {
  const db = openDatabase(join(tempDir(t), 'gateway.sqlite'));
  t.after(() => db.close());
  const records = new ProcessRecords(db);
  const orphan = execa('sh', ['-c', 'sleep 30'], { detached: true, reject: false });
  const bystander = execa('sleep', ['30'], { detached: true, reject: false });
  t.after(() => bystander.kill('SIGKILL'));
  const orphanStart = await psStartTime(orphan.pid!);
  const bystanderStart = await psStartTime(bystander.pid!);
  assert.ok(orphanStart !== null && Math.abs(orphanStart - Date.now() / 1000) < 10, `ps start time ${orphanStart}`);
  const base = { command: 'sh', args: [], cwd: null, owner: null, startedAt: Date.now(), bootId: null, supervisorId: 'crashed', hostPid: process.pid, hostStartTime: null, state: 'running', exitCode: null, signal: null, endedAt: null };
  records.insert({ ...base, id: 'orphan', pid: orphan.pid!, pgid: orphan.pid!, label: 'orphan', procStartTime: orphanStart });
  records.insert({ ...base, id: 'reused', startedAt: base.startedAt + 1, pid: bystander.pid!, pgid: bystander.pid!, label: 'reused', procStartTime: bystanderStart! - 3600 });
  const reaped = await reapOrphans(records, 'restarted', 1_000, pino({ level: 'silent' }), false);
  assert.deepEqual(
    reaped.map((p) => [p.record.id, p.killed]),
    [['orphan', true], ['reused', false]],
  );
  await orphan;
  assert.equal(isAlive(bystander.pid!), true);
});
