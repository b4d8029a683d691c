import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, test } from 'node:test';
import { openDatabase } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { KeytarSecretStore } from './keytar-store.js';
import { openSecretStore, SECRET_STORE_SETTING } from './open.js';
import { SECRET_NAMES } from './secret-store.js';
import { keychainUnavailableReason, makeTestDataDir, type TestDataDir } from './testing/helpers.js';

const keychainSkip = (await keychainUnavailableReason()) ?? false;
if (keychainSkip) console.log(`# keychain tests skipped: ${keychainSkip}`);

let t: TestDataDir;
beforeEach(async () => {
  t = await makeTestDataDir();
});
afterEach(async () => {
  if (!keychainSkip) {
    // Leave nothing in a developer's real keychain, even after a failed assertion.
    const keychain = await KeytarSecretStore.open(t.dataDir);
    for (const name of SECRET_NAMES) await keychain.delete(name);
  }
  await t.cleanup();
});

test('file mode is remembered, so a later auto open finds the same secrets', async () => {
  const first = await openSecretStore({ mode: 'file', dataDir: t.dataDir, settings: t.settings, log: t.log });
  assert.equal(first.kind, 'file');
  await first.set('gateway-token', 'tok');
  assert.equal(t.settings.get(SECRET_STORE_SETTING), 'file');

  const later = await openSecretStore({ dataDir: t.dataDir, settings: t.settings, log: t.log });
  assert.equal(later.kind, 'file');
  assert.equal(await later.get('gateway-token'), 'tok');
});

test('auto picks the keychain when one answers and remembers it', { skip: keychainSkip }, async () => {
  const store = await openSecretStore({ mode: 'auto', dataDir: t.dataDir, settings: t.settings, log: t.log });
  assert.equal(store.kind, 'keychain');
  assert.equal(t.settings.get(SECRET_STORE_SETTING), 'keychain');
  assert.equal(t.logLines.filter((l) => l.level >= 40).length, 0, 'no warning when the keychain works');
});

test('switching stores explicitly moves the secrets over', { skip: keychainSkip }, async () => {
  const keychain = await openSecretStore({ mode: 'keychain', dataDir: t.dataDir, settings: t.settings, log: t.log });
  await keychain.set('gateway-token', 'moving-token');
  await keychain.set('desktop-api-key', 'moving-key');

  const file = await openSecretStore({ mode: 'file', dataDir: t.dataDir, settings: t.settings, log: t.log });
  assert.equal(file.kind, 'file');
  assert.equal(await file.get('gateway-token'), 'moving-token');
  assert.equal(await file.get('desktop-api-key'), 'moving-key');
  assert.equal(await keychain.get('gateway-token'), null, 'the keychain copy is removed');
  assert.equal(await keychain.get('desktop-api-key'), null);

  const later = await openSecretStore({ dataDir: t.dataDir, settings: t.settings, log: t.log });
  assert.equal(later.kind, 'file');
});

// libsecret reads the bus address once per process, so the no-keychain cases run in
// a child whose DBUS_SESSION_BUS_ADDRESS points at a socket that does not exist.
async function openWithoutKeychain(dataDir: string, modes: string[], { hideKeytar = false } = {}) {
  const testing = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing');
  const preload = hideKeytar ? ['--import', path.join(testing, 'without-keytar.mjs')] : [];
  const args = [...preload, '--import', 'tsx', path.join(testing, 'open-without-keychain.ts'), dataDir, ...modes];
  const result = await new Supervisor().run(process.execPath, args, {
    env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dataDir, 'no-such-bus')}`, DISPLAY: '' },
    timeoutMs: 30_000,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { mode: string; kind?: string; token?: string; error?: string; warnings: string[] });
}

test('without a keychain: auto falls back to files with a warning, keychain fails clearly', async () => {
  t.settings.set('probe', true); // make sure the database file exists before the child opens it
  const [keychain, auto, autoAgain, keychainLater] = await openWithoutKeychain(t.dataDir, [
    'keychain',
    'auto',
    'auto',
    'keychain',
  ]);

  assert.match(keychain.error ?? '', /OS keychain is not available/);
  assert.equal(keychain.kind, undefined);

  assert.equal(auto.kind, 'file');
  assert.equal(auto.token, null);
  assert.ok(auto.warnings.some((w) => /keychain not available.*files/i.test(w)), JSON.stringify(auto.warnings));

  assert.equal(autoAgain.kind, 'file', 'the fallback is remembered');
  assert.equal(autoAgain.token, 'token-from-auto', 'and keeps the same token');
  assert.deepEqual(autoAgain.warnings, [], 'no second warning once remembered');

  assert.match(keychainLater.error ?? '', /OS keychain is not available/);
  // Written by the child process: a fresh connection reads it now (a cached one within a second).
  assert.equal(new SettingsStore(openDatabase(path.join(t.dataDir, 'symphony.db'))).get(SECRET_STORE_SETTING), 'file');
});

test('a data dir that keeps its secrets in the keychain does not silently fall back', async () => {
  t.settings.set(SECRET_STORE_SETTING, 'keychain');
  const [auto] = await openWithoutKeychain(t.dataDir, ['auto']);
  assert.match(auto.error ?? '', /keeps its secrets in the keychain/);
  assert.equal(t.settings.get(SECRET_STORE_SETTING), 'keychain');
});

test('without the optional keytar module: keychain names the cause, auto falls back to files', async () => {
  t.settings.set('probe', true);
  const [keychain, auto] = await openWithoutKeychain(t.dataDir, ['keychain', 'auto'], { hideKeytar: true });
  assert.match(keychain.error ?? '', /keytar module could not be loaded.*--secret-store file/);
  assert.equal(auto.kind, 'file');
  assert.ok(auto.warnings.some((w) => /keychain not available/i.test(w)), JSON.stringify(auto.warnings));
});
