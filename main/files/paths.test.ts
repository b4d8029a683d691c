import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isInside, realpathOfNearestExisting } from './paths.js';

describe('isInside', () => {
  it('compares whole segments', () => {
    assert.equal(isInside('/repo', '/repo'), true);
    assert.equal(isInside('/repo/a/b', '/repo'), true);
    assert.equal(isInside('/repo/..wt', '/repo'), true, 'a name starting with two dots is still inside');
    assert.equal(isInside('/repo-evil', '/repo'), false);
    assert.equal(isInside('/other', '/repo'), false);
    assert.equal(isInside('/repo/x', '/repo/'), true);
  });
});

describe('realpathOfNearestExisting', () => {
  it('resolves the existing part and keeps the missing tail; refuses dangling links', async () => {
    const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'paths-')));
    try {
      mkdirSync(path.join(root, 'real'));
      symlinkSync(path.join(root, 'real'), path.join(root, 'link'));
      symlinkSync(path.join(root, 'gone'), path.join(root, 'dangling'));
      assert.equal(await realpathOfNearestExisting(path.join(root, 'link', 'new', 'deeper')), path.join(root, 'real', 'new', 'deeper'));
      await assert.rejects(realpathOfNearestExisting(path.join(root, 'dangling', 'x')), /symbolic link/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
