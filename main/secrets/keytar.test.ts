// A round trip through the real OS keychain (gnome-keyring under dbus-run-session on
// Linux; `npm test` starts one). Skipped, with the reason printed, where none answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KeytarSecretStore } from './keytar-store.js';
import { SECRET_NAMES } from './secret-store.js';
import { keychainUnavailableReason } from './testing/helpers.js';

/** A failed assertion must not leave test entries in a developer's real keychain. */
async function forget(dataDir: string) {
  const store = await KeytarSecretStore.open(dataDir);
  for (const name of SECRET_NAMES) await store.delete(name);
}

const skip = (await keychainUnavailableReason()) ?? false;
if (skip) console.log(`# keychain tests skipped: ${skip}`);

test('keytar store round-trips a secret in the real keychain', { skip }, async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'symphony-keytar-'));
  try {
    const store = await KeytarSecretStore.open(dataDir);
    assert.equal(store.kind, 'keychain');
    assert.equal(await store.get('gateway-token'), null);
    await store.set('gateway-token', 'first-value');
    await store.set('gateway-token', 'second-value');
    assert.equal(await store.get('gateway-token'), 'second-value');
    assert.equal(await store.get('desktop-api-key'), null, 'names are separate entries');

    const reopened = await KeytarSecretStore.open(dataDir);
    assert.equal(await reopened.get('gateway-token'), 'second-value', 'survives a new store instance');

    await store.delete('gateway-token');
    assert.equal(await store.get('gateway-token'), null);
    await store.delete('gateway-token'); // deleting a missing secret is not an error
  } finally {
    await forget(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('two data dirs keep separate secrets in one keychain', { skip }, async () => {
  const [dirA, dirB] = await Promise.all([
    mkdtemp(path.join(os.tmpdir(), 'symphony-keytar-a-')),
    mkdtemp(path.join(os.tmpdir(), 'symphony-keytar-b-')),
  ]);
  try {
    const a = await KeytarSecretStore.open(dirA);
    const b = await KeytarSecretStore.open(dirB);
    await a.set('gateway-token', 'token-a');
    await b.set('gateway-token', 'token-b');
    assert.equal(await a.get('gateway-token'), 'token-a');
    assert.equal(await b.get('gateway-token'), 'token-b');
    await a.delete('gateway-token');
    assert.equal(await b.get('gateway-token'), 'token-b');
    await b.delete('gateway-token');
  } finally {
    await Promise.all([forget(dirA), forget(dirB)]);
    await Promise.all([rm(dirA, { recursive: true, force: true }), rm(dirB, { recursive: true, force: true })]);
  }
});
