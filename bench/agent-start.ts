// Agent start benchmark: time from the POST of a ticket chat to its first NDJSON events,
// with the real claude and codex CLIs against the loopback mock model API, one confinement
// layer at a time:
//   both:  the production set-up: the gateway's filesystem view (bubblewrap) with the CLI's
//          own sandbox inside it (claude: settings sandbox.enabled; codex: its sandbox_mode);
//   cli:   the CLI's own sandbox alone, no outer view (as on Windows): both − cli is the view's cost;
//   off:   confinement turned off in settings: cli − off is the CLI sandbox's cost.
// Three times per turn: the first event (the gateway's own `status started`, sent once the
// child is spawned, before the CLI has run a line: it cannot show a sandbox's cost), the
// first event the CLI itself answered (`sessionId`: claude's init line, codex's thread/start
// reply), and the model's first text. Beside them, `npm root -g` timed alone (cwd /): claude's
// sandbox runs it at every start to look for sandbox-runtime's Java proxy agent (bench/README.md).
// Turns run one at a time, interleaved (layer by layer, provider by provider), so that the
// machine's load falls on all alike. Median of --turns each (default 20).
// Run: node --import tsx bench/agent-start.ts [--turns 20] [--smoke]
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { startTestGateway } from '../main/gateway/testing.js';
import { ClaudeProvider } from '../main/providers/claude.js';
import { CodexProvider } from '../main/providers/codex.js';
import { Confiner, setConfinementEnabled, type AgentConfinement, type CliLayout } from '../main/providers/confinement.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN } from '../main/providers/testing/cli-env.js';
import { MockModelApi } from '../main/providers/testing/mock-model-api.js';
import { numberOption, percentile, printReport, round } from './support.js';

const turns = numberOption('turns', 20, 2);
const LAYERS = ['both', 'cli', 'off'] as const;
type Layer = (typeof LAYERS)[number];

interface Timing {
  firstEventMs: number;
  firstCliEventMs: number;
  firstTextMs: number;
  ok: boolean;
}

/** The gateway's confiner for `both` and `off`; for `cli` one that builds no outer view (the CLI's sandbox stays on). */
class LayerConfiner extends Confiner {
  layer: Layer = 'both';
  private readonly cliOnly = new Confiner({ platform: 'win32' });

  constructor(private readonly full: Confiner) {
    super();
  }

  override prepare(confinement: AgentConfinement, cli: CliLayout) {
    return (this.layer === 'cli' ? this.cliOnly : this.full).prepare(confinement, cli);
  }
}

function timeTurn(port: number, token: string, body: unknown): Promise<Timing> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    const timing: Timing = { firstEventMs: NaN, firstCliEventMs: NaN, firstTextMs: NaN, ok: false };
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
            const at = performance.now() - started;
            if (Number.isNaN(timing.firstEventMs)) timing.firstEventMs = at;
            if (event.type === 'sessionId' && Number.isNaN(timing.firstCliEventMs)) timing.firstCliEventMs = at;
            if (event.type === 'text' && Number.isNaN(timing.firstTextMs)) timing.firstTextMs = at;
            if (event.type === 'result') timing.ok = event.success === true;
          }
        });
        res.on('end', () => resolve({ ...timing, ok: timing.ok && res.statusCode === 200 }));
      },
    );
    req.on('error', () => resolve(timing));
    req.end(payload);
  });
}

/** What claude's sandbox waits for at start when npm is on its PATH (as it runs it: a shell, cwd /). */
function npmRootMs(): number {
  const started = performance.now();
  spawnSync('/bin/sh', ['-c', 'npm root -g'], { cwd: '/', stdio: 'ignore', timeout: 10_000 });
  return performance.now() - started;
}

const median = (values: number[]) => {
  const known = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return known.length ? round(percentile(known, 50), 1) : NaN;
};

async function main(): Promise<void> {
  const api = await MockModelApi.start();
  const dirs = makeTestDirs('bench-agent-start');
  let confiner: LayerConfiner | undefined;
  const gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    log: pino({ level: 'silent' }),
    configure: async (services) => {
      confiner = new LayerConfiner(services.confiner);
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claudeTestConfig(api, dirs.homes), confiner }));
      services.providers.register(new CodexProvider(services.supervisor, { ...codexTestConfig(api, dirs.homes), confiner }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
  const results: Record<string, Timing[]> = {};
  const npmRoot: number[] = [];
  let failed = 0;
  const loads: string[] = [];
  try {
    let n = 0;
    for (let i = 0; i < turns; i++) {
      for (const provider of ['claude', 'codex'] as const) {
        for (const layer of LAYERS) {
          confiner!.layer = layer;
          setConfinementEnabled(gw.services.settings, layer !== 'off');
          api.script({ kind: 'text', text: 'ok' });
          const timing = await timeTurn(gw.port, gw.services.gatewayToken, { ticketId: `BENCH-${n++}`, message: 'hi', ticketContext: 'benchmark', provider });
          if (!timing.ok) failed++;
          (results[`${provider}.${layer}`] ??= []).push(timing);
        }
      }
      npmRoot.push(npmRootMs());
      loads.push(loadavg()[0].toFixed(2));
    }
  } finally {
    await gw.close();
    await api.close();
    dirs.cleanup();
  }
  type Figures = { firstEventMs: number; firstCliEventMs: number; firstTextMs: number };
  const figures: Record<string, Figures> = {};
  for (const [key, timings] of Object.entries(results)) {
    figures[key] = {
      firstEventMs: median(timings.map((t) => t.firstEventMs)),
      firstCliEventMs: median(timings.map((t) => t.firstCliEventMs)),
      firstTextMs: median(timings.map((t) => t.firstTextMs)),
    };
  }
  // What each layer adds to the model's first text: the outer view, the CLI's own sandbox, both.
  const adds = (cli: string) => {
    const [both, only, off] = LAYERS.map((layer) => figures[`${cli}.${layer}`].firstTextMs);
    return { outerViewMs: round(both - only, 1), cliSandboxMs: round(only - off, 1), sandboxMs: round(both - off, 1) };
  };
  printReport('agent-start', {
    turns, failed, ...figures,
    sandboxAddsToFirstText: { claude: adds('claude'), codex: adds('codex') },
    npmRootGlobalMs: median(npmRoot),
    loadDuring: loads.join(','),
  });
}

await main();
