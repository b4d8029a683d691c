// A ticket's attachments through a real gateway: images uploaded as multipart (checked by
// their bytes, capped, all or nothing) and served back inert; traversal, links out, SVG
// with script and HTML named .png never come back as active content.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_ATTACHMENT_LIMITS, TicketAttachments } from '../files/attachments.js';
import { GitRunner } from '../git/runner.js';
import { initTestRepo } from '../git/testing/fixture.js';
import { startTestGateway, until, type TestGateway } from './testing.js';

let root: string;
let gw: TestGateway;
let repo: string;
let folder: string;
const TICKET = 'ENG-7';

/** A 1x1 PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60)]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>');
const HTML = Buffer.from('<!doctype html><html><script>fetch("/api/gateway/repos")</script></html>');

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'attachments-gw-'));
  gw = await startTestGateway({ configure: (services) => services.setWorkspaceRoot(root).then(() => undefined) });
  repo = join(root, 'repo');
  await initTestRepo(new GitRunner(gw.services.supervisor), repo);
  folder = await gw.services.attachments.folder(repo, TICKET);
});

after(async () => {
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

const uploadPath = (ticket = TICKET) => `/api/gateway/symphony/upload/${ticket}?repo=${encodeURIComponent(repo)}`;
const files = () => readdirSync(folder);

async function multipart(parts: Array<{ content: Buffer; filename: string; type?: string }>) {
  const form = new FormData();
  for (const part of parts) form.append('file', new Blob([part.content], { type: part.type ?? 'image/png' }), part.filename);
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

async function upload(parts: Array<{ content: Buffer; filename: string; type?: string }>) {
  const { body, contentType } = await multipart(parts);
  return gw.request(uploadPath(), { method: 'POST', body, headers: { 'Content-Type': contentType }, auth: 'token' });
}

/** GET with the path sent exactly as written (no normalisation of `..` or escapes). */
const fetchRaw = (rawPath: string) => gw.request(`/api/gateway/symphony/attachments/${TICKET}/${rawPath}?repo=${encodeURIComponent(repo)}`, { auth: 'token' });

function assertInert(reply: Awaited<ReturnType<typeof fetchRaw>>) {
  assert.equal(reply.headers['x-content-type-options'], 'nosniff');
  assert.match(String(reply.headers['content-security-policy']), /^sandbox/);
  assert.match(String(reply.headers['cache-control']), /private/);
}

