// The review store on a real SQLite file: current and earlier finding sets, settled
// findings across runs and reviewers, runs left running by a dead gateway.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../store/database.js';
import type { ExtractedFinding } from './extract.js';
import { ReviewStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'review-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const finding = (title: string): ExtractedFinding => ({
  severity: 'high', priority: 'P1', file: 'a.ts', line: 3, endLine: 3, title, body: 'why', suggestion: null, confidence: 0.5,
});
const config = { model: null, reasoningEffort: null, reviewMode: 'base' as const, baseBranch: 'main', instructions: null, branchName: null, useBaseRepo: false };

describe('ReviewStore', () => {
  test('a new set replaces the current one; earlier decisions stay findable across runs and reviewers', () => {
    const db = openDatabase(join(dir, 'a.db'));
    const store = new ReviewStore(db);
    const codex = { repoPath: '/r', ticketId: 'T', provider: 'codex' as const };
    const [first] = store.replaceFindings(codex, null, [finding('one'), finding('two')], 'm');
    assert.equal(store.setStatus(first.id, 'dismissed'), true);
    store.replaceFindings(codex, null, [finding('three')], 'm');
    assert.deepEqual(store.findings(codex).map((f) => [f.index, f.title, f.status]), [[0, 'three', 'open']]);
    store.replaceFindings({ ...codex, provider: 'claude' }, null, [{ ...finding('four'), status: 'commented' }], null);
    assert.deepEqual(store.settledFindings('/r', 'T').map((f) => [f.title, f.status]), [['one', 'dismissed'], ['four', 'commented']]);
    assert.deepEqual(store.settledFindings('/r', 'other'), []);
    assert.equal(store.finding(first.id)?.ticketId, 'T');
    db.close();
  });

  test('runs recorded as running without a live turn become interrupted; forget removes the scope', () => {
    const db = openDatabase(join(dir, 'b.db'));
    const store = new ReviewStore(db);
    const scope = { repoPath: '/r', ticketId: 'T', provider: 'claude' as const };
    store.createRun({ id: 'run-1', ...scope, cwd: '/r', config, logPath: '/logs/run-1.log' });
    store.createRun({ id: 'run-2', ...scope, cwd: '/r', config, logPath: '/logs/run-2.log' });
    assert.deepEqual(store.markInterrupted((id) => id === 'run-2'), ['run-1']);
    assert.equal(store.run('run-1')?.status, 'interrupted');
    assert.ok(store.run('run-1')?.completedAt);
    assert.equal(store.run('run-2')?.status, 'running');
    store.replaceFindings(scope, 'run-2', [finding('x')], null);
    assert.deepEqual(store.forget(scope), { runs: 2, logPaths: ['/logs/run-1.log', '/logs/run-2.log'] });
    assert.equal(store.latestRun(scope), null);
    assert.deepEqual(store.findings(scope), []);
    db.close();
  });
});
