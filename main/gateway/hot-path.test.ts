// A paired browser's request costs no SQLite: sessions, allowed origins and settings are
// read from memory, and still change at once when the user revokes or edits them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../store/database.js';
import { SessionStore } from '../auth/sessions.js';
import { SettingsStore } from '../store/settings.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';

const WATCH = 'PRAGMA data_version';

/** Every statement run in this process (better-sqlite3's Statement methods), by its SQL. */
function recordStatements(gw: TestGateway): { run: string[]; restore: () => void } {
  const proto = Object.getPrototypeOf(gw.services.db.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  const originals = Object.fromEntries(['get', 'all', 'run', 'iterate'].map((name) => [name, proto[name]]));
  const run: string[] = [];
  for (const [name, original] of Object.entries(originals)) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      run.push(this.source);
      return original.apply(this, args);
    };
  }
  return { run, restore: () => Object.assign(proto, originals) };
}

describe('the per-request path', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway();
    // The start-up probes of the tools spawn children (recorded in SQLite): not per-request work.
    await gw.services.toolAvailability();
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  after(() => gw.close());

  it('answers a paired browser with no SQLite statement per request', async () => {
    const session = await gw.pair(APP);
    await gw.request('/api/gateway/version', { auth: { session, origin: APP } }); // the first use may touch last_used_at
    const recorder = recordStatements(gw);
    const started = performance.now();
    try {
      for (let i = 0; i < 100; i++) {
        const res = await gw.request('/api/gateway/version', { auth: { session, origin: APP } });
        assert.equal(res.status, 200);
        assert.equal(res.headers['access-control-allow-origin'], APP);
      }
    } finally {
      recorder.restore();
    }
    const seconds = Math.ceil((performance.now() - started) / 1000);
    assert.deepEqual(recorder.run.filter((sql) => sql !== WATCH), [], 'statements run for 100 requests');
    // Only the once-a-second look for other processes' writes, by the session and settings caches.
    const looks = recorder.run.length;
    assert.ok(looks <= 2 * (seconds + 1), `${looks} looks at data_version in ${seconds} s`);
  });

  it('refuses a revoked session on its very next request', async () => {
    const session = await gw.pair(APP);
    assert.equal((await gw.request('/api/gateway/version', { auth: { session, origin: APP } })).status, 200);
    const { sessions } = (await gw.request('/api/gateway/desktop/sessions', { auth: 'token' })).json as { sessions: Array<{ id: string }> };
    for (const { id } of sessions) {
      assert.equal((await gw.request(`/api/gateway/desktop/sessions/${id}`, { method: 'DELETE', auth: 'token' })).status, 200);
    }
    assert.equal((await gw.request('/api/gateway/version', { auth: { session, origin: APP } })).status, 401);
  });

  it('sees another process revoke a session or allow an origin within a second', async () => {
    const session = await gw.pair(APP);
    const other = openDatabase(`${gw.dataDir}/symphony.db`);
    try {
      const sessions = new SessionStore(other);
      for (const s of sessions.list()) sessions.revoke(s.id);
      new SettingsStore(other).set('allowedOrigins', ['https://new.example.test']);
    } finally {
      other.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await gw.request('/api/gateway/version', { auth: { session, origin: APP } })).status, 401);
    const preflight = await gw.request('/api/gateway/version', {
      method: 'OPTIONS',
      headers: { Origin: 'https://new.example.test', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 204);
  });

  it('shares one settings cache among the stores of one connection', () => {
    const other = new SettingsStore(gw.services.db);
    other.set('sharedProbe', 'one');
    assert.equal(gw.services.settings.get('sharedProbe'), 'one');
    gw.services.settings.delete('sharedProbe');
    assert.equal(other.get('sharedProbe'), undefined);
  });

  it('keeps settings in memory, frozen, and writes them through', () => {
    const settings = gw.services.settings;
    settings.set('benchProbe', { list: [1, 2] });
    const value = settings.get<{ list: number[] }>('benchProbe')!;
    assert.throws(() => value.list.push(3), TypeError);
    const reopened = new SettingsStore(openDatabase(`${gw.dataDir}/symphony.db`));
    assert.deepEqual(reopened.get('benchProbe'), { list: [1, 2] });
    settings.delete('benchProbe');
  });
});

describe('the log level', () => {
  it('is a setting the running gateway follows at once; a bad level is a 400 naming the field', async () => {
    const gw = await startTestGateway();
    try {
      const patch = (logLevel: unknown) => gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { logLevel }, auth: 'token' });
      const set = await patch('debug');
      assert.deepEqual([set.status, set.json.logLevel], [200, 'debug']);
      assert.equal(gw.services.log.level, 'debug');
      const bad = await patch('loud');
      assert.equal(bad.status, 400);
      assert.equal(bad.json.details.issues[0].field, 'logLevel');
      assert.equal((await patch(null)).json.logLevel, null);
      assert.notEqual(gw.services.log.level, 'debug');
    } finally {
      await gw.close();
    }
  });
});
