// Agent start benchmark: time from the POST of a ticket chat to its first NDJSON event
// (and to the first text), with the real claude and codex CLIs against the loopback mock
// model API, with the OS sandbox (bubblewrap) on and off (setting `agentConfinement`).
// Turns run one at a time, alternating sandbox on/off so that the machine's load falls on
// both alike. Median of --turns each (default 20).
// Run: node --import tsx bench/agent-start.ts [--turns 20]
import { request } from 'node:http';
import { pino } from 'pino';
import { startTestGateway } from '../main/gateway/testing.js';
import { ClaudeProvider } from '../main/providers/claude.js';
import { CodexProvider } from '../main/providers/codex.js';
import { setConfinementEnabled } from '../main/providers/confinement.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN } from '../main/providers/testing/cli-env.js';
import { MockModelApi } from '../main/providers/testing/mock-model-api.js';
import { numberOption, percentile, printReport, round } from './support.js';

const turns = numberOption('turns', 20, 2);

interface Timing {
  firstEventMs: number;
  firstTextMs: number;
  ok: boolean;
}

function timeTurn(port: number, token: string, body: unknown): Promise<Timing> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    let firstEventMs = NaN;
    let firstTextMs = NaN;
    let ok = false;
    let buffered = '';
    const req = request(
      {
        host: '127.0.0.1', port, path: '/api/gateway/ticket-chat', method: 'POST',
        headers: { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), 'X-Desktop-Gateway-Token': token },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline;
          while ((newline = buffered.indexOf('\n')) !== -1) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (!line) continue;
            const event = JSON.parse(line) as { type: string; success?: boolean };
            if (Number.isNaN(firstEventMs)) firstEventMs = performance.now() - started;
            if (event.type === 'text' && Number.isNaN(firstTextMs)) firstTextMs = performance.now() - started;
            if (event.type === 'result') ok = event.success === true;
          }
        });
        res.on('end', () => resolve({ firstEventMs, firstTextMs, ok: ok && res.statusCode === 200 }));
      },
    );
    req.on('error', () => resolve({ firstEventMs, firstTextMs, ok: false }));
    req.end(payload);
  });
}

const median = (values: number[]) => round(percentile([...values].sort((a, b) => a - b), 50), 1);

async function main(): Promise<void> {
  const api = await MockModelApi.start();
  const dirs = makeTestDirs('bench-agent-start');
  const gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    log: pino({ level: 'silent' }),
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claudeTestConfig(api, dirs.homes), confiner: services.confiner }));
      services.providers.register(new CodexProvider(services.supervisor, { ...codexTestConfig(api, dirs.homes), confiner: services.confiner }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
  const results: Record<string, Timing[]> = {};
  let failed = 0;
  const loads: string[] = [];
  try {
    let n = 0;
    for (let i = 0; i < turns; i++) {
      for (const provider of ['claude', 'codex'] as const) {
        for (const sandbox of [true, false]) {
          setConfinementEnabled(gw.services.settings, sandbox);
          api.script({ kind: 'text', text: 'ok' });
          const timing = await timeTurn(gw.port, gw.services.gatewayToken, { ticketId: `BENCH-${n++}`, message: 'hi', ticketContext: 'benchmark', provider });
          if (!timing.ok) failed++;
          (results[`${provider}.${sandbox ? 'sandbox' : 'noSandbox'}`] ??= []).push(timing);
        }
      }
      loads.push((await import('node:os')).loadavg()[0].toFixed(2));
    }
  } finally {
    await gw.close();
    await api.close();
    dirs.cleanup();
  }
  const figures: Record<string, unknown> = {};
  for (const [key, timings] of Object.entries(results)) {
    figures[key] = { firstEventMs: median(timings.map((t) => t.firstEventMs)), firstTextMs: median(timings.map((t) => t.firstTextMs)) };
  }
  const added = (cli: string) =>
    round((figures[`${cli}.sandbox`] as { firstTextMs: number }).firstTextMs - (figures[`${cli}.noSandbox`] as { firstTextMs: number }).firstTextMs, 1);
  printReport('agent-start', { turns, failed, ...figures, sandboxAddsMs: { claude: added('claude'), codex: added('codex') }, loadDuring: loads.join(',') });
}

await main();
