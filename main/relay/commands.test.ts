// The command queue against a stub gateway on loopback that holds each request until the
// test releases it: lock-key serialisation, the in-flight cap, headers, timeouts, cancel,
// the unacked-event buffer and duplicates.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { CommandQueue, lockKeyOf, operationMismatch, type CommandQueueOptions } from './commands.js';
import { DesktopCommand, OUT, type CommandAck, type CommandEvent } from './protocol.js';

interface Held {
  req: IncomingMessage;
  res: ServerResponse;
  body: string;
}

let server: Server;
let port: number;
const held: Held[] = [];
let arrivals: string[] = [];
const waiters: Array<() => void> = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      held.push({ req, res, body });
      arrivals.push(req.headers['x-desktop-command-id'] as string);
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  held.length = 0;
  arrivals = [];
});

async function arrived(count: number): Promise<void> {
  while (held.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
}

function release(commandId: string, status = 200, body: unknown = { ok: true }): void {
  const index = held.findIndex((h) => h.req.headers['x-desktop-command-id'] === commandId);
  assert.ok(index >= 0, `request ${commandId} is held`);
  const [h] = held.splice(index, 1);
  h.res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function makeQueue(overrides: Partial<CommandQueueOptions> = {}) {
  const sent: Array<{ event: string; payload: CommandAck | CommandEvent }> = [];
  let notify: () => void = () => {};
  const queue = new CommandQueue({
    send: (event, payload) => {
      sent.push({ event, payload: payload as CommandAck | CommandEvent });
      notify();
      return true;
    },
    connected: () => true,
    paused: () => false,
    gatewayPort: () => port,
    gatewayToken: () => 'gw-token-secret',
    relaySecret: 'relay-secret-value',
    log: pino({ level: 'silent' }),
    ...overrides,
  });
  const events = (commandId: string) =>
    sent.filter((s) => s.event === OUT.event && s.payload.commandId === commandId).map((s) => s.payload as CommandEvent);
  const acks = () => sent.filter((s) => s.event === OUT.ack).map((s) => s.payload as CommandAck);
  const until = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        notify = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  const done = (commandId: string) => until(() => events(commandId).some((e) => ['done', 'error'].includes(e.eventType) && (e.eventType === 'done' || e.data.terminal === true)), `${commandId} to end`);
  return { queue, sent, events, acks, until, done };
}

const git = (commandId: string, repoPath: string, extra: Record<string, unknown> = {}) => ({
  commandId,
  operationId: 'git_action',
  method: 'POST',
  path: '/api/gateway/git',
  body: { action: 'status', repoPath },
  ...extra,
});

describe('command queue', () => {
  test('two commands on one repository run one after the other, two repositories in parallel, a third waits', async () => {
    const { queue, done } = makeQueue();
    queue.receive(git('a1', '/repo/a'));
    queue.receive(git('a2', '/repo/a'));
    queue.receive(git('b1', '/repo/b'));
    queue.receive(git('c1', '/repo/c'));
    await arrived(2);
    // a1 and b1 run; a2 waits for a1's lock, c1 for a free slot.
    assert.deepEqual(arrivals, ['a1', 'b1']);
    assert.deepEqual(queue.view().queued.map((c) => c.commandId), ['a2', 'c1']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(held.length, 2, 'nothing else started while both slots are taken');
    release('a1');
    await done('a1');
    await arrived(2);
    assert.deepEqual(arrivals, ['a1', 'b1', 'a2'], 'a2 takes the freed slot: first queued with a free lock');
    release('b1');
    await arrived(2);
    assert.deepEqual(arrivals, ['a1', 'b1', 'a2', 'c1']);
    release('a2');
    release('c1');
    await Promise.all(['a2', 'c1'].map(done));
  });

  test('lock key: lockKey, else the operation and the first path field of the body, else none', () => {
    const parse = (raw: unknown) => DesktopCommand.parse(raw);
    assert.equal(lockKeyOf(parse({ ...git('x', '/r'), lockKey: 'mine' })), 'mine');
    assert.equal(lockKeyOf(parse(git('x', '/r'))), 'git_action:/r');
    assert.equal(
      lockKeyOf(parse({ commandId: 'x', operationId: 'symphony_kill', method: 'POST', path: '/api/gateway/symphony/kill', body: { workDir: '/w', path: '/p' } })),
      'symphony_kill:/w',
    );
    assert.equal(lockKeyOf(parse({ commandId: 'x', operationId: 'health_check', method: 'GET', path: '/api/gateway/version' })), null);
  });

  test('the operation id must be the one our table gives the path; desktop-only routes and dot segments are refused', () => {
    const parse = (operationId: string, method: string, path: string) => DesktopCommand.parse({ commandId: 'x', operationId, method, path });
    assert.equal(operationMismatch(parse('health_check', 'GET', '/api/gateway/version')), null);
    assert.equal(operationMismatch(parse('symphony_status', 'GET', '/api/gateway/symphony/status/T-1')), null);
    assert.equal(operationMismatch(parse('symphony_plan_loop', 'POST', '/api/gateway/symphony/plan-loop/T-1/prepare')), null);
    assert.equal(operationMismatch(parse('health_check', 'POST', '/api/gateway/repos')), 'operationId/path mismatch');
    assert.equal(operationMismatch(parse('desktop', 'PUT', '/api/gateway/desktop/api-key')), 'operationId/path mismatch');
    assert.equal(operationMismatch(parse('health_check', 'GET', '/api/gateway/desktop/relay')), 'operationId/path mismatch');
    assert.equal(operationMismatch(parse('symphony_status', 'GET', '/api/gateway/symphony/status/../../desktop/relay')), 'path must start with /api/gateway/');
    assert.equal(operationMismatch(parse('symphony_status', 'GET', '/api/gateway/symphony/status/%2e%2e')), 'path must start with /api/gateway/');
  });

  test('the replay carries our headers; the cloud cannot override them or pass a credential', async () => {
    const { queue, done, events } = makeQueue();
    queue.receive(
      git('h1', '/repo/h', {
        requiresApproval: true,
        approvalReason: 'push to main\r\nx-evil: 1',
        headers: {
          'x-desktop-gateway-token': 'forged',
          'x-desktop-relay-secret': 'forged-too',
          'X-Desktop-Source': 'browser',
          'x-desktop-session-token': 'stolen',
          authorization: 'Bearer x',
          cookie: 'a=b',
          origin: 'https://evil.example',
          'accept-language': 'fr',
        },
        query: { verbose: 1 },
      }),
    );
    await arrived(1);
    const { req, body } = held[0];
    assert.equal(req.headers['x-desktop-gateway-token'], 'gw-token-secret');
    assert.equal(req.headers['x-desktop-relay-secret'], 'relay-secret-value');
    assert.equal(req.headers['x-desktop-source'], 'cloud-socket');
    assert.equal(req.headers['x-desktop-command-id'], 'h1');
    assert.equal(req.headers['x-desktop-operation-id'], 'git_action');
    assert.equal(req.headers['x-desktop-force-approval'], '1');
    assert.equal(req.headers['x-desktop-approval-reason'], 'push to main x-evil: 1');
    assert.equal(req.headers['x-evil'], undefined);
    assert.equal(req.headers['accept-language'], 'fr');
    for (const name of ['x-desktop-session-token', 'authorization', 'cookie', 'origin']) assert.equal(req.headers[name], undefined, name);
    assert.equal(req.headers.host, `127.0.0.1:${port}`);
    assert.equal(req.url, '/api/gateway/git?verbose=1');
    assert.deepEqual(JSON.parse(body), { action: 'status', repoPath: '/repo/h' });
    assert.ok(!req.url?.includes('gw-token-secret') && !req.url?.includes('relay-secret-value'));
    release('h1', 200, { branch: 'main' });
    await done('h1');
    assert.deepEqual(
      events('h1').map((e) => [e.sequence, e.eventType]),
      [[1, 'status'], [2, 'result'], [3, 'done']],
    );
    assert.deepEqual(events('h1')[1].data, { statusCode: 200, success: true, data: { branch: 'main' } });
  });

  test('a command past its timeoutMs, or with no reply headers within the watchdog, ends with error code timeout', async () => {
    const { queue, done, events } = makeQueue({ headerTimeoutMs: 300 });
    queue.receive(git('t1', '/repo/t1', { timeoutMs: 150 }));
    queue.receive(git('t2', '/repo/t2'));
    await Promise.all([done('t1'), done('t2')]);
    assert.equal(events('t1').at(-1)?.data.code, 'timeout');
    assert.match(String(events('t1').at(-1)?.data.error), /150 ms timeout/);
    assert.equal(events('t2').at(-1)?.data.code, 'timeout');
    assert.match(String(events('t2').at(-1)?.data.error), /no reply headers/);
    assert.equal(queue.view().recent.find((c) => c.commandId === 't1')?.outcome, 'timeout');
  });

  test('cancel drops a queued command and aborts a running one; both end done {cancelled: true}', async () => {
    const { queue, done, events } = makeQueue({ maxInFlight: 1 });
    queue.receive(git('r1', '/repo/r'));
    queue.receive(git('q1', '/repo/q'));
    await arrived(1);
    const closed = new Promise<void>((resolve) => held[0].res.on('close', () => resolve()));
    queue.cancel({ commandId: 'q1', reason: 'user changed their mind' });
    await done('q1');
    assert.deepEqual(events('q1').map((e) => e.eventType), ['done'], 'a queued command never ran');
    assert.deepEqual(events('q1')[0].data, { cancelled: true, reason: 'user changed their mind' });
    queue.cancel({ commandId: 'r1' });
    await done('r1');
    await closed; // the gateway saw its client leave (and stops the work)
    assert.deepEqual(events('r1').at(-1)?.data, { cancelled: true, reason: null });
    assert.deepEqual(arrivals, ['r1']);
  });

  test('events wait for the ack; past the buffer limit the command ends buffer_overflow', async () => {
    const { queue, done, events } = makeQueue({ bufferLimit: 3 });
    queue.receive({ commandId: 's1', operationId: 'terminal_chat', method: 'POST', path: '/api/gateway/terminal-chat', body: { message: 'x' } });
    await arrived(1);
    const { res } = held.splice(0, 1)[0];
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (let i = 0; i < 10; i++) res.write(JSON.stringify({ type: 'text', content: String(i) }) + '\n');
    await done('s1');
    const all = events('s1');
    assert.equal(all.at(-1)?.data.code, 'buffer_overflow');
    assert.deepEqual(all.map((e) => e.sequence), [1, 2, 3, 4], 'three unacked events, then the overflow error');
    res.end();
  });

  test('a duplicate command id is re-acked, and a finished one replays its events', async () => {
    const { queue, done, events, acks } = makeQueue();
    const command = git('d1', '/repo/d');
    queue.receive(command);
    await arrived(1);
    queue.receive(command);
    release('d1');
    await done('d1');
    assert.deepEqual(acks().filter((a) => a.commandId === 'd1').map((a) => a.accepted), [true, true]);
    assert.equal(arrivals.length, 1, 'ran once');
    queue.receive(command);
    assert.deepEqual(events('d1').map((e) => e.sequence), [1, 2, 3, 1, 2, 3]);
  });

  test('malformed commands get the spec reasons, paused refuses, and a verifier can refuse', () => {
    let paused = false;
    const { queue, acks } = makeQueue({ paused: () => paused, verify: (c) => (c.commandId === 'unsigned' ? 'unauthorized: unsigned command' : null) });
    queue.receive({ operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
    queue.receive({ commandId: 'm1', operationId: 'health_check', method: 'TRACE', path: '/api/gateway/version' });
    queue.receive({ commandId: 'm2', operationId: 'health_check', method: 'GET', path: '/health' });
    queue.receive({ commandId: 'unsigned', operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
    paused = true;
    queue.receive({ commandId: 'm3', operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
    assert.deepEqual(
      acks().map((a) => [a.commandId, a.accepted, a.reason]),
      [
        ['', false, 'commandId is required'],
        ['m1', false, 'unsupported method'],
        ['m2', false, 'path must start with /api/gateway/'],
        ['unsigned', false, 'unauthorized: unsigned command'],
        ['m3', false, 'cloud commands paused by user'],
      ],
    );
    assert.equal(held.length, 0);
    // The screen lists each refusal, newest first, with what the cloud asked for and why.
    const { refused } = queue.view();
    assert.deepEqual(refused.map((r) => [r.commandId, r.method, r.path, r.reason]), [
      ['m3', 'GET', '/api/gateway/version', 'cloud commands paused by user'],
      ['unsigned', 'GET', '/api/gateway/version', 'unauthorized: unsigned command'],
      ['m2', 'GET', '/health', 'path must start with /api/gateway/'],
      ['m1', 'TRACE', '/api/gateway/version', 'unsupported method'],
      ['', 'GET', '/api/gateway/version', 'commandId is required'],
    ]);
  });
});
