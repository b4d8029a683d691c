// Run hosts, the gateway and CLI commands share one SQLite file from several processes.
// A transaction that reads and then writes must take the write lock when it begins: a
// deferred one reads an old snapshot, and once another process has committed meanwhile
// SQLite refuses the upgrade at once with "database is locked" (busy_timeout does not
// apply). The full-size runs benchmark lost one of 20 runs that way.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunStore, type RunOptions } from '../symphony/run-store.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { ForeignWrites, openDatabase } from './database.js';

const dir = mkdtempSync(join(tmpdir(), 'symphony-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS: RunOptions = {
  commandJudges: [], llmJudge: null, judgeTimeoutMs: 1000, stallTimeoutMs: 1000, backoffBaseMs: 10, backoffMaxMs: 10,
  maxApiRetries: 0, maxStallRetries: 0, budgetTokens: null, budgetUsd: null, prompt: null, skipPlan: false, extraSections: [],
};

/** Another process: takes the write lock, says so with a marker file, holds it `holdMs`, then commits a change to the run. */
const HOLDER = `
const Database = require('better-sqlite3');
const fs = require('node:fs');
const [file, marker, runId, holdMs] = process.argv.slice(1);
const db = new Database(file);
db.pragma('busy_timeout = 5000');
db.exec('BEGIN IMMEDIATE');
db.prepare("UPDATE symphony_runs SET phase = 'touched by the other process' WHERE id = ?").run(runId);
fs.writeFileSync(marker, 'locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
db.exec('COMMIT');
`;

test('a read-then-write transaction waits for another process holding the lock, instead of failing "database is locked"', async () => {
  const file = join(dir, 'symphony.db');
  const db = openDatabase(file);
  const store = new RunStore(db);
  const run = store.create({
    ticketId: 'ENG-1', ticketSlug: 'eng-1', ticket: {}, repoPath: dir, worktreePath: dir, branch: 'feature/ENG-1', baseBranch: 'main',
    workDir: dir, provider: 'claude', model: null, status: 'IN_PROGRESS', phase: 'Working', reason: null, iteration: 1,
    completedIteration: 0, maxIterations: 5, sessionId: null, lastError: null, plan: null, planAccepted: true, autoApprovePlan: true,
    currentTaskId: null, options: OPTIONS, followPr: false, prRounds: 0, prNumber: null, prUrl: null, pendingFeedback: [],
  });
  const marker = join(dir, 'locked');
  const holder = new Supervisor().run(process.execPath, ['-e', HOLDER, file, marker, run.id, '400'], { timeoutMs: 20_000 });
  while (!existsSync(marker)) await sleep(10);
  // Read the run before the other process commits (the snapshot a deferred transaction would keep).
  assert.equal(store.get(run.id)?.phase, 'Working');
  const moved = store.transition(run.id, ['IN_PROGRESS'], { status: 'STOPPED', phase: 'Stopped', endedAt: Date.now() });
  const result = await holder;
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(moved, true);
  const after = store.get(run.id)!;
  assert.equal(after.status, 'STOPPED');
  assert.equal(after.phase, 'Stopped', 'written after the other process committed, not lost under it');
  db.close();
});

test("ForeignWrites sees another connection's commit once its interval is up, not before; a forced look at once", async () => {
  const file = join(dir, 'foreign.db');
  const ours = openDatabase(file);
  const other = openDatabase(file);
  try {
    other.exec('CREATE TABLE probe (n INTEGER)');
    const foreign = new ForeignWrites(ours, 200);
    other.prepare('INSERT INTO probe VALUES (1)').run();
    assert.equal(foreign.changed(), false, 'within the interval: no look');
    await sleep(250);
    assert.equal(foreign.changed(), true, 'the interval is up: it looks and sees the commit');
    assert.equal(foreign.changed(), false);
    other.prepare('INSERT INTO probe VALUES (2)').run();
    await sleep(250);
    assert.equal(foreign.changed(), true, 'again after the next interval (the timer restarts after each look)');
    other.prepare('INSERT INTO probe VALUES (3)').run();
    assert.equal(foreign.changed(), false);
    assert.equal(foreign.changed(true), true, 'a forced look asks SQLite whatever the interval');
    assert.equal(foreign.changed(true), false, 'nothing new since');
  } finally {
    other.close();
    ours.close();
  }
});

