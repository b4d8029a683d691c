import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../store/database.js';
import { SessionStore } from './sessions.js';

describe('SessionStore', () => {
  it('expires sessions when idle and at their absolute end', () => {
    let now = 0;
    const store = new SessionStore(openDatabase(':memory:'), { defaultTtlMs: 10_000_000, idleTimeoutMs: 100_000 }, () => now);
    const idle = store.create('https://a.example.test', 'origin');
    const busy = store.create('https://a.example.test', 'origin', 200_000);
    for (now = 40_000; now <= 160_000; now += 40_000) assert.ok(store.authenticate(busy.token), `busy at ${now}`);
    assert.equal(store.authenticate(idle.token), null, 'idle for longer than the idle timeout');
    now = 200_001;
    assert.equal(store.authenticate(busy.token), null, 'past its absolute expiry');
    assert.equal(store.hasLiveOrigin('https://a.example.test'), false);
  });

  it('revokes by id and never stores the token', () => {
    const db = openDatabase(':memory:');
    const store = new SessionStore(db);
    const session = store.create('https://a.example.test', 'origin');
    assert.ok(!JSON.stringify(db.prepare('SELECT * FROM sessions').all()).includes(session.token));
    assert.equal(store.revoke(session.id), true);
    assert.equal(store.authenticate(session.token), null);
    assert.equal(store.revoke(session.id), false);
  });

  it('finds each session by its own token, alternating or repeated, and refuses a near miss and a revoked token at once', () => {
    const store = new SessionStore(openDatabase(':memory:'));
    const a = store.create('https://a.example.test', 'origin');
    const b = store.create('https://b.example.test', 'origin');
    for (const [token, origin] of [[a.token, a.origin], [a.token, a.origin], [b.token, b.origin], [a.token, a.origin]]) {
      assert.equal(store.authenticate(token)?.origin, origin);
    }
    const nearA = `${a.token.slice(0, -1)}${a.token.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(store.authenticate(nearA), null, 'one character off the token presented last');
    assert.equal(store.authenticate(a.token)?.id, a.id);
    store.revoke(a.id);
    assert.equal(store.authenticate(a.token), null, 'revoked: refused on its very next use');
    assert.equal(store.authenticate(b.token)?.id, b.id);
  });
});
