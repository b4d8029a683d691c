// Gateway core benchmark, all in one run so the ratios compare like with like:
//   - throughput, p50/p99 and server CPU per request of `GET /api/gateway/version` with the
//     gateway token and with a paired session + Origin (how the web app calls), against
//     Koa + @koa/router with the same routes registered and a bare node:http server;
//     rounds interleave the four, 50 keep-alive connections at saturation from a client
//     process of its own (wrk when installed, else bench/load.ts);
//   - latency when the server is not saturated: the same 50 connections paced near each of
//     --rates requests a second in all (each pauses 0..2x connections/rate between an answer
//     and its next request, as browser tabs do), the same four interleaved;
//   - bytes allocated per request (token and session, quiet and in use; Koa for scale; node:http
//     alone, sent the same request headers, and also answering the gateway's very reply): a fresh
//     server with --expose-gc and a young generation large enough that no collection runs in a
//     window, once its start-up work is over, over one warm keep-alive connection from this
//     process, the least of three windows;
//   - headless start to `listening` (median: wall clock, and the process's own CPU time, which
//     a busy machine does not inflate), and to the reply of a token GET sent the moment it
//     listens (the route families load once listening: this is when a client is served), idle RSS;
//   - the 1-minute load average beside each figure (each round, allocation window, start).
// Run: npm run build && node --import tsx bench/gateway.ts [--seconds 5] [--rounds 3] [--connections 50] [--rates 1000,2000,4000] [--pin]
//   --allocation: only the bytes-per-request probe (no load rounds, no starts): allocation per
//   request does not depend on the machine's load, so it can be measured on a busy machine.
//   --pin: the servers on the last CPU and the load client on CPU 0 (taskset), so the client
//   does not take the server's core; without it the scheduler places both.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CapturedReply } from './baselines.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { listOption, loadAverage, loadNow, numberOption, printReport, round, smoke } from './support.js';

const ROOT = join(import.meta.dirname, '..');
const seconds = numberOption('seconds', 5, 1);
const rounds = numberOption('rounds', 3, 1);
const connections = numberOption('connections', 50, 10);
const starts = numberOption('starts', 5, 1);
const allocationRequests = numberOption('allocation-requests', 2000, 200);
/** The rates (requests a second over all the connections) the paced rounds aim at. */
const rates = listOption('rates', [1000, 2000, 4000], [200]);
const ORIGIN = 'https://app.bench.example';
const pin = process.argv.includes('--pin');
const allocationOnly = process.argv.includes('--allocation');
const SERVER_CPU = String(Math.max(0, availableParallelism() - 1));
const loadAtStart = loadAverage();

/** The command line, run through taskset on one CPU when --pin is given. */
function pinned(cpu: string, command: string, args: string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
}

/** The built gateway, as the app and `npx symphony-gateway` run it (npm run build first). */
const CLI = join(ROOT, 'dist', 'main', 'cli.js');
if (!existsSync(CLI)) throw new Error('Build first: npm run build (the benchmark measures dist/main/cli.js).');

interface Server {
  child: ChildProcess;
  port: number;
  /** Wall-clock from spawn to the `listening` line. */
  startMs: number;
  /** CPU time (user + system) the process had used by then: compares across machine loads. */
  startCpuMs: number;
  /** performance.now() at spawn. */
  spawnedAt: number;
}

async function startServer(args: string[], nodeFlags: string[] = [], ipc = false): Promise<Server> {
  const begun = performance.now();
  const [command, argv] = pinned(SERVER_CPU, process.execPath, [...nodeFlags, ...args]);
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore', ...(ipc ? (['ipc'] as const) : [])],
    env: { ...process.env, SYMPHONY_LOG_LEVEL: 'info' },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  const startMs = performance.now() - begun;
  return { child, port: JSON.parse(line).port, startMs, startCpuMs: cpuMicros(child.pid!) / 1000, spawnedAt: begun };
}

