// Proof of possession with a managed `sk_live_` key: the gateway's identity (an id and an
// Ed25519 key pair, made on first need, kept in the secret store) signs the relay socket's
// handshake, the execution-credentials fetch and a heartbeat that falls back to the managed
// key; the mock cloud and the fake relay verify each signature with the registered public
// key, its freshness and the request's own pathname. A key that is not `sk_live_` sends no
// PoP, and the private key never reaches the (debug) log.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { callCloud } from '../http/cloud-call.js';
import { DeviceIdentity, POP_HEADERS, verifyPop } from '../relay/device-identity.js';
import { bodyHash, stableStringify } from '../relay/signatures.js';
import { FakeRelay } from '../relay/testing/fake-relay.js';
import { loopToken, MockCloud } from '../relay/testing/mock-cloud.js';
import { startTestGateway, type TestGateway } from './testing.js';

const API_KEY = 'sk_live_pop_test_key';
let cloud: MockCloud;
let relay: FakeRelay;
let gw: TestGateway;
const logLines: string[] = [];

before(async () => {
  [cloud, relay] = await Promise.all([MockCloud.start(), FakeRelay.start({ apiKey: API_KEY })]);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  gw = await startTestGateway({
    log: pino({ level: 'debug' }, sink),
    relay: { backoff: { baseMs: 50, capMs: 300 }, recheckMs: 200 },
    configure: async (services) => {
      await services.secrets.set('desktop-api-key', API_KEY);
      services.config.setApiOrigin(cloud.origin);
      services.relaySettings.setRelayOrigin(relay.origin);
    },
  });
  // The user registers the gateway with the cloud: from now on a managed key needs a valid PoP.
  const identity = await gw.services.deviceIdentity.describe();
  cloud.gatewayKeys.set(identity.gatewayId, identity.publicKey);
  cloud.apiKey = API_KEY;
  await gw.services.load('relay');
  gw.services.relay.start();
  await relay.until(() => gw.services.relay.status().state === 'connected', 'the relay link');
});

after(async () => {
  await gw.close();
  await Promise.all([cloud.close(), relay.close()]);
});