describe('symphony/upload and symphony/attachments', () => {
  test('images upload under generated names and come back with their sniffed type, inline and inert', async () => {
    const reply = await upload([{ content: PNG, filename: 'shot.png' }, { content: JPEG, filename: '../../photo.jpeg', type: 'text/html' }]);
    assert.equal(reply.status, 200, reply.text);
    const [png, jpeg] = reply.json.files;
    assert.match(png.savedName, /^chat-img-\d+-[0-9a-f]{8}\.png$/);
    assert.match(jpeg.savedName, /^chat-img-\d+-[0-9a-f]{8}\.jpg$/);
    assert.deepEqual([png.originalName, jpeg.originalName, png.size], ['shot.png', 'photo.jpeg', PNG.length]);
    assert.equal(png.path, join(folder, png.savedName));
    assert.equal(png.apiUrl, `/api/gateway/symphony/attachments/${TICKET}/${png.savedName}?repo=${encodeURIComponent(repo)}`);

    const served = await gw.request(png.apiUrl, { auth: 'token' });
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], 'image/png');
    assert.match(String(served.headers['content-disposition']), /^inline/);
    assertInert(served);
    const jpegServed = await gw.request(jpeg.apiUrl, { auth: 'token' });
    assert.equal(jpegServed.headers['content-type'], 'image/jpeg');
    assert.deepEqual(files().filter((name) => name.startsWith('.')), [], 'no temp file left');
  });

  test('an SVG with script and HTML named .png are served as inert downloads, never as their type', async () => {
    writeFileSync(join(folder, 'drawing.svg'), SVG);
    writeFileSync(join(folder, 'page.png'), HTML);
    for (const name of ['drawing.svg', 'page.png']) {
      const reply = await fetchRaw(name);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'application/octet-stream', name);
      assert.match(String(reply.headers['content-disposition']), /^attachment/, name);
      assertInert(reply);
    }
  });

  test('traversal (.., %2e%2e, double-encoded), links out and dot files are refused; nothing outside is served', async () => {
    const outside = join(root, 'outside-secret.txt');
    writeFileSync(outside, 'TOP-SECRET');
    symlinkSync(outside, join(folder, 'link-out.png'));
    mkdirSync(join(root, 'outside-dir'), { recursive: true });
    writeFileSync(join(root, 'outside-dir', 'x.png'), PNG);
    symlinkSync(join(root, 'outside-dir'), join(folder, 'dir-link'));
    const attempts = [
      '../../../../outside-secret.txt', '%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside-secret.txt', '%252e%252e/%252e%252e/outside-secret.txt',
      '..%2f..%2f..%2f..%2foutside-secret.txt', 'link-out.png', 'dir-link/x.png', '.hidden', `${encodeURIComponent(outside)}`,
    ];
    for (const attempt of attempts) {
      const reply = await fetchRaw(attempt);
      assert.ok(reply.status === 403 || reply.status === 404, `${attempt}: ${reply.status}`);
      assert.equal(reply.text.includes('TOP-SECRET'), false, attempt);
      if (reply.status === 403) assert.match(reply.text, /Invalid path/);
    }
    assert.equal((await fetchRaw('link-out.png')).status, 403, 'a link pointing out is 403');
    assert.equal((await fetchRaw('missing.png')).status, 404);
    const badTicket = await gw.request(`/api/gateway/symphony/attachments/..%2F..%2Fx/a.png?repo=${encodeURIComponent(repo)}`, { auth: 'token' });
    assert.equal(badTicket.status, 400);
    rmSync(join(folder, 'link-out.png'));
    rmSync(join(folder, 'dir-link'));
  });

  test('wrong magic bytes, an 11 MB file and 21 files are clear 4xx and leave nothing behind', async () => {
    const before = files();
    const html = await upload([{ content: PNG, filename: 'ok.png' }, { content: HTML, filename: 'evil.png', type: 'image/png' }]);
    assert.equal(html.status, 400, html.text);
    assert.equal(html.json.code, 'file_type_not_allowed');
    assert.match(html.json.error, /evil\.png/);

    const big = await upload([{ content: Buffer.concat([PNG, Buffer.alloc(11 * 1024 * 1024)]), filename: 'big.png' }]);
    assert.equal(big.status, 413, big.text);
    assert.match(big.json.error, /10 MB/);

    const many = await upload(Array.from({ length: 21 }, (_, i) => ({ content: PNG, filename: `s${i}.png` })));
    assert.equal(many.status, 400, many.text);
    assert.equal(many.json.code, 'too_many_files');

    const none = await gw.request(uploadPath(), { method: 'POST', json: {}, auth: 'token' });
    assert.ok(none.status === 400 || none.status === 415, `a JSON body: ${none.status}`);
    assert.deepEqual(files(), before);
  });

  test('an upload aborted mid-file leaves no partial file', async () => {
    const before = files();
    const { body, contentType } = await multipart([{ content: Buffer.concat([PNG, Buffer.alloc(4 * 1024 * 1024)]), filename: 'cut.png' }]);
    const req = httpRequest({
      host: '127.0.0.1', port: gw.port, path: uploadPath(), method: 'POST',
      headers: { Host: `127.0.0.1:${gw.port}`, 'Content-Type': contentType, 'Content-Length': String(body.length), 'X-Desktop-Gateway-Token': gw.token },
    });
    req.on('error', () => undefined);
    req.write(body.subarray(0, 1024 * 1024));
    await until(() => files().some((name) => name.startsWith('.upload-')), 'the partial file to be written');
    req.destroy();
    await until(() => files().length === before.length, 'the partial file to be removed');
    assert.deepEqual(files(), before);
  });

  test("the ticket's quota is enforced", async () => {
    const original = gw.services.attachments;
    gw.services.attachments = new TicketAttachments({
      workFolder: (repoPath, ticketId, signal) => gw.services.ticketWorktrees.resolveWorkFolder(repoPath, ticketId, signal),
      limits: { ...DEFAULT_ATTACHMENT_LIMITS, ticketQuotaBytes: 64 * 1024 },
    });
    try {
      const before = files();
      const reply = await upload([{ content: Buffer.concat([PNG, Buffer.alloc(128 * 1024)]), filename: 'a.png' }]);
      assert.equal(reply.status, 413, reply.text);
      assert.deepEqual(files(), before);
    } finally {
      gw.services.attachments = original;
    }
  });
});