const gatewayArgs = (dataDir: string) => [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file'];
const baselineArgs = (kind: string, ...rest: string[]) => [join(ROOT, 'bench', 'baselines.ts'), kind, ...rest];

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** A child that takes its options as JSON on stdin (they hold tokens: never in argv) and prints JSON. */
function runJsonChild(cpu: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [command, argv] = pinned(cpu, args[0], args.slice(1));
    const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}`))));
    child.stdin!.end(input);
  });
}

async function runLoadProcess(options: LoadOptions): Promise<LoadResult> {
  const out = await runJsonChild('0', [process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'load.ts')], JSON.stringify(options));
  return JSON.parse(out) as LoadResult;
}

/**
 * wrk (C, one thread) when it is installed: the node client tops out near 7k requests a second
 * on this machine, below bare node:http, so with it the saturation rounds measure the client.
 */
const WRK = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'wrk')).find((path) => existsSync(path));
const loadClient = WRK ? 'wrk' : 'node (bench/load.ts: wrk is not installed, so throughput is the client\'s: apt-get install wrk)';

/** wrk, with bench/load.ts's model (closed loop, optional pauses): the headers go through a 0600 file its script reads. */
async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const headersFile = join(dataDir, 'wrk-headers');
  writeFileSync(headersFile, Object.entries(options.headers).map(([name, value]) => `${name}: ${value}\n`).join(''), { mode: 0o600 });
  const args = [WRK!, '-t1', `-c${options.connections}`, `-d${Math.max(1, Math.round(options.durationMs / 1000))}s`, '--timeout', '10s'];
  const script = [join(ROOT, 'bench', 'wrk-report.lua'), `http://127.0.0.1:${options.port}${options.path}`, '--', headersFile, String(Math.round(options.thinkMs ?? 0))];
  const out = await runJsonChild('0', [...args, '-s', ...script], '');
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const summary = JSON.parse(line) as { requests: number; durationUs: number; non2xx: number; socketErrors: number; p50Us: number; p99Us: number; maxUs: number };
  const answered = summary.requests - summary.non2xx;
  const ms = (us: number) => round(us / 1000);
  return {
    requests: answered,
    errors: summary.non2xx + summary.socketErrors,
    requestsPerSecond: Math.round(answered / (summary.durationUs / 1e6)),
    p50Ms: ms(summary.p50Us),
    p99Ms: ms(summary.p99Us),
    maxMs: ms(summary.maxUs),
  };
}

/** utime + stime of a process, in microseconds (Linux /proc, 100 ticks a second). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);
}

function post(port: number, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers } },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (out += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(out || '{}') as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** The status of a GET (the body read and dropped). */
function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

