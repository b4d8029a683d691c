// /api/gateway/run-viewer-extract through the whole gateway: auth, content type,
// multipart streaming, the error map, and cleanup of everything a refusal touched.
import assert from 'node:assert/strict';
import { readdir, realpath } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_RUN_ARCHIVE_LIMITS, RunArchives } from '../files/run-archive.js';
import { makeTarGz, makeZip } from '../files/testing/archives.js';
import { startTestGateway, type TestGateway } from './testing.js';

const ROUTE = '/api/gateway/run-viewer-extract';
let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({
    configure(services) {
      // A small upload cap, so the 413 needs no 200 MB body.
      services.runArchives = new RunArchives(services.dataDir, { ...DEFAULT_RUN_ARCHIVE_LIMITS, maxUploadBytes: 256 * 1024 });
    },
  });
});
after(() => gw.close());

/** A multipart body as a browser's FormData would send it. */
async function multipart(content: Buffer, filename: string) {
  const form = new FormData();
  form.append('archive', new Blob([content]), filename);
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

async function upload(content: Buffer, filename: string, credential: 'token' | 'none' = 'token') {
  const { body, contentType } = await multipart(content, filename);
  const auth = credential === 'token' ? ('token' as const) : undefined;
  return gw.request(ROUTE, { method: 'POST', body, headers: { 'Content-Type': contentType }, auth });
}

const runViewerRoot = () => path.join(gw.dataDir, 'run-viewer');
const runDirs = async () => (await readdir(runViewerRoot()).catch(() => [])).filter((name) => !name.startsWith('.'));

test('upload, list and delete a run through the gateway', async () => {
  const uploaded = await upload(makeTarGz([{ name: 'run/events.jsonl', data: '{"type":"start"}\n' }]), 'run.tar.gz');
  assert.equal(uploaded.status, 200, uploaded.text);
  const runDir: string = uploaded.json.runDir;
  assert.equal(path.dirname(runDir), await realpath(runViewerRoot()));

  const listed = await gw.request(`${ROUTE}?runDir=${encodeURIComponent(runDir)}`, { auth: 'token' });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.json, { files: [{ path: 'run/events.jsonl', size: 17 }] });

  const removed = await gw.request(ROUTE, { method: 'DELETE', json: { runDir }, auth: 'token' });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(removed.json, { removed: true });
  assert.deepEqual(await runDirs(), []);
  const gone = await gw.request(`${ROUTE}?runDir=${encodeURIComponent(runDir)}`, { auth: 'token' });
  assert.equal(gone.status, 404);
  assert.equal(gone.json.code, 'run_dir_not_found');
});

test('a zip-slip archive is a 422 JSON error and writes nothing', async () => {
  const response = await upload(makeZip([{ name: 'a.txt', data: 'a' }, { name: '../../escape.txt', data: 'x' }]), 'run.zip');
  assert.equal(response.status, 422);
  assert.equal(response.json.code, 'unsafe_archive_entry');
  assert.ok(response.headers['x-request-id']);
  assert.deepEqual(await readdir(runViewerRoot()), []);
  assert.deepEqual((await readdir(gw.dataDir)).includes('escape.txt'), false);
});

test('an upload over the cap is a 413, and a huge declared body is refused before it is read', async () => {
  const tooBig = await upload(makeZip([{ name: 'big.bin', data: Buffer.alloc(512 * 1024, 1) }]), 'big.zip');
  assert.equal(tooBig.status, 413, tooBig.text);
  assert.equal(tooBig.json.code, 'payload_too_large');

  // Claims 300 MB, sends 64 KiB: the gateway answers 413 without waiting for the rest.
  const { body, contentType } = await multipart(Buffer.alloc(64 * 1024), 'huge.zip');
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: gw.port,
      path: ROUTE,
      method: 'POST',
      headers: {
        Host: `127.0.0.1:${gw.port}`,
        'X-Desktop-Gateway-Token': gw.token,
        'Content-Type': contentType,
        'Content-Length': String(300 * 1024 * 1024),
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.write(body);
  });
  assert.equal(status, 413);
  assert.deepEqual(await readdir(runViewerRoot()), []);
});

test('no credential is a 401 and a non-multipart body a 415, both writing nothing', async () => {
  const anonymous = await upload(makeZip([{ name: 'a.txt', data: 'a' }]), 'a.zip', 'none');
  assert.equal(anonymous.status, 401);
  const plain = await gw.request(ROUTE, { method: 'POST', body: 'PK...', headers: { 'Content-Type': 'text/plain' }, auth: 'token' });
  assert.equal(plain.status, 415);
  assert.deepEqual(await runDirs(), []);
});

test('runDir must be one of ours', async () => {
  const outside = await gw.request(`${ROUTE}?runDir=${encodeURIComponent('/etc')}`, { auth: 'token' });
  assert.equal(outside.status, 403);
  const remove = await gw.request(ROUTE, { method: 'DELETE', json: { runDir: gw.dataDir }, auth: 'token' });
  assert.equal(remove.status, 403);
  const missing = await gw.request(ROUTE, { auth: 'token' });
  assert.equal(missing.status, 400);
});
