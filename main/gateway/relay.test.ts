// The relay client of a real gateway against a local Socket.IO server playing the cloud
// relay: auth and hello, commands replayed to the gateway (plain, streaming, failing,
// refused), a dropped socket mid-stream, cancel, duplicates, pause.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { after, before, describe, test } from 'node:test';
import { FAKE_PROVIDER_ID, FakeProvider } from '../providers/testing/fake-provider.js';
import { makeTestDirs, type TestDirs } from '../providers/testing/cli-env.js';
import { FakeRelay } from '../relay/testing/fake-relay.js';
import type { CommandEvent } from '../relay/protocol.js';
import { bodyHash, stableStringify } from '../relay/signatures.js';
import { startTestGateway, type TestGateway } from './testing.js';

const API_KEY = 'sk_live_test_relay_key';
const FAST = { backoff: { baseMs: 50, capMs: 300 }, recheckMs: 200, helloTimeoutMs: 2_000 };

let relay: FakeRelay;
let gw: TestGateway;
let dirs: TestDirs;
/** Every log line of the gateway, at debug: no credential may show up in any of them. */
const logLines: string[] = [];

before(async () => {
  relay = await FakeRelay.start({ apiKey: API_KEY });
  dirs = makeTestDirs('relay-gw');
  gw = await startTestGateway({
    relay: FAST,
    log: pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) })),
    configure: async (services) => {
      services.providers.register(new FakeProvider({ deltas: 40, intervalMs: 25 }));
      await services.setWorkspaceRoot(dirs.cwd);
      await services.secrets.set('desktop-api-key', API_KEY);
      services.config.setApiOrigin(relay.origin);
    },
  });
  await gw.services.load('relay');
  gw.services.relay.start();
  await relay.until(() => gw.services.relay.status().state === 'connected', 'the desktop to connect');
});

after(async () => {
  await gw.close();
  await relay.close();
  dirs.cleanup();
});

let counter = 0;
const id = (name: string) => `${name}-${++counter}`;
const types = (events: CommandEvent[]) => events.map((e) => e.eventType);
const sequences = (events: CommandEvent[]) => events.map((e) => e.sequence);

