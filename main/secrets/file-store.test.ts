import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, chmod, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FileSecretStore } from './file-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'symphony-file-secrets-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

test('file store round-trips secrets in 0600 files inside a 0700 directory', async () => {
  const store = await FileSecretStore.open(dataDir);
  assert.equal(store.kind, 'file');
  assert.equal(await store.get('gateway-token'), null);
  await store.set('gateway-token', 'tok-1');
  await store.set('desktop-api-key', 'key-1');
  assert.equal(await store.get('gateway-token'), 'tok-1');
  assert.equal(await store.get('desktop-api-key'), 'key-1');

  const dir = path.join(dataDir, 'secrets');
  assert.equal(await modeOf(dir), 0o700);
  assert.equal(await modeOf(path.join(dir, 'gateway-token')), 0o600);
  assert.equal(await modeOf(path.join(dir, 'desktop-api-key')), 0o600);

  await store.delete('gateway-token');
  assert.equal(await store.get('gateway-token'), null);
  await store.delete('gateway-token');
  assert.deepEqual(await readdir(dir), ['desktop-api-key']);
});

test('opening tightens a secrets directory that is too open', async () => {
  const dir = path.join(dataDir, 'secrets');
  await mkdir(dir);
  await chmod(dir, 0o755);
  await FileSecretStore.open(dataDir);
  assert.equal(await modeOf(dir), 0o700);
});

test('a replaced secret is never seen half-written, and no temp file is left', async () => {
  const store = await FileSecretStore.open(dataDir);
  const values = Array.from({ length: 40 }, (_, i) => String(i).repeat(64 * 1024));
  await store.set('gateway-token', values[0]);
  const seen = new Set<string>();
  let writing = true;
  const reader = (async () => {
    while (writing) {
      const value = await store.get('gateway-token');
      assert.ok(value !== null && values.includes(value), 'read a value that was never written whole');
      seen.add(value);
    }
  })();
  for (const value of values.slice(1)) await store.set('gateway-token', value);
  writing = false;
  await reader;
  assert.equal(await store.get('gateway-token'), values.at(-1));
  assert.ok(seen.size >= 1);
  assert.deepEqual(await readdir(path.join(dataDir, 'secrets')), ['gateway-token']);
});

test('a temp file left by a crash does not change what is read', async () => {
  const store = await FileSecretStore.open(dataDir);
  await store.set('gateway-token', 'committed');
  // What a crash between write and rename leaves behind.
  await writeFile(path.join(dataDir, 'secrets', '.gateway-token.deadbeef0000.tmp'), 'half-writ', { mode: 0o600 });
  assert.equal(await (await FileSecretStore.open(dataDir)).get('gateway-token'), 'committed');
});
