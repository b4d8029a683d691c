import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashToken, LastTokenHash, newToken } from './tokens.js';

describe('LastTokenHash', () => {
  it('gives hashToken of every token, the same one again, one that differs in its last character, or another length', () => {
    const hashes = new LastTokenHash();
    const a = newToken();
    const b = newToken();
    const nearA = `${a.slice(0, -1)}${a.endsWith('A') ? 'B' : 'A'}`;
    const tokens = [a, a, b, a, nearA, a, 'short', a, `${a}x`, `${'ü'.repeat(21)}x`, a, '', a];
    for (const token of tokens) assert.equal(hashes.of(token), hashToken(token), JSON.stringify(token));
  });
});
