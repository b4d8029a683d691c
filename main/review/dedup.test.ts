// The dedup rule on hand-made findings: exact, reworded, same-file and near-miss cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comparable, findDuplicates, normalise, similarity } from './dedup.js';

describe('dedup rule', () => {
  test('normalises case and punctuation to single spaces', () => {
    assert.equal(normalise('Off-by-one in `sum()`!\nSee: loop.'), 'off by one in sum see loop');
  });

  test('scores: Jaccard, +0.25 same file, +0.25 same opening, capped at 1', () => {
    // 2 shared words of 4 distinct: 0.5.
    assert.equal(similarity({ text: 'null check' }, { text: 'null pointer check missing' }), 0.5);
    assert.equal(similarity({ text: 'null check', file: 'a.ts' }, { text: 'null pointer check missing', file: 'a.ts' }), 0.75);
    // Identical text: 1 + 0.25 (opening) capped at 1.
    assert.equal(similarity({ text: 'Same words here' }, { text: 'same WORDS here.' }), 1);
    // An absolute path (codex) and a relative one (claude) are the same file.
    assert.equal(similarity({ text: 'x y', file: '/repo/src/a.ts' }, { text: 'x z', file: 'src/a.ts' }), 1 / 3 + 0.25);
    assert.equal(similarity({ text: '' }, { text: '' }), 0);
  });

  test('two overlapping reviews pair their common findings, greedily and in order', () => {
    const codex = [
      { title: '[P1] add() subtracts', body: 'The function add returns a minus b instead of a plus b.', file: '/repo/src/math.js' },
      { title: '[P2] Missing input validation', body: 'parseAge accepts negative numbers.', file: '/repo/src/age.js' },
      { title: '[P3] Typo in log message', body: 'recieved should be received.', file: '/repo/src/log.js' },
    ].map(comparable);
    const claude = [
      { message: 'Typo in log message\nrecieved should be received', file: 'src/log.js' },
      { message: 'add returns a minus b instead of a plus b\nThe function add() subtracts.', file: 'src/math.js' },
      { message: 'Unrelated: README is outdated', file: 'README.md' },
    ].map(comparable);
    assert.deepEqual(findDuplicates(codex, claude), [
      [0, 1],
      [2, 0],
    ]);
  });

  test('near misses stay apart: same file but different issue, similar words but below 0.6', () => {
    const a = [{ text: 'Off by one error in the loop bound of sum', file: 'src/sum.ts' }];
    // Same file, different problem: Jaccard 2/13 + 0.25 = 0.40.
    assert.deepEqual(findDuplicates(a, [{ text: 'The sum function lacks a docstring', file: 'src/sum.ts' }]), []);
    // Other file, 8 of 10 words shared: 0.8, a duplicate.
    assert.equal(similarity(a[0], { text: 'off by one error in the loop bound', file: 'src/other.ts' }), 0.8);
    // 6 of 10 words is exactly the threshold: a duplicate...
    assert.equal(similarity(a[0], { text: 'off by one error in loop' }), 0.6);
    assert.deepEqual(findDuplicates(a, [{ text: 'off by one error in loop' }]), [[0, 0]]);
    // ...6 of 11 (one extra word) is not.
    assert.ok(similarity(a[0], { text: 'off by one error in a loop' }) < 0.6);
    assert.deepEqual(findDuplicates(a, [{ text: 'off by one error in a loop' }]), []);
  });

  test('a B already taken is not given to a later A, even when it is that A best match', () => {
    const a = [{ text: 'null dereference in parse config', file: 'c.ts' }, { text: 'null dereference in parse config file', file: 'c.ts' }];
    const b = [{ text: 'null dereference in parse config', file: 'c.ts' }];
    assert.deepEqual(findDuplicates(a, b), [[0, 0]]);
  });

  test('PR review comments compare by body and path', () => {
    const findings = [comparable({ message: 'Token is logged in plain text\nThe logger prints the token.', file: 'src/auth.ts' })];
    const comments = [comparable({ body: 'Nit: rename this variable', path: 'src/util.ts' }), comparable({ body: 'The token is logged in plain text here.', path: 'src/auth.ts' })];
    assert.deepEqual(findDuplicates(findings, comments), [[0, 1]]);
  });

  test('either list empty: no pairs', () => {
    assert.deepEqual(findDuplicates([], [{ text: 'x' }]), []);
    assert.deepEqual(findDuplicates([{ text: 'x' }], []), []);
  });
});
