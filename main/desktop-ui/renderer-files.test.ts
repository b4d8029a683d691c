import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RENDERER_ENTRY_URL, RENDERER_ORIGIN, isPermissionGranted, isRendererUrl, rendererCsp, rendererHeaders, resolveRendererFile } from './renderer-files.js';

const UI = RENDERER_ENTRY_URL; // app://symphony/ui/

let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'renderer-files-'));
  root = path.join(dir, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'secret.txt'), 'outside the root');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('serves files of the renderer origin with their content type', async () => {
  assert.deepEqual(await resolveRendererFile(root, `${UI}assets/app.js`), {
    file: path.join(root, 'assets', 'app.js'),
    relative: 'assets/app.js',
    contentType: 'text/javascript; charset=utf-8',
  });
  const index = { file: path.join(root, 'index.html'), relative: 'index.html', contentType: 'text/html; charset=utf-8' };
  assert.deepEqual(await resolveRendererFile(root, UI), index);
  assert.deepEqual(await resolveRendererFile(root, `${RENDERER_ORIGIN}/ui`), index);
  assert.deepEqual(await resolveRendererFile(root, `${UI}index.html?x=1#y`), index);
});

test('refuses other origins, traversal, encoded separators, NUL and symlinks out of the root', async () => {
  const refused = [
    'app://other/ui/index.html',
    'https://symphony/ui/index.html',
    `${RENDERER_ORIGIN}/index.html`,
    `${RENDERER_ORIGIN}/`,
    `${RENDERER_ORIGIN}/uix/app.js`,
    'file:///etc/passwd',
    `${UI}%2e%2e/secret.txt`,
    `${UI}assets/%2e%2e%2f%2e%2e%2fsecret.txt`,
    `${UI}assets/..%5c..%5csecret.txt`,
    `${UI}index.html%00.js`,
    `${UI}%E0%A4%A`,
    `${UI}assets/link.txt`,
    `${UI}missing.js`,
    `${UI}approvals`,
    `${UI}assets`,
    'not a url',
  ];
  for (const url of refused) {
    assert.equal(await resolveRendererFile(root, url), undefined, url);
  }
});

test('the window and /ui/ are served with the same headers; the CSP allows only own files and the gateway on its port', async () => {
  const file = await resolveRendererFile(root, `${UI}assets/app.js`);
  assert.ok(file);
  assert.deepEqual(Object.keys(rendererHeaders(file, 'x')).sort(), Object.keys(rendererHeaders({ ...file, relative: 'index.html' }, 'x')).sort());
  assert.equal(rendererHeaders(file, 'x')['Cache-Control'], 'public, max-age=31536000, immutable');
  assert.equal(rendererHeaders({ ...file, relative: 'index.html' }, 'x')['Cache-Control'], 'no-cache');
  assert.match(rendererCsp(), /connect-src 'self';/);
  const csp = rendererCsp(19433);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:19433 http:\/\/localhost:19433(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
});

test('only app://symphony URLs count as the renderer', () => {
  for (const url of [UI, `${UI}approvals#x`, 'app://symphony']) assert.equal(isRendererUrl(url), true, url);
  for (const url of ['app://symphony.evil', 'app://other/ui/', 'https://symphony/ui/', 'app://user@symphony/ui/', 'about:blank', 'file:///ui/', '', 'garbage']) {
    assert.equal(isRendererUrl(url), false, url);
  }
});

test('the renderer may reach loopback and nothing else; nobody else gets anything', () => {
  assert.equal(isPermissionGranted('loopback-network', `${UI}approvals`), true);
  assert.equal(isPermissionGranted('local-network-access', RENDERER_ORIGIN), true);
  for (const permission of ['local-network', 'media', 'notifications', 'clipboard-read', 'openExternal', 'geolocation']) {
    assert.equal(isPermissionGranted(permission, UI), false, permission);
  }
  assert.equal(isPermissionGranted('loopback-network', 'https://evil.example.com'), false);
  assert.equal(isPermissionGranted('loopback-network', undefined), false);
});
