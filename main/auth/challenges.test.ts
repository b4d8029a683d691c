import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHALLENGE_TTL_MS, ChallengeStore } from './challenges.js';

describe('ChallengeStore', () => {
  it('is single use, bound to one origin, and short lived', () => {
    let now = 0;
    const store = new ChallengeStore(() => now);
    const a = store.mint('https://a.example.test');
    assert.equal(store.hasPendingOrigin('https://a.example.test'), true);
    assert.deepEqual(store.consume(a.challengeToken, 'https://a.example.test'), { outcome: 'ok', origin: 'https://a.example.test' });
    assert.deepEqual(store.consume(a.challengeToken, 'https://a.example.test'), { outcome: 'used' });
    const b = store.mint('https://a.example.test');
    assert.deepEqual(store.consume(b.challengeToken, 'https://b.example.test'), { outcome: 'origin_mismatch' });
    assert.deepEqual(store.consume(b.challengeToken, 'https://a.example.test'), { outcome: 'used' }, 'a wrong-origin try burns it');
    const c = store.mint('https://a.example.test');
    now = CHALLENGE_TTL_MS + 1;
    assert.deepEqual(store.consume(c.challengeToken, 'https://a.example.test'), { outcome: 'expired' });
    assert.deepEqual(store.consume('never-minted', 'https://a.example.test'), { outcome: 'unknown' });
  });
});
