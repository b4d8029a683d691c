// A CLI command on the data dir of a serving gateway only reads the runs: it builds the
// services (every command does), but it must never finalise a launch the serving gateway
// has in flight (a run still STARTING, its host not started yet), nor a live run. Only the
// serving process reattaches or marks runs INTERRUPTED. Real processes: this test holds
// the in-flight launch (as the serving gateway would, in another process), `runs --json`
// runs as a second process on the same SQLite file, and then a `serve` finalises.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startServe } from './cli/testing/serve.js';
import { openDatabase, type Db } from './store/database.js';
import { RunStore, type RunRow, type RunStatus } from './symphony/run-store.js';

let root: string;
let dataDir: string;
let db: Db;
let store: RunStore;
const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir, '--secret-store', 'file']);

before(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cli-runs-')));
  dataDir = join(root, 'data');
  const configured = await cli('config', '--workspace-root', root);
  assert.equal(configured.code, 0, configured.stderr);
  db = openDatabase(join(dataDir, 'symphony.db'));
  store = new RunStore(db);
});

after(() => {
  db?.close();
  rmSync(root, { recursive: true, force: true });
});

function inFlight(ticketId: string, status: RunStatus): RunRow {
  const workDir = join(root, 'work', ticketId);
  mkdirSync(workDir, { recursive: true });
  return store.create({
    ticketId, ticketSlug: ticketId, ticket: {}, repoPath: join(root, 'repo'), worktreePath: join(root, `repo-${ticketId}`), branch: `feature/${ticketId}`,
    baseBranch: 'origin/main', workDir, provider: 'claude', model: null, status, phase: 'Initializing', reason: null, iteration: 0, completedIteration: 0,
    maxIterations: 20, sessionId: null, lastError: null, plan: null, planAccepted: false, autoApprovePlan: false, currentTaskId: null, followPr: false,
    prRounds: 0, prNumber: null, prUrl: null, pendingFeedback: [],
    options: { commandJudges: [], llmJudge: null, judgeTimeoutMs: 1, stallTimeoutMs: 1, backoffBaseMs: 1, backoffMaxMs: 1, maxApiRetries: 0, maxStallRetries: 0, budgetTokens: null, budgetUsd: null, prompt: null, skipPlan: false, extraSections: [] },
  });
}

test('runs --json in a second process leaves an in-flight STARTING launch alone; only serve finalises', { timeout: 120_000 }, async () => {
  const starting = inFlight('FLIGHT-1', 'STARTING');
  const listed = await cli('runs', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const shown = (JSON.parse(listed.stdout).runs as Array<{ ticketId: string; status: string }>).find((r) => r.ticketId === 'FLIGHT-1');
  assert.equal(shown?.status, 'STARTING', 'the CLI shows the launch as it is');
  assert.equal(store.require(starting.id).status, 'STARTING', 'the CLI did not mark the launch INTERRUPTED');
  const retention = await cli('runs', 'retention');
  assert.equal(retention.code, 0, retention.stderr);
  assert.equal(store.require(starting.id).status, 'STARTING');

  // The serving gateway is the one that finalises: at its start (before it listens) a launch with no host is over.
  const serve = await startServe(dataDir, []);
  try {
    assert.equal(store.require(starting.id).status, 'INTERRUPTED', 'serve finalised the launch whose host never started');
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
});
