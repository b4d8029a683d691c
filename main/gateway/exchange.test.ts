// The Exchange's replies over a real node:http server. Its header lists are reused from
// reply to reply: each reply must still carry exactly its own headers, whatever the number
// of headers before it, with several Exchanges alive at once.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Exchange, pathOf, sendOrFail } from './exchange.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Our headers (x-h-*) of a reply. */
const ours = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-h-')));
const expected = (id: string, count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-h-${i}`, `${id}-${i}`]));

describe('Exchange', () => {
  let server: Server;
  let port: number;
  /** Exchanges held open by /hold/<id> until /release/<id>. */
  const held = new Map<string, Exchange>();
  const late: Array<() => void> = [];
  const logged: Array<{ fields: object; message: string }> = [];
  const log = { error: (fields: object, message: string) => void logged.push({ fields, message }) };

  before(async () => {
    server = createServer((req, res) => {
      const path = pathOf(req.url ?? '/');
      const [, action, id, count] = path.split('/');
      const ctx = new Exchange(req, res, path);
      for (let i = 0; i < Number(count ?? 0); i++) ctx.set(`X-H-${i}`, `${id}-${i}`);
      if (action === 'hold') return void held.set(id, ctx);
      if (action === 'bad') {
        // A value HTTP cannot carry: node's writeHead throws.
        ctx.set('X-H-Bad', 'line\nbreak');
        ctx.body = { id };
        return sendOrFail(ctx, log);
      }
      if (action === 'empty') {
        ctx.type = 'text/plain';
        ctx.status = 204;
      } else ctx.body = { id };
      ctx.send();
      if (action === 'release') {
        held.get(id)!.send();
        held.delete(id);
      }
      // Once the head is written, a set changes nothing (as Koa's) and takes no list back.
      late.push(() => ctx.set('X-H-Late', 'late'));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('sends exactly its own headers, reply after reply, with more or fewer headers than the last', async () => {
    for (const [id, count] of [['a', 7], ['b', 1], ['c', 12], ['d', 0], ['e', 3]] as const) {
      const reply = await get(port, `/send/${id}/${count}`);
      assert.equal(reply.status, 200);
      assert.deepEqual(ours(reply.headers), expected(id, count), `reply ${id}`);
      assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body)));
      assert.deepEqual(JSON.parse(reply.body), { id });
    }
  });

  it('keeps the headers of Exchanges alive at once apart', async () => {
    const first = get(port, '/hold/h1/9');
    const second = get(port, '/hold/h2/2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Sends its own reply, then h2's, while h1 still waits.
    const third = await get(port, '/release/h2/4');
    assert.deepEqual(ours(third.headers), expected('h2', 4));
    assert.deepEqual(ours((await second).headers), expected('h2', 2));
    const fourth = await get(port, '/release/h1/5');
    assert.deepEqual(ours(fourth.headers), expected('h1', 5));
    assert.deepEqual(ours((await first).headers), expected('h1', 9));
  });

  it('drops the body headers of an empty reply, and a set after the head changes nothing', async () => {
    const reply = await get(port, '/empty/z/3');
    assert.equal(reply.status, 204);
    assert.equal(reply.headers['content-type'], undefined);
    assert.deepEqual(ours(reply.headers), expected('z', 3));
    for (const set of late.splice(0)) set();
    const next = await get(port, '/send/n/2');
    assert.deepEqual(ours(next.headers), expected('n', 2), 'no late header reached a later reply');
  });

  it('answers a reply node refuses to write with a bare 500 and a log line, and goes on serving', async () => {
    const reply = await get(port, '/bad/b1/1');
    assert.equal(reply.status, 500);
    assert.equal(reply.body, '');
    assert.equal(reply.headers['x-h-bad'], undefined);
    assert.equal(logged.length, 1);
    assert.equal(logged[0].message, 'the reply could not be written');
    assert.match(String((logged[0].fields as { err: Error }).err), /Invalid character in header content/);
    const next = await get(port, '/send/after/1');
    assert.equal(next.status, 200);
    assert.deepEqual(ours(next.headers), expected('after', 1));
  });
});