describe('relay client', () => {
  test('connects with the API key in auth and says hello with the spec fields (and the gateway id)', async () => {
    assert.ok(relay.authAttempts.some((a) => a.apiKey === API_KEY && a.ok));
    const hello = relay.hellos[0];
    assert.equal(hello.protocolVersion, '1');
    assert.equal(typeof hello.messageId, 'string');
    assert.equal(hello.gatewayProtocolVersion, '0.1.0');
    assert.equal(hello.maxInFlightCommands, 2);
    assert.equal(hello.platform, process.platform);
    assert.equal(hello.desktopClientVersion, gw.services.version);
    assert.ok((hello.supportedOperations as string[]).includes('symphony_loop'));
    assert.match(String(hello.allowedDirectoriesHash), /^[0-9a-f]{64}$/);
    assert.equal(hello.gatewayId, (await gw.services.deviceIdentity.describe()).gatewayId, 'a managed key\'s hello names the gateway identity its PoP proved');
    const status = gw.services.relay.status();
    assert.equal(status.computeTargetId, 'ct-test');
    await relay.until(() => relay.presence.some((p) => p.state === 'online'), 'presence online');
    const view = await gw.request('/api/gateway/desktop/relay', { auth: 'token' });
    assert.equal(view.status, 200);
    assert.equal(view.json.state, 'connected');
    assert.equal(view.json.relayOrigin, relay.origin);
    assert.ok(!view.text.includes(API_KEY) && !view.text.includes(gw.token), 'no credential in the status');
  });

  test('GET /api/gateway/version: accepted ack, then status, result {statusCode: 200}, done', async () => {
    const commandId = id('version');
    relay.sendCommand({ commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version', headers: {}, timeoutMs: null, lockKey: null });
    const events = await relay.finished(commandId);
    const ack = relay.ackOf(commandId) as unknown as Record<string, unknown>;
    assert.deepEqual({ ...ack, messageId: undefined, timestamp: undefined }, { commandId, accepted: true, state: 'accepted', protocolVersion: '1', messageId: undefined, timestamp: undefined });
    assert.equal(typeof ack.messageId, 'string');
    assert.deepEqual(types(events), ['status', 'result', 'done']);
    assert.deepEqual(sequences(events), [1, 2, 3]);
    assert.deepEqual(events[0].data, { status: 'running', operationId: 'health_check' });
    assert.equal(events[1].data.statusCode, 200);
    assert.equal(events[1].data.success, true);
    assert.equal((events[1].data.data as { version: string }).version, gw.services.version);
  });

  test('a non-2xx reply becomes the error text "gateway returned <status>: <body>"', async () => {
    const direct = await gw.request('/api/gateway/repos', { method: 'POST', json: { path: 42 }, auth: 'token' });
    assert.equal(direct.status, 400);
    const commandId = id('bad');
    relay.sendCommand({ commandId, operationId: 'repos_config', method: 'POST', path: '/api/gateway/repos', body: { path: 42 } });
    const events = await relay.finished(commandId);
    assert.deepEqual(types(events), ['status', 'error']);
    assert.equal(events[1].data.error, `gateway returned 400: ${direct.text}`);
    assert.equal(events[1].data.terminal, true);
  });

  test('an operation id that is not our table\'s for the path: failed ack, nothing run', async () => {
    const before = gw.services.telemetry.snapshot();
    const commandId = id('mismatch');
    relay.sendCommand({ commandId, operationId: 'health_check', method: 'DELETE', path: '/api/gateway/desktop/api-key' });
    const other = id('mismatch');
    relay.sendCommand({ commandId: other, operationId: 'health_check', method: 'POST', path: '/api/gateway/repos', body: {} });
    await relay.until(() => Boolean(relay.ackOf(commandId) && relay.ackOf(other)), 'both acks');
    for (const refused of [commandId, other]) {
      assert.equal(relay.ackOf(refused)?.accepted, false);
      assert.equal(relay.ackOf(refused)?.state, 'failed');
      assert.equal(relay.ackOf(refused)?.reason, 'operationId/path mismatch');
      assert.equal(relay.eventsOf(refused).length, 0);
    }
    assert.equal(await gw.services.secrets.get('desktop-api-key'), API_KEY, 'the API key is still there');
    assert.deepEqual(gw.services.telemetry.snapshot(), before, 'the gateway saw no request');
  });

  test('a streaming chat: one chunk per NDJSON line, in order, sequences without gaps', async () => {
    const commandId = id('chat');
    relay.sendCommand({ commandId, operationId: 'terminal_chat', method: 'POST', path: '/api/gateway/terminal-chat', body: { message: '@fake hello' } });
    const events = await relay.finished(commandId);
    assert.deepEqual(sequences(events), events.map((_, i) => i + 1));
    assert.equal(events.at(-1)?.eventType, 'done');
    const chunks = events.filter((e) => e.eventType === 'chunk');
    const texts = chunks.filter((e) => e.data.type === 'text').map((e) => Number(String(e.data.content).split(' ')[0]));
    assert.deepEqual(texts, Array.from({ length: 40 }, (_, i) => i), 'every text delta, in order');
    assert.ok(events.some((e) => e.eventType === 'result' && e.data.success === true));
  });

  test('the socket drops mid-stream: reconnect, replay from the acked sequence, nothing lost or repeated', async () => {
    const commandId = id('drop');
    const hellos = relay.hellos.length;
    relay.sendCommand({ commandId, operationId: 'terminal_chat', method: 'POST', path: '/api/gateway/terminal-chat', body: { message: '@fake again' } });
    await relay.until(() => relay.eventsOf(commandId).filter((e) => e.eventType === 'chunk').length >= 8, 'some chunks');
    relay.drop();
    await relay.until(() => relay.hellos.length > hellos, 'the desktop to say hello again');
    const events = await relay.finished(commandId);
    const seqs = sequences(events);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'each sequence exactly once, in order');
    const texts = events.filter((e) => e.data.type === 'text').map((e) => Number(String(e.data.content).split(' ')[0]));
    assert.deepEqual(texts, Array.from({ length: 40 }, (_, i) => i));
    assert.ok(gw.services.relay.status().lastError?.message.includes('dropped'));
  });

  test('desktop.cancel stops a running stream: done {cancelled: true}, the turn ends', async () => {
    const commandId = id('cancel');
    relay.sendCommand({ commandId, operationId: 'terminal_chat', method: 'POST', path: '/api/gateway/terminal-chat', body: { message: '@fake long one' } });
    await relay.until(() => relay.eventsOf(commandId).some((e) => e.eventType === 'chunk' && e.data.type === 'text'), 'the stream to start');
    relay.cancel(commandId, 'stop it');
    const events = await relay.finished(commandId);
    assert.deepEqual(events.at(-1)?.data, { cancelled: true, reason: 'stop it' });
    assert.ok(events.filter((e) => e.data.type === 'text').length < 40, 'stopped before the end');
    await relay.until(() => gw.services.chats.list('terminal').find((s) => s.provider === FAKE_PROVIDER_ID)?.state !== 'running', 'the turn to stop');
    const recent = gw.services.relay.status().commands.recent.find((c) => c.commandId === commandId);
    assert.equal(recent?.outcome, 'cancelled');
  });

  test('a duplicate command id is re-acked and, once finished, its events are replayed', async () => {
    const commandId = id('dup');
    const command = { commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' };
    relay.sendCommand(command);
    await relay.finished(commandId);
    relay.sendCommand(command);
    await relay.until(() => relay.eventsOf(commandId).length === 6, 'the replay');
    assert.deepEqual(sequences(relay.eventsOf(commandId)), [1, 2, 3, 1, 2, 3]);
    assert.equal(relay.acks.filter((a) => a.commandId === commandId && a.accepted).length, 2);
  });

  test('paused by the user: presence paused, commands refused with the reason; resume takes them again', async () => {
    const paused = await gw.request('/api/gateway/desktop/relay', { method: 'PATCH', json: { paused: true }, auth: 'token' });
    assert.equal(paused.json.paused, true);
    await relay.until(() => relay.presence.at(-1)?.state === 'paused', 'presence paused');
    const commandId = id('paused');
    relay.sendCommand({ commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
    await relay.until(() => Boolean(relay.ackOf(commandId)), 'the ack');
    assert.equal(relay.ackOf(commandId)?.reason, 'cloud commands paused by user');
    await gw.request('/api/gateway/desktop/relay', { method: 'PATCH', json: { paused: false }, auth: 'token' });
    await relay.until(() => relay.presence.at(-1)?.state === 'online', 'presence online');
    const next = id('resumed');
    relay.sendCommand({ commandId: next, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
    assert.deepEqual(types(await relay.finished(next)), ['status', 'result', 'done']);
  });

  test('signatures required: an unsigned write is refused with the reason and not run; a signed one runs', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = gw.services.trustedKeys.add(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'test browser');
    const set = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { requireSignedCommands: true }, auth: 'token' });
    assert.equal(set.json.requireSignedCommands, true);
    try {
      const repos = () => gw.services.repos.list().length;
      const before = repos();
      const unsigned = id('unsigned');
      relay.sendCommand({ commandId: unsigned, operationId: 'repos_config', method: 'POST', path: '/api/gateway/repos', body: { path: dirs.cwd } });
      await relay.until(() => Boolean(relay.ackOf(unsigned)), 'the ack');
      assert.equal(relay.ackOf(unsigned)?.reason, 'unauthorized: unsigned command');
      assert.equal(relay.eventsOf(unsigned).length, 0);
      assert.equal(repos(), before);
      const commandId = id('signed');
      const payload = stableStringify({ commandId, method: 'GET', path: '/api/gateway/version', query: [], bodyHash: bodyHash(null), timestamp: Math.floor(Date.now() / 1000), nonce: randomUUID() });
      relay.sendCommand({
        commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version',
        signature: sign(null, Buffer.from(payload), privateKey).toString('base64'), signaturePayload: payload, publicKeyFingerprint: key.fingerprint,
      });
      assert.deepEqual(types(await relay.finished(commandId)), ['status', 'result', 'done']);
    } finally {
      await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { requireSignedCommands: false }, auth: 'token' });
    }
  });

  test('through the gateway: two commands on one repository one after the other, on two repositories at once, a third queued', async () => {
    // Commands the cloud marks requiresApproval wait for a person: they hold their slot until decided.
    const held = (commandId: string, lockKey: string) =>
      relay.sendCommand({ commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version', lockKey, requiresApproval: true, approvalReason: commandId });
    const plain = (commandId: string, lockKey: string) => relay.sendCommand({ commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version', lockKey });
    const [a1, a2, b1, c1] = [id('repo-a'), id('repo-a'), id('repo-b'), id('repo-c')];
    held(a1, '/repos/a');
    plain(a2, '/repos/a');
    held(b1, '/repos/b');
    plain(c1, '/repos/c');
    await relay.until(() => gw.services.approvals.list().length === 2, 'a1 and b1 asking at once');
    const view = () => gw.services.relay.status().commands;
    assert.deepEqual(view().inFlight.map((c) => c.commandId).sort(), [a1, b1].sort(), 'two repositories in parallel');
    assert.deepEqual(view().queued.map((c) => c.commandId), [a2, c1], 'a2 waits for its repository, c1 for a slot');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(relay.eventsOf(a2).length + relay.eventsOf(c1).length, 0, 'neither started');
    const approvalOf = (commandId: string) => gw.services.approvals.list().find((a) => a.claimedReason === commandId)!;
    gw.services.approvals.decide(approvalOf(a1).id, { decision: 'allow_once' });
    await relay.finished(a1);
    await relay.finished(a2);
    await relay.finished(c1);
    const order = relay.received.map((e) => `${e.commandId}:${e.eventType}`);
    assert.ok(order.indexOf(`${a2}:status`) > order.indexOf(`${a1}:done`), `a2 started only after a1 was done: ${order.join(' ')}`);
    assert.equal(relay.eventsOf(b1).length, 1, 'b1 is still running (its status event only), waiting for its approval');
    gw.services.approvals.decide(approvalOf(b1).id, { decision: 'allow_once' });
    const b1Events = await relay.finished(b1);
    assert.deepEqual(types(b1Events), ['status', 'result', 'done']);
  });

  test('relay commands are the `relay` caller: its own policy and approvals; the relay secret cannot be forged and is never logged', async () => {
    gw.services.policy.replaceOverrides([{ callerKind: 'relay', operation: 'health_check', access: 'read', decision: 'deny' }]);
    try {
      const denied = id('relay-denied');
      relay.sendCommand({ commandId: denied, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
      const events = await relay.finished(denied);
      assert.match(String(events.at(-1)?.data.error), /^gateway returned 403: .*policy_denied/);
      assert.equal((await gw.request('/api/gateway/version', { auth: 'token' })).status, 200, 'the token caller is still allowed');
    } finally {
      gw.services.policy.replaceOverrides([]);
    }
    // A paired origin's defaults apply to the cloud: adding a repository asks, and the ask names the relay.
    const asked = id('relay-asks');
    relay.sendCommand({ commandId: asked, operationId: 'repos_config', method: 'POST', path: '/api/gateway/repos', body: { path: dirs.cwd } });
    await relay.until(() => gw.services.approvals.list().length > 0, 'the approval');
    const approval = gw.services.approvals.list()[0];
    assert.equal(approval.caller.kind, 'relay');
    assert.equal(approval.caller.claimedSource, 'cloud-socket');
    gw.services.approvals.decide(approval.id, { decision: 'deny' });
    assert.match(String((await relay.finished(asked)).at(-1)?.data.error), /^gateway returned 403/);
    // Someone else with the gateway token cannot claim to be the relay, nor learn the secret from a refusal.
    const forged = await gw.request('/api/gateway/version', { auth: 'token', headers: { 'X-Desktop-Relay-Secret': 'a-guess' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.code, 'invalid_relay_secret');
    const withoutToken = await gw.request('/api/gateway/version', { headers: { 'X-Desktop-Relay-Secret': gw.services.relaySecret } });
    assert.equal(withoutToken.status, 401, 'the secret alone is no credential');
    const all = logLines.join('');
    assert.ok(all.includes('health_check'), 'the log was captured');
    for (const secret of [gw.services.relaySecret, gw.token, API_KEY]) assert.ok(!all.includes(secret), 'no credential in the log');
  });

  test('the relay origin must be https except on loopback', async () => {
    const insecure = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { relayOrigin: 'http://relay.example.com' }, auth: 'token' });
    assert.equal(insecure.status, 400);
    assert.equal(insecure.json.code, 'insecure_origin');
    assert.equal(gw.services.relaySettings.relayOriginSetting(), null);
    const view = await gw.request('/api/gateway/desktop/config', { auth: 'token' });
    assert.equal(view.json.relayOrigin, relay.origin, 'the API origin stands in');
    assert.equal(view.json.relayOriginSetting, null);
  });
});

describe('relay client without what it needs', () => {
  test('no API key: not connected, and the status says why; a wrong key: the relay refuses, the error is shown', async () => {
    const other = await startTestGateway({ relay: FAST, configure: (services) => services.config.setApiOrigin(relay.origin) });
    try {
      await other.services.load('relay');
      other.services.relay.start();
      await relay.until(() => /No desktop API key/.test(other.services.relay.status().reason ?? ''), 'the reason');
      assert.equal(other.services.relay.status().state, 'disconnected');
      const attempts = relay.authAttempts.length;
      await other.services.secrets.set('desktop-api-key', 'sk_live_wrong_key');
      await relay.until(() => /Unauthorized/.test(other.services.relay.status().lastError?.message ?? ''), 'the refusal');
      assert.ok(relay.authAttempts.slice(attempts).every((a) => !a.ok));
      assert.equal(other.services.relay.status().state === 'connected', false);
    } finally {
      await other.close();
    }
  });
});
