import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestingDepth } from './body.js';

describe('nestingDepth', () => {
  it('counts brackets outside strings only', () => {
    assert.equal(nestingDepth('{}'), 1);
    assert.equal(nestingDepth('{"a":[1,{"b":[]}]}'), 4);
    assert.equal(nestingDepth('{"a":"[[[[{{{{"}'), 1);
    assert.equal(nestingDepth('{"a":"\\"[[["}'), 1);
    assert.equal(nestingDepth('['.repeat(10_000) + ']'.repeat(10_000)), 10_000);
  });
});
