// RunArchives against real uploads over a real socket: a bare node:http server hands
// each request to extract(), as the gateway route does, and maps errors the same way.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { create as createTar } from 'tar';
import { isAppError } from '../errors.js';
import { errorReply } from '../../shared/schemas/errors.js';
import { DEFAULT_RUN_ARCHIVE_LIMITS, RunArchives, type RunArchiveLimits } from './run-archive.js';
import { makeTarGz, makeZip } from './testing/archives.js';

let dataDir: string;
let archives: RunArchives;
let server: http.Server;
let url: string;

function useLimits(limits: Partial<RunArchiveLimits>) {
  archives = new RunArchives(dataDir, { ...DEFAULT_RUN_ARCHIVE_LIMITS, ...limits });
}

before(async () => {
  server = http.createServer(async (req, res) => {
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    try {
      const result = await archives.extract(req, aborted.signal);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (error) {
      const status = isAppError(error) ? error.status : 500;
      const code = isAppError(error) ? error.code : 'internal';
      res.writeHead(status, { 'content-type': 'application/json', ...(isAppError(error) ? error.headers : {}) });
      res.end(JSON.stringify(errorReply((error as Error).message, code)));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'symphony-run-archive-'));
  useLimits({});
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function upload(content: Buffer, filename: string) {
  const form = new FormData();
  form.append('note', 'fields besides the file are ignored');
  form.append('archive', new Blob([content]), filename);
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, json: (await response.json()) as { runDir?: string; error?: string; code?: string } };
}

/** Nothing but the (empty) run-viewer root in the data dir: no run, no work file, nothing escaped. */
async function assertNothingWritten() {
  assert.deepEqual(await readdir(dataDir), ['run-viewer']);
  assert.deepEqual(await readdir(archives.root), []);
}

test('a zip unpacks into its own run directory, is listed and is removed', async () => {
  const transcript = '{"type":"user"}\n{"type":"assistant"}\n';
  const zip = makeZip([
    { name: 'run/' },
    { name: 'run/transcript.jsonl', data: transcript, deflate: true },
    { name: 'run/logs/out.txt', data: 'hello' },
    { name: 'summary.md', data: '# done' },
  ]);
  const { status, json } = await upload(zip, 'run.zip');
  assert.equal(status, 200, JSON.stringify(json));
  const runDir = json.runDir!;
  assert.equal(path.dirname(runDir), archives.root);
  assert.equal(await readFile(path.join(runDir, 'run/logs/out.txt'), 'utf8'), 'hello');

  assert.deepEqual(await archives.list(runDir), {
    files: [
      { path: 'run/logs/out.txt', size: 5 },
      { path: 'run/transcript.jsonl', size: transcript.length },
      { path: 'summary.md', size: 6 },
    ],
  });
  await archives.remove(runDir);
  assert.deepEqual(await readdir(archives.root), []);
  await assert.rejects(archives.list(runDir), { status: 404 });
});

test('a tar.gz made by node-tar (./ entry, long pax names) unpacks', async () => {
  const source = await mkdtemp(path.join(os.tmpdir(), 'symphony-tar-src-'));
  try {
    const longDir = 'a-directory-name-long-enough-that-ustar-needs-a-pax-header-'.repeat(3);
    await mkdir(path.join(source, longDir), { recursive: true });
    await writeFile(path.join(source, longDir, 'events.jsonl'), '{"n":1}\n');
    await writeFile(path.join(source, 'top.txt'), 'top');
    const archive = path.join(source, '..', `${path.basename(source)}.tar.gz`);
    await createTar({ gzip: true, cwd: source, file: archive, portable: true }, ['.']);
    const { status, json } = await upload(await readFile(archive), 'run.tar.gz');
    await rm(archive, { force: true });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual((await archives.list(json.runDir!)).files, [
      { path: `${longDir}/events.jsonl`, size: 8 },
      { path: 'top.txt', size: 3 },
    ]);
  } finally {
    await rm(source, { recursive: true, force: true });
  }
});

test('a .jsonl transcript becomes a run directory holding it', async () => {
  const transcript = Buffer.from('{"type":"system"}\n{"type":"result"}\n');
  const { status, json } = await upload(transcript, 'session-42.jsonl');
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual((await archives.list(json.runDir!)).files, [{ path: 'session-42.jsonl', size: transcript.length }]);
});

test('a .jsonl that is not JSON lines and a file of unknown kind are refused', async () => {
  assert.equal((await upload(Buffer.from('hello world\n'), 'notes.jsonl')).status, 422);
  const unknown = await upload(Buffer.from('just some bytes'), 'run.bin');
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.code, 'unsupported_archive');
  await assertNothingWritten();
});

for (const [label, zip] of [
  ['a ../ entry (zip slip)', makeZip([{ name: 'ok.txt', data: 'fine' }, { name: '../evil.txt', data: 'pwned' }])],
  ['a nested ../ entry', makeZip([{ name: 'run/../../evil.txt', data: 'pwned' }])],
  ['an absolute entry', makeZip([{ name: '/tmp/evil.txt', data: 'pwned' }])],
  ['a backslash ..\\ entry', makeZip([{ name: '..\\evil.txt', data: 'pwned' }])],
  ['a symlink entry', makeZip([{ name: 'ok.txt', data: 'fine' }, { name: 'link', data: '/etc/passwd', mode: 0o120777 }])],
] as const) {
  test(`a zip with ${label} is refused with 422 and nothing is written`, async () => {
    const { status, json } = await upload(zip, 'run.zip');
    assert.equal(status, 422, JSON.stringify(json));
    assert.equal(json.code, 'unsafe_archive_entry');
    await assertNothingWritten();
    await assert.rejects(readFile(path.join(path.dirname(dataDir), 'evil.txt')), { code: 'ENOENT' });
  });
}

for (const [label, tgz] of [
  ['a ../ entry', makeTarGz([{ name: 'ok.txt', data: 'fine' }, { name: '../evil.txt', data: 'pwned' }])],
  ['an absolute entry', makeTarGz([{ name: '/tmp/evil.txt', data: 'pwned' }])],
  ['a symlink entry', makeTarGz([{ name: 'ok.txt', data: 'fine' }, { name: 'link', type: '2', linkname: '/etc' }])],
  ['a hard link entry', makeTarGz([{ name: 'ok.txt', data: 'fine' }, { name: 'hard', type: '1', linkname: 'ok.txt' }])],
] as const) {
  test(`a tar.gz with ${label} is refused with 422 and nothing is written`, async () => {
    const { status, json } = await upload(tgz, 'run.tar.gz');
    assert.equal(status, 422, JSON.stringify(json));
    assert.equal(json.code, 'unsafe_archive_entry');
    await assertNothingWritten();
  });
}

test('a symlink already in place cannot be followed: a later entry through it is refused', async () => {
  // The link entry is refused first; the entry after it would write through the link.
  const tgz = makeTarGz([
    { name: 'escape', type: '2', linkname: os.tmpdir() },
    { name: 'escape/evil.txt', data: 'pwned' },
  ]);
  assert.equal((await upload(tgz, 'run.tgz')).status, 422);
  await assertNothingWritten();
  await assert.rejects(readFile(path.join(os.tmpdir(), 'evil.txt')), { code: 'ENOENT' });
});

test('an upload over the size cap gets 413 and leaves no partial file', async () => {
  useLimits({ maxUploadBytes: 64 * 1024 });
  const big = makeZip([{ name: 'big.bin', data: Buffer.alloc(200 * 1024, 7) }]);
  const { status, json } = await upload(big, 'big.zip');
  assert.equal(status, 413, JSON.stringify(json));
  await assertNothingWritten();
});

test('archives over the unpacked-size or entry-count caps get 413 and leave nothing', async () => {
  useLimits({ maxUnpackedBytes: 100 * 1024 });
  // 1 MiB of zeros deflates to about 1 KiB: a small zip bomb.
  const bomb = makeZip([{ name: 'zeros.bin', data: Buffer.alloc(1024 * 1024), deflate: true }]);
  assert.ok(bomb.length < 10 * 1024);
  assert.equal((await upload(bomb, 'bomb.zip')).status, 413);
  await assertNothingWritten();

  const tarBomb = makeTarGz([{ name: 'zeros.bin', data: Buffer.alloc(1024 * 1024) }]);
  assert.equal((await upload(tarBomb, 'bomb.tar.gz')).status, 413);
  await assertNothingWritten();

  useLimits({ maxEntries: 5 });
  const many = makeZip(Array.from({ length: 10 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })));
  const { status, json } = await upload(many, 'many.zip');
  assert.equal(status, 413);
  assert.equal(json.code, 'archive_too_large');
  await assertNothingWritten();
});

test('duplicate entries and corrupt archives are refused without leftovers', async () => {
  const duplicate = makeZip([
    { name: 'a.txt', data: 'one' },
    { name: 'a.txt', data: 'two' },
  ]);
  assert.equal((await upload(duplicate, 'dup.zip')).status, 422);
  const corrupt = makeZip([{ name: 'a.txt', data: 'hello hello hello', deflate: true }]);
  corrupt.fill(0xff, 40, 50); // inside the compressed data
  assert.equal((await upload(corrupt, 'corrupt.zip')).status, 422);
  const truncated = makeTarGz([{ name: 'a.txt', data: Buffer.alloc(4096, 1) }]).subarray(0, 30);
  assert.equal((await upload(truncated, 'cut.tar.gz')).status, 422);
  await assertNothingWritten();
});

test('a client that goes away mid-upload leaves no partial file behind', async () => {
  const form = new FormData();
  form.append('archive', new Blob([makeZip([{ name: 'a.bin', data: Buffer.alloc(256 * 1024, 3) }])]), 'a.zip');
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const req = http.request(url, {
    method: 'POST',
    headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) },
  });
  req.on('error', () => {}); // the reset we cause ourselves
  req.write(body.subarray(0, 128 * 1024));
  // Wait until the server has started writing the upload, then hang up.
  const root = archives.root;
  for (let i = 0; i < 100 && !(await readdir(root).catch(() => [])).some((n) => n.startsWith('.upload-')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  req.destroy();
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = await readdir(root);
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(left, []);
});

test('a request without a file part is a 400', async () => {
  const form = new FormData();
  form.append('note', 'no file');
  const response = await fetch(url, { method: 'POST', body: form });
  assert.equal(response.status, 400);
  const json = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(json.status, 400);
});

test('only run directories of this data dir can be listed or removed', async () => {
  const { json } = await upload(makeZip([{ name: 'a.txt', data: 'a' }]), 'a.zip');
  const runDir = json.runDir!;
  const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'symphony-not-a-run-'));
  try {
    await symlink(runDir, path.join(elsewhere, path.basename(runDir)));
    for (const bad of [
      '/etc',
      archives.root,
      path.join(archives.root, '..'),
      path.join(runDir, '..', '..', path.basename(runDir)),
      path.join(elsewhere, path.basename(runDir)),
      path.relative(process.cwd(), runDir),
    ]) {
      await assert.rejects(archives.list(bad), { status: 403 }, bad);
      await assert.rejects(archives.remove(bad), { status: 403 }, bad);
    }
    await assert.rejects(archives.list(path.join(archives.root, '00000000-0000-4000-8000-000000000000')), { status: 404 });
    assert.equal((await archives.list(runDir)).files.length, 1, 'the run itself is untouched');
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
  }
});

