// The cloud relay: commands per second through the relay for a small GET (2 in flight, as
// the protocol allows), and the latency each streamed event gains on its way
// relay → gateway → relay (the fake provider stamps each text delta with its send time).
// `--smoke` runs tiny sizes. The relay is a local Socket.IO server (main/relay/testing).
import { randomUUID } from 'node:crypto';
import { startTestGateway } from '../main/gateway/testing.js';
import { FakeProvider } from '../main/providers/testing/fake-provider.js';
import { makeTestDirs } from '../main/providers/testing/cli-env.js';
import { FakeRelay } from '../main/relay/testing/fake-relay.js';
import { numberOption, percentile, printReport, round } from './support.js';

const commands = numberOption('commands', 2000, 40);
const deltas = numberOption('events', 500, 40);
const API_KEY = 'sk_live_bench';

const relay = await FakeRelay.start({ apiKey: API_KEY });
const dirs = makeTestDirs('bench-relay');
const gw = await startTestGateway({
  relay: { backoff: { baseMs: 50, capMs: 200 }, recheckMs: 200 },
  configure: async (services) => {
    services.providers.register(new FakeProvider({ deltas, intervalMs: 1 }));
    await services.setWorkspaceRoot(dirs.cwd);
    await services.secrets.set('desktop-api-key', API_KEY);
    services.config.setApiOrigin(relay.origin);
  },
});
try {
  // The relay client is a lazy service (loaded once the port is open, as serve does).
  await gw.services.load('relay');
  gw.services.relay.start();
  await relay.until(() => gw.services.relay.status().state === 'connected', 'the link');

  // Small GETs, two in flight at a time.
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < commands) {
      next++;
      const commandId = randomUUID();
      relay.sendCommand({ commandId, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
      await relay.finished(commandId, 60_000);
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - started) / 1000;

  // One streamed chat per slot, two at once: latency of each text delta.
  const latencies: number[] = [];
  const streams = await Promise.all(
    [0, 1].map(async (i): Promise<string> => {
      const commandId: string = randomUUID();
      const body = i === 0 ? { message: '@fake stream' } : { ticketId: 'BENCH-RELAY', message: '@fake stream', ticketContext: 'bench' };
      const path = i === 0 ? '/api/gateway/terminal-chat' : '/api/gateway/ticket-chat';
      relay.sendCommand({ commandId, operationId: i === 0 ? 'terminal_chat' : 'ticket_chat', method: 'POST', path, body });
      return commandId;
    }),
  );
  const seen = new Set<string>();
  await relay.until(() => {
    for (const event of relay.received) {
      const key = `${event.commandId}:${event.sequence}`;
      if (seen.has(key) || !streams.includes(event.commandId)) continue;
      seen.add(key);
      if (event.data.type === 'text') latencies.push(performance.timeOrigin + performance.now() - Number(String(event.data.content).split(' ')[1]));
    }
    return streams.every((id) => relay.eventsOf(id).some((e) => e.eventType === 'done' || e.data.terminal === true));
  }, 'the streams', 120_000);
  latencies.sort((a, b) => a - b);
  printReport('relay', {
    commands,
    commandsPerSecond: round(commands / seconds, 1),
    streamedEvents: latencies.length,
    eventLatencyP50Ms: round(percentile(latencies, 50)),
    eventLatencyP99Ms: round(percentile(latencies, 99)),
  });
} finally {
  await gw.close();
  await relay.close();
  dirs.cleanup();
}