/** The gateway's reply as node-http-reply repeats it: its header lines but those node adds itself, and its body. */
function captureReply(port: number, path: string, headers: Record<string, string>): Promise<CapturedReply> {
  const nodesOwn = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${path}: ${res.statusCode} ${body}`));
        const lines: string[] = [];
        for (let at = 0; at < res.rawHeaders.length; at += 2) {
          const name = res.rawHeaders[at].toLowerCase();
          if (!nodesOwn.has(name)) lines.push(name, res.rawHeaders[at + 1]);
        }
        resolve({ headers: lines, body });
      });
    })
      .on('error', reject)
      .end();
  });
}

/** Pairs ORIGIN the way a browser tab does: a local challenge, then the exchange with its Origin. */
async function pairSession(port: number, token: string): Promise<string> {
  const challenge = await post(port, '/gateway-auth/challenge', { origin: ORIGIN }, { 'X-Desktop-Gateway-Token': token });
  const exchanged = await post(port, '/gateway-auth/exchange', { challengeToken: challenge.json.challengeToken }, { Origin: ORIGIN });
  if (exchanged.status !== 200) throw new Error(`pairing failed: ${exchanged.status} ${JSON.stringify(exchanged.json)}`);
  return String(exchanged.json.sessionToken);
}

interface Target {
  name: string;
  server: Server;
  path: string;
  headers: Record<string, string>;
}

interface Sample extends LoadResult {
  cpuUsPerRequest: number;
  /** The 1-minute load average when the sample ended. */
  loadAverage: number;
}

/**
 * A round at saturation, or paced near `ratePerSecond` in all: each connection pauses
 * connections/rate on average between an answer and its next request.
 */
async function measure(target: Target, durationMs: number, ratePerSecond?: number): Promise<Sample> {
  const cpuBefore = cpuMicros(target.server.child.pid!);
  const headers = { Host: `127.0.0.1:${target.server.port}`, ...target.headers };
  const thinkMs = ratePerSecond ? (connections * 1000) / ratePerSecond : undefined;
  const options = { port: target.server.port, path: target.path, headers, connections, durationMs, thinkMs };
  const result = await (WRK ? runWrk(options) : runLoadProcess(options));
  const cpu = cpuMicros(target.server.child.pid!) - cpuBefore;
  return { ...result, cpuUsPerRequest: Math.round(cpu / Math.max(1, result.requests)), loadAverage: loadNow() };
}

/** Bytes allocated per request, from a fresh server whose heap the probe watches. */
async function allocationPerRequest(
  args: string[],
  path: string,
  headers: (server: Server) => Promise<Record<string, string>>,
): Promise<{ bytesPerRequest: number | null; windows: Array<number | null>; collections: number; idleBytesPerSecond: number; loadAverage: number }> {
  // A fixed 128 MB young generation: no scavenge in a window of a few thousand requests.
  const probe = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128', '--import', join(ROOT, 'bench', 'heap-probe.js')];
  const isTs = args[0].endsWith('.ts');
  const server = await startServer(args, [...(isTs ? ['--import', 'tsx'] : []), ...probe], true);
  // One keep-alive connection from this process for the warm-up and every window: the client's
  // allocations are not the server's, and a new connection per window made node's stream and
  // http code deoptimise and compile again inside the window (--trace-deopt), counted as requests'.
  const connection = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sent = await headers(server);
    const options = { port: server.port, path, headers: { Host: `127.0.0.1:${server.port}`, ...sent }, connections: 1, durationMs: 60_000 };
    const ask = (message: string) =>
      new Promise<Record<string, number>>((resolve) => {
        server.child.once('message', (reply) => resolve(reply as Record<string, number>));
        server.child.send(message);
      });
    const idleGrowth = async (ms: number) => {
      await ask('begin');
      await new Promise((resolve) => setTimeout(resolve, ms));
      return (await ask('end')).grownBytes;
    };
    // The gateway's start-up work (tool detection, the login shell probe and its process
    // checks) allocates for some seconds after it listens: wait until it is done, so that it
    // is not counted as the requests'. At most 30 s (2 s under --smoke); what the process does with no request
    // at all is printed beside the figure (idleBytesPerSecond).
    for (let i = 0; i < (smoke ? 2 : 30) && (await idleGrowth(1000)) > IDLE_BYTES_PER_SECOND; i++);
    await runLoad({ ...options, maxRequests: 500 }, connection); // warm-up: lazy compilation is not per request
    // Background work can still start in a window (the login shell probe gives up after 10 s
    // and its process checks follow): it only adds bytes, so the least of three windows is the
    // closest to the requests' own. A collection inside a window makes its growth meaningless.
    const windows: Array<{ perRequest: number | null; collections: number }> = [];
    for (let i = 0; i < (smoke ? 1 : 3); i++) {
      await ask('begin');
      const result = await runLoad({ ...options, maxRequests: allocationRequests }, connection);
      const end = await ask('end');
      windows.push({ perRequest: end.collections === 0 ? Math.round(end.grownBytes / result.requests) : null, collections: end.collections });
    }
    const idleBytesPerSecond = await idleGrowth(1000);
    const clean = windows.flatMap((w) => (w.perRequest === null ? [] : [w.perRequest]));
    return {
      bytesPerRequest: clean.length ? Math.min(...clean) : null,
      windows: windows.map((w) => w.perRequest),
      collections: windows.reduce((sum, w) => sum + w.collections, 0),
      idleBytesPerSecond,
      loadAverage: loadNow(),
    };
  } finally {
    connection.destroy();
    await stop(server);
  }
}

/** Below this a process counts as idle (its timers; a request allocates a few KB). */
const IDLE_BYTES_PER_SECOND = 8 * 1024;

const readToken = (dir: string) => readFileSync(join(dir, 'secrets', 'gateway-token'), 'utf8').trim();

/**
 * A request that opens the per-request async context (any route but the probes: process-guard.ts).
 * On Node 20 that context costs every later request of the next minute its promise and async
 * hooks, so the gateway is measured both ways: quiet (only probes lately, as the pairing is done
 * by an earlier process) and in use (as a web app that calls other routes keeps it).
 */
function openAsyncContext(port: number, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = { Host: `127.0.0.1:${port}`, 'X-Desktop-Gateway-Token': token };
    request({ host: '127.0.0.1', port, path: '/api/gateway/repos', headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET /api/gateway/repos: ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

/** A gateway's replies to the two benchmarked requests, for node-http-reply to repeat. */
async function replies(port: number, token: string, sessionToken: string): Promise<Replies> {
  return {
    token: await captureReply(port, '/api/gateway/version', { 'X-Desktop-Gateway-Token': token }),
    session: await captureReply(port, '/api/gateway/version', { 'X-Desktop-Session-Token': sessionToken, Origin: ORIGIN }),
  };
}

interface Replies {
  token: CapturedReply;
  session: CapturedReply;
}

/**
 * The gateway's two paths, quiet and in use, Koa + router, and node:http three ways: as before
 * (no request headers but Host), sent exactly the gateway's request headers (which it ignores:
 * parsing them is node's own cost), and also answering with the gateway's very reply headers
 * and body (writing header lines is node's own cost too). So "beyond node:http, same exchange"
 * is what the gateway's own code allocates. The session is paired by an earlier process on the
 * same data dir (sessions survive restarts).
 */
async function allocations(token: string, sessionToken: string, reply: Replies) {
  const tokenHeaders = { 'X-Desktop-Gateway-Token': token };
  const sessionHeaders = { 'X-Desktop-Session-Token': sessionToken, Origin: ORIGIN };
  const inUse = (headers: Record<string, string>) => async (server: Server) => (await openAsyncContext(server.port, token), headers);
  const measured = {
    gatewayToken: await allocationPerRequest(gatewayArgs(dataDir), '/api/gateway/version', async () => tokenHeaders),
    gatewaySession: await allocationPerRequest(gatewayArgs(dataDir), '/api/gateway/version', async () => sessionHeaders),
    gatewayTokenInUse: await allocationPerRequest(gatewayArgs(dataDir), '/api/gateway/version', inUse(tokenHeaders)),
    gatewaySessionInUse: await allocationPerRequest(gatewayArgs(dataDir), '/api/gateway/version', inUse(sessionHeaders)),
    koaRouter: await allocationPerRequest(baselineArgs('koa-router'), '/api/gateway/version', async () => ({})),
    nodeHttp: await allocationPerRequest(baselineArgs('node-http'), '/api/gateway/version', async () => ({})),
    nodeHttpTokenRequest: await allocationPerRequest(baselineArgs('node-http'), '/api/gateway/version', async () => tokenHeaders),
    nodeHttpSessionRequest: await allocationPerRequest(baselineArgs('node-http'), '/api/gateway/version', async () => sessionHeaders),
    nodeHttpTokenExchange: await allocationPerRequest(baselineArgs('node-http-reply', JSON.stringify(reply.token)), '/api/gateway/version', async () => tokenHeaders),
    nodeHttpSessionExchange: await allocationPerRequest(baselineArgs('node-http-reply', JSON.stringify(reply.session)), '/api/gateway/version', async () => sessionHeaders),
  };
  const beyond = (gateway: keyof typeof measured, bare: keyof typeof measured) =>
    measured[gateway].bytesPerRequest !== null && measured[bare].bytesPerRequest !== null ? measured[gateway].bytesPerRequest! - measured[bare].bytesPerRequest! : null;
  return {
    ...measured,
    beyondNodeHttpSameRequest: { token: beyond('gatewayToken', 'nodeHttpTokenRequest'), session: beyond('gatewaySession', 'nodeHttpSessionRequest') },
    beyondNodeHttpSameExchange: { token: beyond('gatewayToken', 'nodeHttpTokenExchange'), session: beyond('gatewaySession', 'nodeHttpSessionExchange') },
  };
}

/** Little's law for a closed loop: its mean latency is connections / throughput, however fast the server. */
function withLatencyFloor<T extends { requestsPerSecond: number }>(summary: T): T & { meanLatencyFloorMs: number } {
  return { ...summary, meanLatencyFloorMs: round((connections * 1000) / Math.max(1, summary.requestsPerSecond)) };
}

/** A paced rate's rounds: the p50, p99 and worst (medians over rounds), and the rate reached. */
function pacedSummary(samples: Sample[]) {
  const { p50Ms, p99Ms, maxMs, requestsPerSecond, errors, loadAverages } = summarize(samples);
  return { p50Ms, p99Ms, maxMs, requestsPerSecond, errors, loadAverages };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function summarize(samples: Sample[]) {
  return {
    requestsPerSecond: median(samples.map((s) => s.requestsPerSecond)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    maxMs: median(samples.map((s) => s.maxMs)),
    cpuUsPerRequest: median(samples.map((s) => s.cpuUsPerRequest)),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    rounds: samples.map((s) => s.requestsPerSecond),
    /** Beside each round's figure: the 1-minute load average when it ended. */
    loadAverages: samples.map((s) => s.loadAverage),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'symphony-bench-'));
const servers: Server[] = [];
try {
  await (allocationOnly ? allocationRun() : fullRun());
} finally {
  for (const server of servers) await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}

/** --allocation: the probe alone. */
async function allocationRun(): Promise<void> {
  // A first start makes the token and pairs the session the probed processes use.
  const first = await startServer(gatewayArgs(dataDir));
  const token = readToken(dataDir);
  const sessionToken = await pairSession(first.port, token);
  const reply = await replies(first.port, token, sessionToken);
  await stop(first);
  printReport('gateway', { loadAverageAtStart: loadAtStart, allocationRequests, allocation: await allocations(token, sessionToken, reply) });
}

async function fullRun(): Promise<void> {
  const startTimes: number[] = [];
  const startCpu: number[] = [];
  const startLoads: number[] = [];
  const firstReplyTimes: number[] = [];
  const firstReplyCpu: number[] = [];
  for (let i = 0; i < starts; i++) {
    const started = await startServer(gatewayArgs(dataDir));
    startTimes.push(started.startMs);
    startCpu.push(started.startCpuMs);
    // At once: the first authenticated request, as a client that waited for the port would send it.
    const reply = await get(started.port, '/api/gateway/version', { 'X-Desktop-Gateway-Token': readFileSync(join(dataDir, 'secrets', 'gateway-token'), 'utf8').trim() });
    if (reply !== 200) throw new Error(`the first request got ${reply}`);
    firstReplyTimes.push(performance.now() - started.spawnedAt);
    firstReplyCpu.push(cpuMicros(started.child.pid!) / 1000);
    startLoads.push(loadNow());
    await stop(started);
  }

  const gateway = await startServer(gatewayArgs(dataDir));
  servers.push(gateway);
  await new Promise((resolve) => setTimeout(resolve, smokeSafeIdleWaitMs()));
  const idleRss = rssMb(gateway.child.pid!);
  const idleLoad = loadNow();
  const token = readToken(dataDir);
  const sessionToken = await pairSession(gateway.port, token);
  const koa = await startServer(baselineArgs('koa-router'), ['--import', 'tsx']);
  const bare = await startServer(baselineArgs('node-http'), ['--import', 'tsx']);
  servers.push(koa, bare);

  const targets: Target[] = [
    { name: 'nodeHttp', server: bare, path: '/api/gateway/version', headers: {} },
    { name: 'koaRouter', server: koa, path: '/api/gateway/version', headers: {} },
    { name: 'gatewayToken', server: gateway, path: '/api/gateway/version', headers: { 'X-Desktop-Gateway-Token': token } },
    { name: 'gatewaySession', server: gateway, path: '/api/gateway/version', headers: { 'X-Desktop-Session-Token': sessionToken, Origin: ORIGIN } },
  ];
  for (const target of targets) await measure(target, Math.min(2000, seconds * 1000)); // warm-up
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const target of targets) samples.get(target.name)!.push(await measure(target, seconds * 1000));
  }
  // The same four paced, interleaved the same way: latency when the server is not the bottleneck
  // (at saturation a closed loop's mean latency is connections / throughput, whatever the server).
  const atRate = new Map<string, Sample[]>(rates.flatMap((rate) => targets.map((t) => [`${rate}/${t.name}`, []] as [string, Sample[]])));
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const rate of rates) for (const target of targets) atRate.get(`${rate}/${target.name}`)!.push(await measure(target, seconds * 1000, rate));
  }
  const loadedRss = rssMb(gateway.child.pid!);
  const reply = await replies(gateway.port, token, sessionToken);
  for (const server of servers.splice(0)) await stop(server);

  const results = Object.fromEntries([...samples].map(([name, list]) => [name, withLatencyFloor(summarize(list))]));
  const paced = Object.fromEntries(
    rates.map((rate) => [rate, Object.fromEntries(targets.map((t) => [t.name, pacedSummary(atRate.get(`${rate}/${t.name}`)!)]))]),
  );
  const allocation = await allocations(token, sessionToken, reply);
  const ratio = (name: string) => round(results[name].requestsPerSecond / results.koaRouter.requestsPerSecond);
  // What the gateway allocates beyond Koa + @koa/router themselves (node:http and Koa alone take ~7 and ~16 KB).
  const beyondKoa = (name: 'gatewayToken' | 'gatewaySession') =>
    allocation[name].bytesPerRequest !== null && allocation.koaRouter.bytesPerRequest !== null
      ? allocation[name].bytesPerRequest! - allocation.koaRouter.bytesPerRequest!
      : null;
  startTimes.sort((a, b) => a - b);
  startCpu.sort((a, b) => a - b);
  printReport('gateway', {
    loadAverageAtStart: loadAtStart,
    pinned: pin ? { servers: `cpu ${SERVER_CPU}`, loadClient: 'cpu 0' } : false,
    connections,
    secondsPerRound: seconds,
    rounds,
    loadClient,
    results,
    // Per requested rate (over the same connections, paced): latency, and the rate reached.
    paced,
    throughputRatioToKoaRouter: { token: ratio('gatewayToken'), session: ratio('gatewaySession') },
    sessionCpuOverToken: round(results.gatewaySession.cpuUsPerRequest / results.gatewayToken.cpuUsPerRequest),
    allocation,
    allocationBeyondKoaRouter: { token: beyondKoa('gatewayToken'), session: beyondKoa('gatewaySession') },
    startToListeningMs: { median: Math.round(median(startTimes)), min: Math.round(startTimes[0]), max: Math.round(startTimes.at(-1)!), loadAverages: startLoads },
    // The process's own CPU until listening: on a busy machine the wall clock waits for a core, this does not.
    startCpuMs: { median: Math.round(median(startCpu)), min: Math.round(startCpu[0]), max: Math.round(startCpu.at(-1)!) },
    // Spawn to the reply of a token GET /api/gateway/version sent on the listening line (wall clock, and CPU by then).
    startToFirstReplyMs: { median: Math.round(median(firstReplyTimes)), min: Math.round(Math.min(...firstReplyTimes)), max: Math.round(Math.max(...firstReplyTimes)) },
    firstReplyCpuMs: { median: Math.round(median(firstReplyCpu)), min: Math.round(Math.min(...firstReplyCpu)), max: Math.round(Math.max(...firstReplyCpu)) },
    idleRssMb: idleRss,
    idleRssLoadAverage: idleLoad,
    rssAfterLoadMb: loadedRss,
    errors: Object.values(results).reduce((sum, r) => sum + r.errors, 0),
    targets: { throughputRatio: '>= 0.8', sessionCpuOverToken: '<= 1.2', p99Ms: '< 5 at 50 connections (paced; at saturation a closed loop waits connections / throughput on average)', bytesPerRequest: '<= 8192', startToListeningMs: '< 400', idleRssMb: '< 100' },
  });
}

/** Idle RSS is read once start-up work (index loads, first timers) has settled. */
function smokeSafeIdleWaitMs(): number {
  return seconds <= 1 ? 500 : 2000;
}
