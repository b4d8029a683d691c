import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { RENDERER_CSP, serveRenderer } from './static-ui.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so that paths like /ui/%2e%2e/x reach the server unnormalized. */
function raw(port: number, path: string, method = 'GET'): Promise<Raw> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(app: Koa): Promise<{ server: Server; port: number }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('serveRenderer', () => {
  let base: string;
  let server: Server;
  let port: number;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'static-ui-'));
    const dist = join(base, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>ui</title>');
    await writeFile(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
    await writeFile(join(dist, 'assets', 'app-abc123.css'), 'body{}');
    await writeFile(join(dist, 'assets', 'space name.svg'), '<svg/>');
    await writeFile(join(base, 'secret.txt'), 'secret');
    await symlink(join(base, 'secret.txt'), join(dist, 'assets', 'link.txt'));

    const app = new Koa();
    app.use(serveRenderer(dist));
    app.use((ctx) => {
      ctx.body = 'passed on';
    });
    ({ server, port } = await listen(app));
  });

  after(async () => {
    server.close();
    await rm(base, { recursive: true, force: true });
  });

  it('serves index.html at /ui/ with a strict CSP and no sniffing', async () => {
    const res = await raw(port, '/ui/');
    assert.equal(res.status, 200);
    assert.equal(res.body, '<!doctype html><title>ui</title>');
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['content-security-policy'], RENDERER_CSP);
    assert.match(RENDERER_CSP, /default-src 'none'/);
    assert.match(RENDERER_CSP, /connect-src 'self'/);
    assert.doesNotMatch(RENDERER_CSP, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  it('redirects /ui to /ui/', async () => {
    const res = await raw(port, '/ui');
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/ui/');
  });

  it('serves hashed assets with their content type and a long cache', async () => {
    const js = await raw(port, '/ui/assets/app-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.body, 'console.log(1)');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const css = await raw(port, '/ui/assets/app-abc123.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const svg = await raw(port, '/ui/assets/space%20name.svg');
    assert.equal(svg.status, 200);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await raw(port, '/ui/assets/app-abc123.js', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-length'], String('console.log(1)'.length));
  });

  it('refuses other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await raw(port, '/ui/', method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
      assert.equal(JSON.parse(res.body).code, 'method_not_allowed');
    }
  });

  it('never leaves the dist directory', async () => {
    const attempts = [
      '/ui/../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/assets/..%2f..%2fsecret.txt',
      '/ui/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/ui/..%5csecret.txt',
      '/ui/%2fetc%2fpasswd',
      '/ui//etc/passwd',
      '/ui/assets/link.txt',
      '/ui/index.html%00.js',
      '/ui/%E0%A4%A',
    ];
    for (const path of attempts) {
      const res = await raw(port, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /secret|root:/, path);
    }
  });

  it('answers 404 for a missing file and a directory', async () => {
    assert.equal((await raw(port, '/ui/nope.js')).status, 404);
    assert.equal((await raw(port, '/ui/assets')).status, 404);
  });

  it('passes every other path on', async () => {
    for (const path of ['/health', '/uix', '/api/gateway/version']) {
      const res = await raw(port, path);
      assert.equal(res.body, 'passed on', path);
    }
  });

  it('says so when the renderer is not built', async () => {
    const app = new Koa();
    app.use(serveRenderer(join(base, 'missing')));
    const empty = await listen(app);
    try {
      const res = await raw(empty.port, '/ui/');
      assert.equal(res.status, 404);
      assert.equal(JSON.parse(res.body).code, 'ui_not_built');
    } finally {
      empty.server.close();
    }
  });
});
