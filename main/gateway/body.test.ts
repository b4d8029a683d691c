import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestingDepth } from './body.js';

describe('nestingDepth', () => {
  it('counts nested arrays and objects of a parsed value, without recursion', () => {
    assert.equal(nestingDepth({}), 1);
    assert.equal(nestingDepth(JSON.parse('{"a":[1,{"b":[]}]}')), 4);
    assert.equal(nestingDepth({ a: '[[[[{{{{' }), 1);
    assert.equal(nestingDepth('plain'), 0);
    let deep: unknown[] = [];
    const top = deep;
    for (let i = 0; i < 100_000; i++) deep = (deep[0] = []) as unknown[];
    assert.ok(nestingDepth(top) > 64, 'stops early and never overflows the stack');
  });
});