describe('proof of possession with a managed key', () => {
  test('the identity is made once, kept in the secret store, and shown by the relay status (route and CLI shape)', async () => {
    const identity = await gw.services.deviceIdentity.describe();
    assert.match(identity.gatewayId, /^gw_[0-9a-f-]{36}$/);
    assert.equal(Buffer.from(identity.publicKey, 'base64url').length, 32, 'a raw Ed25519 public key');
    // A second reader of the same store (the next start) finds the same identity.
    assert.deepEqual(await new DeviceIdentity({ secrets: gw.services.secrets }).describe(), identity);
    const status = await gw.request('/api/gateway/desktop/relay', { auth: 'token' });
    assert.equal(status.status, 200, status.text);
    assert.deepEqual(status.json.identity, identity);
    assert.ok(!status.text.includes(JSON.parse((await gw.services.secrets.get('gateway-identity'))!).privateKey), 'the private key is not in the status');
  });

  test('the relay socket handshake carries a PoP the relay verifies over its own method and pathname', async () => {
    const attempt = relay.authAttempts.find((a) => a.ok)!;
    assert.ok(attempt, 'the relay accepted the link');
    const keys = new Map([[cloud.gatewayKeys.keys().next().value!, cloud.gatewayKeys.values().next().value!]]);
    assert.equal(verifyPop(attempt.headers, 'GET', attempt.pathname, keys), null);
    // The check can fail: another path, or the same headers replayed later than the window.
    assert.equal(verifyPop(attempt.headers, 'GET', '/desktop-gateway', keys), 'PoP signature is invalid');
    assert.equal(verifyPop(attempt.headers, 'POST', attempt.pathname, keys), 'PoP signature is invalid');
    assert.equal(verifyPop(attempt.headers, 'GET', attempt.pathname, keys, Number(attempt.headers[POP_HEADERS.timestamp]) + 120), 'PoP timestamp is not fresh');
  });

  test('execution-credentials: fetched through the relay with the managed key and a PoP the cloud verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = gw.services.trustedKeys.add(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'pop test');
    const loopId = randomUUID();
    const intent = { documentId: 'doc-1', command: 'PLAN', prompt: null, repo: null };
    // The cloud hands out a body that is not what was signed, so nothing runs: the fetch is what is under test.
    cloud.executionBodies.set(loopId, {
      loopId, command: 'EVALUATE_PLAN', closedLoopAuthToken: loopToken(loopId), apiBaseUrl: cloud.origin, artifacts: [],
      prompt: null, repo: null, committer: null, artifactSlug: null, parentLoopId: null, parentBranchName: null, parentSessionId: null, localRepoPath: null,
    });
    const commandId = randomUUID();
    const payload = stableStringify({ commandId, method: 'POST', path: '/api/gateway/symphony/loop', query: [], bodyHash: bodyHash(intent), timestamp: Math.floor(Date.now() / 1000), nonce: randomUUID() });
    relay.sendCommand({
      commandId, operationId: 'symphony_loop', method: 'POST', path: '/api/gateway/symphony/loop', body: { loopId, userIntent: intent },
      signature: sign(null, Buffer.from(payload), privateKey).toString('base64'), signaturePayload: payload, publicKeyFingerprint: key.fingerprint,
    });
    const events = await relay.finished(commandId, 30_000);
    assert.equal(events.at(-1)?.data.error, 'unauthorized: payload_mismatch: the loop command is not the signed one', 'the fetch succeeded (PoP accepted), then the body was refused');
    const fetches = cloud.requests.filter((r) => r.path.endsWith(`/loops/${loopId}/execution-credentials`));
    assert.equal(fetches.length, 1);
    assert.equal(fetches[0].pop, null, 'the cloud verified the PoP');
    assert.equal(fetches[0].status, 200);
    gw.services.trustedKeys.remove(key.fingerprint);
  });

  test('a heartbeat whose loop token is about to expire (and cannot be refreshed) falls back to the managed key with PoP; loop-token calls send none', async () => {
    await gw.services.load('loops');
    const loopId = randomUUID();
    const token = loopToken(loopId, 10);
    cloud.tokens.set(loopId, token);
    cloud.refreshStatus = 409;
    try {
      await gw.services.loopCloud.saveToken(loopId, token);
      const outcome = await gw.services.loopCloud.call(loopId, 'heartbeat');
      assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
      const [refresh] = cloud.requests.filter((r) => r.path === `/loops/${loopId}/refresh-token`);
      assert.equal(refresh.headers.authorization, `Bearer ${token}`);
      assert.equal(refresh.headers[POP_HEADERS.signature], undefined, 'a loop token sends no PoP');
      const [beat] = cloud.requests.filter((r) => r.path === `/loops/${loopId}/heartbeat`);
      assert.equal(beat.headers.authorization, `Bearer ${API_KEY}`);
      assert.equal(beat.pop, null, 'the cloud verified the heartbeat PoP');
    } finally {
      cloud.refreshStatus = 200;
      await gw.services.loopCloud.forgetToken(loopId);
    }
  });

  test('a key that is not sk_live_ sends no PoP; a bad PoP is refused by the cloud', async () => {
    const loopId = randomUUID();
    const path = `/compute-targets/ct-test/loops/${loopId}/execution-credentials`;
    cloud.apiKey = 'cl_user_key';
    const plain = await callCloud({ origin: cloud.origin, path, token: 'cl_user_key', body: { commandId: randomUUID() }, timeoutMs: 5000, pop: gw.services.deviceIdentity.popHeaders });
    cloud.apiKey = API_KEY;
    assert.equal(plain.kind, 'rejected', 'no loop body is stored for this loop');
    const sent = cloud.requests.at(-1)!;
    for (const name of Object.values(POP_HEADERS)) assert.equal(sent.headers[name], undefined, `${name} is not sent with a non-managed key`);
    // A PoP made by another identity (not the registered one) is refused.
    const other = new DeviceIdentity({ secrets: { get: async () => null, set: async () => undefined } });
    const forged = await callCloud({ origin: cloud.origin, path, token: API_KEY, body: { commandId: randomUUID() }, timeoutMs: 5000, pop: other.popHeaders });
    assert.deepEqual([forged.kind, 'status' in forged && forged.status], ['rejected', 403]);
    assert.equal(cloud.requests.at(-1)!.pop, 'unknown gateway id');
  });

  test('the private key never appears in the debug log', async () => {
    const stored = JSON.parse((await gw.services.secrets.get('gateway-identity'))!) as { privateKey: string };
    const log = logLines.join('');
    assert.ok(log.includes('"level":20') || log.includes('"level":30'), 'the log captured debug and info lines');
    assert.ok(log.includes('heartbeat with the managed key'), 'the fallback was logged');
    assert.ok(!log.includes(stored.privateKey), 'the private key (PKCS#8, base64url) is not logged');
    assert.ok(!log.includes(Buffer.from(stored.privateKey, 'base64url').subarray(-32).toString('base64url')), 'nor its raw seed');
  });
});
