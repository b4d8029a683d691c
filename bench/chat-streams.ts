// Chat streams benchmark: N concurrent NDJSON chat turns from the in-process fake
// provider through the real gateway (auth, policy, telemetry, NDJSON writer). Each
// text event carries the time the provider yielded it; a client in another process
// notes when its line arrived, so the difference is what the gateway (and loopback)
// add per event. The gateway process also records its worst event-loop stall.
// Run: node --import tsx bench/chat-streams.ts [--streams 50] [--events 300] [--interval-ms 10] [--stagger-ms 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { percentile, printReport, smoke } from './support.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: smoke ? '4' : '50' },
    events: { type: 'string', default: smoke ? '20' : '300' },
    'interval-ms': { type: 'string', default: '10' },
    'stagger-ms': { type: 'string', default: '10' },
    client: { type: 'string' },
    smoke: { type: 'boolean' },
  },
});

interface ClientPlan {
  port: number;
  token: string;
  streams: number;
  /** Stream i starts i × staggerMs after the first, as users' turns do, rather than all in one instant. */
  staggerMs: number;
}

interface ClientResult {
  latenciesMs: number[];
  events: number;
  failedStreams: number;
  wallMs: number;
}

/** Client side (its own process, so its work does not count as the gateway's). */
async function runClient(plan: ClientPlan): Promise<ClientResult> {
  const latenciesMs: number[] = [];
  let events = 0;
  let failedStreams = 0;
  const begun = performance.now();
  const stream = (index: number) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ ticketId: `BENCH-${index}`, message: 'go', ticketContext: 'benchmark' });
      const req = request(
        {
          host: '127.0.0.1', port: plan.port, path: '/api/gateway/ticket-chat', method: 'POST',
          headers: {
            Host: `127.0.0.1:${plan.port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
            'X-Desktop-Gateway-Token': plan.token,
          },
        },
        (res) => {
          if (res.statusCode !== 200) failedStreams++;
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = performance.timeOrigin + performance.now();
            pending += chunk;
            let newline: number;
            while ((newline = pending.indexOf('\n')) >= 0) {
              const event = JSON.parse(pending.slice(0, newline)) as { type: string; content?: string };
              pending = pending.slice(newline + 1);
              events++;
              if (event.type === 'text') latenciesMs.push(now - Number(event.content!.split(' ')[1]));
            }
          });
          res.on('end', resolve);
        },
      );
      req.on('error', () => {
        failedStreams++;
        resolve();
      });
      req.end(body);
    });
  const delayed = (i: number) => new Promise((resolve) => setTimeout(resolve, i * plan.staggerMs)).then(() => stream(i));
  await Promise.all(Array.from({ length: plan.streams }, (_, i) => delayed(i)));
  return { latenciesMs, events, failedStreams, wallMs: performance.now() - begun };
}

/** The client runs in a process of its own, so its work never counts as the gateway's. */
async function runClientProcess(plan: ClientPlan): Promise<ClientResult> {
  const client = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--client', JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  client.stdout!.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => client.on('exit', resolve));
  if (code !== 0) throw new Error(`client exited with ${code}`);
  return JSON.parse(out) as ClientResult;
}

async function runGateway(): Promise<void> {
  const { createServices } = await import('../main/services.js');
  const { startGateway } = await import('../main/gateway/server.js');
  const { FakeProvider } = await import('../main/providers/testing/fake-provider.js');
  const streams = Number(values.streams);
  const dataDir = mkdtempSync(join(tmpdir(), 'symphony-bench-chat-'));
  const workspace = mkdtempSync(join(tmpdir(), 'symphony-bench-chat-workspace-'));
  const services = await createServices({ dataDir, secretStore: 'file', log: pino({ level: 'silent' }) });
  // Ticket chats run in the workspace root when no repository is named.
  await services.setWorkspaceRoot(workspace);
  // Ticket chats talk to the default agent (claude): the fake stands in for it here, so
  // the streams measure the gateway's path, not a CLI's start.
  class FakeDefaultAgent extends FakeProvider {
    override readonly id = 'claude';
  }
  services.providers.register(new FakeDefaultAgent({ deltas: Number(values.events), intervalMs: Number(values['interval-ms']) }));
  const gateway = await startGateway(services, { port: 0 });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    // A warm-up round first: lazy compilation and the first SQLite pages are not what we measure.
    const staggerMs = Number(values['stagger-ms']);
    await runClientProcess({ port: gateway.port, token: services.gatewayToken, streams: 5, staggerMs });
    loop.enable();
    const cpuBefore = process.cpuUsage();
    const result = await runClientProcess({ port: gateway.port, token: services.gatewayToken, streams, staggerMs });
    const cpu = process.cpuUsage(cpuBefore);
    loop.disable();
    const sorted = result.latenciesMs.sort((a, b) => a - b);
    printReport('chat-streams', {
      streams, eventsPerStream: Number(values.events), intervalMs: Number(values['interval-ms']), staggerMs,
      eventsReceived: result.events, failedStreams: result.failedStreams,
      eventsPerSecond: Math.round(result.events / (result.wallMs / 1000)),
      perEventMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1)!) },
      eventLoopStallMs: { max: round(loop.max / 1e6), p99: round(loop.percentile(99) / 1e6) },
      /** CPU the gateway process spent per event delivered: what it adds, whatever the machine's load. */
      gatewayCpuPerEventUs: Math.round((cpu.user + cpu.system) / result.events),
      targets: { perEventP99Ms: 2, eventLoopStallMs: 20 },
    });
  } finally {
    await gateway.close();
    await services.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workspace, { recursive: true, force: true });
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

if (values.client) console.log(JSON.stringify(await runClient(JSON.parse(values.client) as ClientPlan)));
else await runGateway();