test('work files left by a crash are removed when the archives start', async () => {
  const root = path.join(dataDir, 'run-viewer');
  await mkdir(path.join(root, '.staging-left-over'), { recursive: true });
  await writeFile(path.join(root, '.upload-left-over'), 'partial');
  const { status } = await upload(makeZip([{ name: 'a.txt', data: 'a' }]), 'a.zip');
  assert.equal(status, 200);
  const names = await readdir(root);
  assert.equal(names.length, 1);
  assert.ok(!names[0].startsWith('.'));
});

test('agent and git configuration is left out of zip and tar archives, at any depth, and counted', async () => {
  const config = [
    { name: '.claude/settings.json', data: '{"hooks":{}}' },
    { name: '.claude/commands/x.md', data: 'x' },
    { name: 'sub/.mcp.json', data: '{}' },
    { name: '.codex/config.toml', data: '' },
    { name: 'CLAUDE.md', data: 'do evil' },
    { name: 'pkg/AGENTS.md', data: 'do evil' },
    { name: 'repo/.git/hooks/post-checkout', data: '#!/bin/sh' },
    { name: 'repo/.git/config', data: '[core]\nfsmonitor = evil' },
  ];
  const kept = [
    { name: 'run/events.jsonl', data: '{}\n' },
    { name: 'repo/.git/HEAD', data: 'ref: refs/heads/main' },
    { name: 'docs/claude.md.txt', data: 'fine' },
    { name: 'repo/config', data: 'fine' },
  ];
  for (const [archive, filename] of [[makeZip([{ name: '.claude/' }, ...config, ...kept]), 'run.zip'], [makeTarGz([...config, ...kept]), 'run.tar.gz']] as const) {
    const { status, json } = await upload(archive, filename);
    assert.equal(status, 200, JSON.stringify(json));
    const reply = json as unknown as { runDir: string; dropped: { count: number; files: string[] } };
    assert.equal(reply.dropped.count, config.length);
    assert.deepEqual([...reply.dropped.files].sort(), config.map((entry) => entry.name).sort());
    assert.deepEqual((await archives.list(reply.runDir)).files.map((file) => file.path), kept.map((entry) => entry.name).sort());
  }
});

