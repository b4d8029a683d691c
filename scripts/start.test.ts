// A first `npm start` that cannot fetch the Electron binary says why and what runs instead,
// before any build and without the downloader's stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasElectron = existsSync(path.join(root, 'node_modules', 'electron', 'path.txt'));
const [major, minor] = process.versions.node.split('.').map(Number);
const oldNode = major < 22 || (major === 22 && minor < 12);
const skip = hasElectron ? 'this checkout already has the Electron binary' : !oldNode ? 'runs on Node >= 22.12, where the installer would try the network' : false;
if (skip) console.log(`# skipping the first-start test: ${skip}`);

test('npm start without an Electron binary on an old Node names the reason and `npm start -- --headless`', { skip }, () => {
  // A dead proxy: should anything try the network, it fails fast instead of downloading.
  const env = { ...process.env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.js')], { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /could not fetch the Electron binary/);
  assert.match(result.stderr, new RegExp(`Node >= 22\\.12; this is Node ${process.versions.node.replace(/\./g, '\\.')}`));
  assert.match(result.stderr, /`npm start -- --headless` runs the same gateway and UI without a window/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stdout, /vite|tsc/, 'nothing was built first');
  assert.ok(Date.now() - started < 30_000);
});
