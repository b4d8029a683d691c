// Signed commands with real Ed25519 keys (node:crypto): what passes, what each failure is
// called, and that what runs must be what was signed.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Db } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { DesktopCommand } from './protocol.js';
import { CommandSignatures, TrustedKeys, bodyHash, stableStringify } from './signatures.js';

let dir: string;
let db: Db;
let keys: TrustedKeys;
let privateKey: KeyObject;
let fingerprint: string;
let required = false;
let now = Date.now();
let signatures: CommandSignatures;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-signatures-'));
  db = openDatabase(join(dir, 'test.db'));
  keys = new TrustedKeys(new SettingsStore(db));
  const pair = generateKeyPairSync('ed25519');
  privateKey = pair.privateKey;
  const raw = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  fingerprint = keys.add(raw.toString('base64'), 'browser of the test').fingerprint;
  signatures = new CommandSignatures({ keys, required: () => required, now: () => now });
});

after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface SignOptions {
  method?: string;
  path?: string;
  operationId?: string;
  body?: unknown;
  /** What the signature's bodyHash covers (default: userIntent or the body). */
  signedIntent?: unknown;
  timestamp?: number;
  nonce?: string;
  key?: KeyObject;
  fingerprint?: string;
}

function signed(options: SignOptions = {}) {
  const commandId = randomUUID();
  const method = options.method ?? 'POST';
  const path = options.path ?? '/api/gateway/symphony/loop/kill';
  const body = options.body ?? { loopId: 'L1', userIntent: { loopId: 'L1', computeTargetId: 'ct', action: 'cancel_loop' } };
  const intent = options.signedIntent ?? (body as { userIntent?: unknown }).userIntent ?? body;
  const payload = stableStringify({ commandId, method, path, query: [], bodyHash: bodyHash(intent), timestamp: options.timestamp ?? Math.floor(now / 1000), nonce: options.nonce ?? randomUUID() });
  return DesktopCommand.parse({
    commandId,
    operationId: options.operationId ?? 'symphony_loop_kill',
    method,
    path,
    body,
    signature: sign(null, Buffer.from(payload), options.key ?? privateKey).toString('base64'),
    signaturePayload: payload,
    publicKeyFingerprint: options.fingerprint ?? fingerprint,
  });
}

describe('signed commands', () => {
  test('stableStringify sorts keys at every level and renders undefined as null', () => {
    assert.equal(stableStringify({ b: 1, a: { d: undefined, c: [2, null] } }), '{"a":{"c":[2,null],"d":null},"b":1}');
  });

  test('a command signed by a trusted key passes; the fingerprint is cl: + 22 base64url characters', () => {
    assert.match(fingerprint, /^cl:[A-Za-z0-9_-]{22}$/);
    assert.equal(signatures.check(signed()), null);
  });

  test('each failure has its reason: unknown key, bad signature, stale, replayed, mismatched payload', () => {
    const other = generateKeyPairSync('ed25519');
    assert.equal(signatures.check(signed({ key: other.privateKey, fingerprint: 'cl:AAAAAAAAAAAAAAAAAAAAAA' })), 'unauthorized: unknown signing key');
    assert.equal(signatures.check(signed({ key: other.privateKey })), 'unauthorized: invalid signature');
    assert.equal(signatures.check(signed({ timestamp: Math.floor(now / 1000) - 60 })), 'unauthorized: stale or replayed command');
    const nonce = randomUUID();
    assert.equal(signatures.check(signed({ nonce })), null);
    assert.equal(signatures.check(signed({ nonce })), 'unauthorized: stale or replayed command');
    const tampered = signed();
    tampered.path = '/api/gateway/symphony/loop';
    tampered.operationId = 'symphony_loop';
    assert.equal(signatures.check(tampered), 'unauthorized: payload_mismatch');
    const otherBody = signed();
    (otherBody.body as { userIntent: { loopId: string } }).userIntent.loopId = 'L2';
    assert.equal(signatures.check(otherBody), 'unauthorized: payload_mismatch');
  });

  test('what runs must be what was signed: a kill of another loop id than the signed intent is refused', () => {
    const command = signed({ body: { loopId: 'someone-elses-loop', userIntent: { loopId: 'L1', computeTargetId: 'ct', action: 'cancel_loop' } } });
    assert.equal(signatures.check(command), 'unauthorized: payload_mismatch: the loop id to kill is not the signed one');
    const launch = signed({
      operationId: 'symphony_loop',
      path: '/api/gateway/symphony/loop',
      body: { loopId: randomUUID(), command: 'EXECUTE', prompt: 'rm -rf', userIntent: { documentId: 'd1', command: 'PLAN', prompt: 'plan it' } },
    });
    assert.equal(signatures.check(launch), 'unauthorized: payload_mismatch: the loop command is not the signed one');
  });

  test('required: an unsigned loop or write command is refused, an unsigned read passes; no keys says so', () => {
    required = true;
    try {
      const unsigned = (operationId: string, method: string, path: string) => DesktopCommand.parse({ commandId: randomUUID(), operationId, method, path });
      assert.equal(signatures.check(unsigned('symphony_loop', 'POST', '/api/gateway/symphony/loop')), 'unauthorized: unsigned command');
      assert.equal(signatures.check(unsigned('git_action', 'POST', '/api/gateway/git')), 'unauthorized: unsigned command');
      assert.equal(signatures.check(unsigned('health_check', 'GET', '/api/gateway/version')), null);
      const empty = new CommandSignatures({ keys: { list: () => [], find: () => undefined }, required: () => true, now: () => now });
      assert.equal(empty.check(signed()), 'unauthorized: no keys authorized');
    } finally {
      required = false;
    }
  });

  test('keys are checked: only 32-byte Ed25519 keys or PEM', () => {
    assert.throws(() => keys.add('dG9vIHNob3J0'), /32 bytes/);
    const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const added = keys.add(pem, 'pem');
    assert.ok(keys.find(added.fingerprint));
    assert.equal(keys.remove(added.fingerprint), true);
    now = Date.now();
  });
});