test('storage stays within its caps: runs over the age go, then the oldest until the total fits, and the reply says so', async () => {
  useLimits({ maxTotalBytes: 2500, maxAgeMs: 60_000 });
  const run = (byte: number) => makeZip([{ name: 'data.bin', data: Buffer.alloc(1000, byte) }]);
  const first = (await upload(run(1), 'a.zip')).json as unknown as { runDir: string };
  const second = (await upload(run(2), 'b.zip')).json as unknown as { runDir: string };
  // The first is made old: the next upload removes it for its age, although the total would fit.
  const { utimes } = await import('node:fs/promises');
  const old = new Date(Date.now() - 120_000);
  await utimes(first.runDir, old, old);
  const third = (await upload(run(3), 'c.zip')).json as unknown as { runDir: string; storage: { removed: Array<{ runDir: string; reason: string }>; totalBytes: number } };
  assert.deepEqual(third.storage.removed.map((entry) => [entry.runDir, entry.reason]), [[first.runDir, 'age']]);
  assert.equal(third.storage.totalBytes, 2000);
  const fourth = (await upload(run(4), 'd.zip')).json as unknown as { runDir: string; storage: { removed: Array<{ runDir: string; reason: string }>; totalBytes: number } };
  assert.deepEqual(fourth.storage.removed.map((entry) => [entry.runDir, entry.reason]), [[second.runDir, 'size']], 'the oldest goes first');
  assert.equal(fourth.storage.totalBytes, 2000);
  assert.deepEqual((await readdir(archives.root)).sort(), [path.basename(third.runDir), path.basename(fourth.runDir)].sort());
});

test('the storage caps are read at each upload (the user setting): a lowered cap applies to the next upload', async () => {
  let caps = { maxTotalBytes: 10_000, maxAgeMs: 86_400_000 };
  archives = new RunArchives(dataDir, DEFAULT_RUN_ARCHIVE_LIMITS, () => caps);
  const run = (byte: number) => makeZip([{ name: 'data.bin', data: Buffer.alloc(1000, byte) }]);
  const first = (await upload(run(5), 'e.zip')).json as unknown as { runDir: string; storage: { removed: unknown[]; maxTotalBytes: number; maxAgeDays: number } };
  assert.deepEqual([first.storage.removed.length, first.storage.maxTotalBytes, first.storage.maxAgeDays], [0, 10_000, 1]);
  caps = { maxTotalBytes: 1500, maxAgeMs: 86_400_000 };
  const second = (await upload(run(6), 'f.zip')).json as unknown as { storage: { removed: Array<{ runDir: string; reason: string }>; maxTotalBytes: number } };
  assert.deepEqual(second.storage.removed.map((entry) => [entry.runDir, entry.reason]), [[first.runDir, 'size']]);
  assert.equal(second.storage.maxTotalBytes, 1500);
});
