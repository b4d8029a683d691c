// The Activity trail and the log file over real sockets: what each request leaves in the
// ring (caller, operation, method and path, status, duration, who decided an ask), what it
// never leaves (bodies, queries, tokens), static /ui/ files not counted, and the 0600 log
// file that a 500's message names.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logFilePath, openGatewayLog } from '../telemetry/log-files.js';
import { startTestGateway, until, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';
const SECRET = 'hunter2-do-not-log';

describe('activity trail and log file', () => {
  let gw: TestGateway;
  let session: string;
  let dataDir: string;
  const activity = async (query = '') => (await gw.request(`/api/gateway/desktop/activity${query}`, { auth: 'token' })).json;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'symphony-activity-'));
    gw = await startTestGateway({ dataDir, gatewayLog: openGatewayLog({ dataDir, level: 'info' }) });
    session = await gw.pair(APP);
  });
  after(() => gw.close());

  it('records each request with its caller, operation, method, path, status and duration; newest first', async () => {
    await gw.request('/api/gateway/version', { auth: 'token' });
    await gw.request('/api/gateway/version', { auth: { session, origin: APP } });
    const { entries, capacity, logFile } = await activity();
    assert.equal(logFile, logFilePath(dataDir));
    assert.ok(capacity >= 100);
    const [fromApp, fromToken] = entries;
    assert.deepEqual(
      { caller: fromApp.callerKind, origin: fromApp.callerOrigin, op: fromApp.operation, method: fromApp.method, path: fromApp.path, status: fromApp.status },
      { caller: 'origin', origin: APP, op: 'health_check', method: 'GET', path: '/api/gateway/version', status: 200 },
    );
    assert.equal(fromToken.callerKind, 'token');
    assert.equal(fromToken.callerOrigin, null);
    assert.ok(fromApp.seq > fromToken.seq);
    assert.equal(typeof fromApp.durationMs, 'number');
    assert.ok(!Number.isNaN(Date.parse(fromApp.time)));
    assert.equal(fromApp.approval, null);
  });

  it('filters by caller (kind or one paired origin) and operation, and gives only newer entries after a seq', async () => {
    const { latestSeq } = await activity();
    await gw.request('/api/gateway/repos', { auth: { session, origin: APP } });
    await gw.request('/api/gateway/version', { auth: 'token' });
    const byOrigin = (await activity(`?caller=${encodeURIComponent(APP)}&after=${latestSeq}`)).entries;
    assert.deepEqual(byOrigin.map((e: { operation: string }) => e.operation), ['repos_config']);
    const byKind = (await activity(`?caller=token&after=${latestSeq}`)).entries;
    assert.deepEqual(byKind.map((e: { operation: string }) => e.operation), ['health_check']);
    const byOperation = (await activity(`?operation=repos_config&after=${latestSeq}`)).entries;
    assert.equal(byOperation.length, 1);
    assert.equal((await activity(`?after=${(await activity()).latestSeq}`)).entries.length, 0, 'its own polling is not recorded');
    assert.equal((await gw.request('/api/gateway/desktop/activity?limit=0', { auth: 'token' })).status, 400);
    assert.equal((await gw.request('/api/gateway/desktop/activity', { auth: { session, origin: APP } })).status, 403, 'desktop-only');
  });

  it("leaves out the Activity screen's own reads, but not a refused one", async () => {
    const { latestSeq } = await activity();
    await gw.request('/api/gateway/desktop/telemetry', { auth: 'token' });
    await activity();
    assert.equal((await activity(`?after=${latestSeq}`)).entries.length, 0, 'telemetry and activity reads are not recorded');
    assert.equal((await gw.request('/api/gateway/desktop/telemetry', { auth: { session, origin: APP } })).status, 403);
    const refused = (await activity(`?after=${latestSeq}`)).entries;
    assert.deepEqual(refused.map((e: { path: string; status: number }) => [e.path, e.status]), [['/api/gateway/desktop/telemetry', 403]]);
  });

  it('says who decided an ask, and what', async () => {
    const waiting = gw.request('/api/gateway/version', { auth: { session, origin: APP }, headers: { 'X-Desktop-Force-Approval': '1' } });
    let approval: { id: string } | undefined;
    await until(async () => Boolean((approval = (await gw.request('/api/gateway/desktop/approvals', { auth: 'token' })).json.approvals[0])), 'an approval');
    await gw.request(`/api/gateway/desktop/approvals/${approval!.id}`, { method: 'POST', json: { decision: 'deny' }, auth: 'token' });
    assert.equal((await waiting).status, 403);
    const asked = (await activity(`?caller=${encodeURIComponent(APP)}`)).entries[0];
    assert.deepEqual(asked.approval, { decision: 'deny', decidedBy: 'token' });
    assert.equal(asked.status, 403);
  });

  it('never holds bodies, query strings or tokens, in the ring or the log file', async () => {
    await gw.request(`/api/gateway/files/search?query=${SECRET}`, { auth: { session, origin: APP } });
    await gw.request('/api/gateway/repos', { method: 'POST', json: { path: SECRET }, auth: 'token' });
    const text = JSON.stringify(await activity());
    await until(() => readFileSync(logFilePath(dataDir), 'utf8').includes('/api/gateway/repos'), 'the log line');
    const log = readFileSync(logFilePath(dataDir), 'utf8');
    for (const [where, haystack] of [['ring', text], ['log', log]] as const) {
      assert.doesNotMatch(haystack, new RegExp(SECRET), where);
      assert.ok(!haystack.includes(gw.token), `${where}: gateway token`);
      assert.ok(!haystack.includes(session), `${where}: session token`);
    }
  });

  it('does not count static /ui/ files as operations', async () => {
    const before = (await activity()).latestSeq;
    for (const path of ['/ui/', '/ui/assets/app.js', '/ui/nope.css']) await gw.request(path);
    assert.equal((await activity(`?after=${before}`)).entries.length, 0);
    const telemetry = (await gw.request('/api/gateway/desktop/telemetry', { auth: 'token' })).json.operations;
    assert.equal(telemetry.unmatched, undefined);
    assert.equal(telemetry.static_ui, undefined);
  });

  it('writes JSON lines to a 0600 file in a 0700 folder, and a 500 names that file and the request id', async () => {
    assert.equal((statSync(logFilePath(dataDir)).mode & 0o777).toString(8), '600');
    assert.equal((statSync(join(dataDir, 'logs')).mode & 0o777).toString(8), '700');
    const version = Object.getOwnPropertyDescriptor(gw.services, 'version')!;
    Object.defineProperty(gw.services, 'version', { configurable: true, get: () => { throw new Error('boom'); } });
    try {
      const res = await gw.request('/api/gateway/version', { auth: 'token' });
      assert.equal(res.status, 500);
      assert.ok(res.json.error.includes(logFilePath(dataDir)), res.json.error);
      assert.ok(res.json.error.includes(String(res.headers['x-request-id'])));
      assert.equal(res.json.details.logFile, logFilePath(dataDir));
      const id = String(res.headers['x-request-id']);
      await until(() => readFileSync(logFilePath(dataDir), 'utf8').includes(`"requestId":"${id}"`), 'the failure in the log');
      const lines = readFileSync(logFilePath(dataDir), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.ok(lines.some((line) => line.requestId === id && line.msg === 'request failed'));
    } finally {
      Object.defineProperty(gw.services, 'version', version);
    }
  });
});
