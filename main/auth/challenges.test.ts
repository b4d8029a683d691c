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

  it('says which origins have a live challenge: each its own, until the last is presented or expires', () => {
    let now = 0;
    const store = new ChallengeStore(() => now);
    const [a, b] = ['https://a.example.test', 'https://b.example.test'];
    assert.equal(store.hasPendingOrigin(a), false);
    const first = store.mint(a);
    now = 1000;
    const second = store.mint(a);
    assert.deepEqual([store.hasPendingOrigin(a), store.hasPendingOrigin(b)], [true, false]);
    store.consume(second.challengeToken, a);
    assert.equal(store.hasPendingOrigin(a), true, 'the first is still pending');
    const ofB = store.mint(b);
    store.consume(first.challengeToken, b);
    assert.deepEqual([store.hasPendingOrigin(a), store.hasPendingOrigin(b)], [false, true], 'both of a presented (one from the wrong origin)');
    now = 1000 + CHALLENGE_TTL_MS;
    assert.equal(store.hasPendingOrigin(b), false, 'expired, though not yet pruned');
    assert.deepEqual(store.consume(ofB.challengeToken, b), { outcome: 'expired' });
    store.mint(a);
    assert.deepEqual([store.hasPendingOrigin(a), store.hasPendingOrigin(b)], [true, false], 'a prune keeps the live ones');
  });
});

