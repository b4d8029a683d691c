// Reading the model's answer, merging into the pattern store, uses and outcomes, the TOON
// export and the prompt section: on a real SQLite file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { PendingLearning } from '../../shared/schemas/learnings.js';
import { ProviderRegistry } from '../providers/registry.js';
import { openDatabase } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { parseLearnings } from './extract.js';
import { LearningsService } from './learnings.js';
import { toToon } from './toon.js';

const learning = (id: string, summary: string, extra: Partial<PendingLearning> = {}): PendingLearning => ({
  id, category: 'convention', summary, confidence: 0.8, applies_to: ['src/**'], source: 'run', context: ['seen in the run'], ...extra,
});

function service(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'learnings-'));
  const db = openDatabase(join(dir, 'db.sqlite'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const settings = new SettingsStore(db);
  return new LearningsService({ db, settings, providers: new ProviderRegistry(), resolvePath: async (p) => p, log: pino({ level: 'silent' }) });
}

test('the answer: the last json block, each entry validated alone; malformed ones reported with why', () => {
  const answer = [
    'Here is what I found.',
    '```json',
    JSON.stringify({
      learnings: [
        learning('L1', 'Run pnpm, never npm, in this repository'),
        { id: 'L2', category: 'rumour', summary: 'x', confidence: 2 },
        learning('L1', 'A duplicate id'),
      ],
    }),
    '```',
  ].join('\n');
  const parsed = parseLearnings(answer);
  assert.deepEqual(parsed.learnings.map((l) => l.id), ['L1']);
  assert.deepEqual(parsed.malformed.map((m) => m.index), [1, 2]);
  assert.ok(parsed.malformed[0].issues.some((i) => i.startsWith('category:')));
  assert.ok(parsed.malformed[0].issues.some((i) => i.startsWith('confidence:')));
  assert.ok(parsed.malformed[0].issues.some((i) => i.startsWith('applies_to:')));
  assert.deepEqual(parsed.malformed[1].issues, ['id: L1 is used twice']);

  const bare = parseLearnings(`ok {"note": 1} and {"learnings": [${JSON.stringify(learning('A', 'Bare JSON works too'))}]}`);
  assert.equal(bare.learnings.length, 1);
  assert.match(parseLearnings('I found nothing worth keeping.').error!, /did not answer with a JSON object/);
  assert.match(parseLearnings('```json\n{"lessons": []}\n```').error!, /no "learnings" array/);
  assert.deepEqual(parseLearnings('```json\n{"learnings": []}\n```'), { learnings: [], malformed: [] });
});

test('processing merges into patterns: the same lesson again raises seen_count, not a second pattern', async (t) => {
  const s = service(t);
  s.store.addPending('/r/shop', 'T-1', [learning('L1', 'Run pnpm, never npm.', { confidence: 0.6 }), learning('L2', 'Tests live beside the code', { category: 'pattern' })]);
  s.store.addPending('/r/shop', 'T-2', [learning('L1', 'run PNPM never npm', { confidence: 1, applies_to: ['package.json'] })]);
  assert.deepEqual(s.pending(), { totalCount: 3, worktreeCount: 2 });
  assert.equal((await s.process({ ticketId: 'T-1', repoPath: '/r/shop' })).status, 'completed');
  const second = await s.process({ ticketId: 'T-2', repoPath: '/r/shop' });
  assert.equal(second.count, 1);
  assert.equal((await s.process({ ticketId: 'T-2', repoPath: '/r/shop' })).status, 'skipped');
  const patterns = await s.patterns();
  assert.equal(patterns.length, 2);
  assert.deepEqual(
    { ...patterns[0] },
    {
      id: 'pattern-1', category: 'convention', summary: 'Run pnpm, never npm.', confidence: 0.8, seen_count: 2, success_rate: 0,
      flags: ['[UNTESTED]'], applies_to: ['src/**', 'package.json'], context: ['seen in the run'], repo: 'shop',
    },
  );
  assert.deepEqual(s.pending(), { totalCount: 0, worktreeCount: 0 });
});

test('uses with outcomes move seen counts and success rates; flags follow the record', async (t) => {
  const s = service(t);
  s.store.addPending('/r/shop', 'T-1', [learning('L1', 'Mock the clock in timing tests')]);
  await s.process({ ticketId: 'T-1', repoPath: '/r/shop' });
  const used = await s.recordUse({ ticketId: 'T-5', repoPath: '/r/shop', learnings: [{ id: 'pattern-1', summary: 'ignored when the id matches' }], outcome: 'success' });
  assert.deepEqual([used.status, used.count, used.matched, used.patterns[0].seen_count, used.patterns[0].success_rate, used.patterns[0].flags], ['recorded', 1, 1, 2, 1, []]);
  for (let i = 0; i < 3; i++) await s.recordUse({ ticketId: 'T-6', repoPath: '/r/shop', learnings: [{ summary: 'mock the clock in timing tests!' }], outcome: 'failure' });
  const [pattern] = await s.patterns();
  assert.deepEqual([pattern.seen_count, pattern.success_rate, pattern.flags], [5, 0.25, ['[REVIEW]']]);
  const unknown = await s.recordUse({ ticketId: 'T-7', repoPath: '/r/shop', learnings: [{ summary: 'never seen before' }] });
  assert.equal(unknown.matched, 0);
  for (let i = 0; i < 2; i++) await s.recordUse({ ticketId: 'T-6', repoPath: '/r/shop', learnings: [{ id: 'pattern-1', summary: '' }], outcome: 'failure' });
  assert.deepEqual((await s.patterns())[0].flags, ['[PRUNE]']);
  assert.deepEqual(s.promptSections('/r/shop'), [], 'a pattern to prune is not offered');
});

test('runs are offered the patterns of their repository (and of every repository), unless the setting is off', async (t) => {
  const s = service(t);
  s.store.addPending('/r/shop', 'T-1', [learning('L1', 'Use the money helper for prices', { confidence: 0.9 }), learning('L2', 'Low confidence lesson', { confidence: 0.2 })]);
  s.store.addPending('/r/other', 'T-1', [learning('L1', 'A lesson of another repository')]);
  await s.process({ ticketId: 'T-1', repoPath: '/r/shop' });
  await s.process({ ticketId: 'T-1', repoPath: '/r/other' });
  const [section] = s.promptSections('/work/shop');
  assert.equal(section.title, 'Learnings from earlier work in this repository (pattern-1, pattern-2)');
  assert.match(section.body, /^- \[pattern-1\] \(convention\) Use the money helper for prices \(applies to: src\/\*\*\)$/m);
  assert.doesNotMatch(section.body, /another repository/);
  assert.ok(section.body.indexOf('pattern-1') < section.body.indexOf('pattern-2'), 'higher confidence first');
  s.setOfferToRuns(false);
  assert.deepEqual(s.promptSections('/work/shop'), []);
});

test('the TOON export: header with the count and fields, two-space rows, summary quoted, lists joined with |', () => {
  const text = toToon(
    [
      { id: 'pattern-1', category: 'mistake', summary: 'Don\'t "await" in a loop, batch', confidence: 0.75, seen_count: 3, success_rate: 0.5, flags: ['[REVIEW]', '[STALE]'], applies_to: ['src/a.ts', 'db|io'], context: ['ctx, with comma'], repo: 'shop' },
      { id: 'pattern-2', category: 'insight', summary: 'x', confidence: 1, seen_count: 1, success_rate: 0, flags: [], applies_to: [], context: [], repo: '*' },
    ],
    new Date('2026-01-02T03:04:05Z'),
  );
  assert.equal(
    text,
    [
      '# Symphony learnings: 2 pattern(s), exported 2026-01-02T03:04:05.000Z',
      'patterns[2]{id,category,summary,confidence,seen_count,success_rate,flags,applies_to,context,repo}:',
      '  pattern-1,mistake,"Don\'t \\"await\\" in a loop, batch",0.75,3,0.5,"[REVIEW]|[STALE]",src/a.ts|db/io,"ctx, with comma",shop',
      '  pattern-2,insight,"x",1,1,0,"","","",*',
      '',
    ].join('\n'),
  );
});

test("a run's event log reads as a transcript: what was said and done, without thinking or broken lines", async () => {
  const { runTranscript } = await import('./learnings.js');
  const lines = [
    JSON.stringify({ type: 'launched', iteration: 0 }),
    JSON.stringify({ type: 'thinking', iteration: 1, content: 'hmm' }),
    JSON.stringify({ type: 'text', iteration: 1, content: 'I will use pnpm.' }),
    'not json',
    JSON.stringify({ type: 'error', iteration: 2, message: 'tests failed' }),
  ];
  assert.equal(runTranscript(lines), '[iteration 0] launched\n[iteration 1] text: I will use pnpm.\n[iteration 2] error: tests failed');
  assert.equal(runTranscript([]), null);
});
