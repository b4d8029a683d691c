// The real headless gateway as a child process (`node main/cli.ts serve --port 0`), and
// its CLI (`token`, `pair`, `config`) run against the same data dir, as a user would.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GatewayClient } from '../../shared/client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'main/cli.ts'];
const run = promisify(execFile);

export interface Challenge {
  challengeToken: string;
  origin: string;
  expiresAt: string;
  /** Only for the gateway's own origin: the /ui/ URL carrying the challenge in its fragment. */
  url?: string;
}

/**
 * Why the gateway at `url` cannot serve the desktop UI at /ui/, or null when it does. A gateway
 * without the static middleware mounted is a reason to skip; a missing build is not.
 */
export async function uiUnavailable(url: string): Promise<string | null> {
  const response = await fetch(`${url}/ui/`);
  const text = await response.text();
  if (response.status === 200 && response.headers.get('content-type')?.startsWith('text/html')) return null;
  if (text.includes('ui_not_built')) throw new Error('dist/renderer is missing: run `npm run build` before the e2e.');
  return `the gateway does not serve /ui/ (GET /ui/ answered ${response.status}); serveRenderer is not mounted`;
}

export class HeadlessGateway {
  private constructor(
    private readonly child: ChildProcess,
    readonly dataDir: string,
    readonly url: string,
    readonly port: number,
    private readonly stderr: string[],
  ) {}

  /**
   * `prepare` runs CLI commands on the data dir before `serve` starts (settings the gateway
   * reads at start, such as the relay's origin and API key).
   */
  static async start(options: { prepare?: (cli: (args: string[], stdin?: string) => Promise<string>) => Promise<void> } = {}): Promise<HeadlessGateway> {
    const dataDir = mkdtempSync(join(tmpdir(), 'symphony-e2e-'));
    await options.prepare?.((args, stdin) => runCli(dataDir, args, stdin));
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file'], {
      cwd: ROOT,
      env: { ...process.env, SYMPHONY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    try {
      const listening = await waitForListening(child, stderr);
      return new HeadlessGateway(child, dataDir, listening.url, listening.port, stderr);
    } catch (error) {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Runs `symphony-gateway ARGS` on this gateway's data dir; resolves with stdout. */
  async cli(...args: string[]): Promise<string> {
    return runCli(this.dataDir, args);
  }

  async token(): Promise<string> {
    return (await this.cli('token', '--secret-store', 'file')).trim();
  }

  /** `symphony-gateway pair --origin ORIGIN --json`. */
  async pair(origin: string): Promise<Challenge> {
    return JSON.parse(await this.cli('pair', '--origin', origin, '--json')) as Challenge;
  }

  /** A client holding the gateway token (a trusted local tool). */
  async tokenClient(): Promise<GatewayClient> {
    return new GatewayClient({ baseUrl: this.url, credential: { gatewayToken: await this.token() } });
  }

  /** Why this gateway cannot serve the desktop UI at /ui/, or null when it does (uiUnavailable). */
  uiUnavailable(): Promise<string | null> {
    return uiUnavailable(this.url);
  }

  /** What the gateway logged on stderr, for a failing test's message. */
  logs(): string {
    return this.stderr.slice(-40).join('\n');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** `symphony-gateway ARGS --data-dir DIR`, with `stdin` written to it when given. */
async function runCli(dataDir: string, args: string[], stdin?: string): Promise<string> {
  const child = run(process.execPath, [...CLI, ...args, '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, SYMPHONY_LOG_LEVEL: 'warn' },
    timeout: 30_000,
  });
  child.child.stdin?.end(stdin ?? '');
  return (await child).stdout;
}

function waitForListening(child: ChildProcess, stderr: string[]): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the gateway did not print "listening" within 60 s')), 60_000);
    const lines = createInterface({ input: child.stdout! });
    const fail = (error: Error) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`${error.message}\n${stderr.slice(-20).join('\n')}`));
    };
    lines.on('line', (line) => {
      let event: { event?: string; url?: string; port?: number };
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.event === 'listening' && event.url && event.port) {
        clearTimeout(timer);
        lines.close();
        resolve({ url: event.url, port: event.port });
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`the gateway exited (${code ?? signal}) before listening`)));
  });
}

/**
 * A paired external client speaking from Node, as another tab would: its session token
 * with its Origin. `request` resolves with the status and JSON of the reply.
 */
export class OriginClient {
  constructor(
    readonly baseUrl: string,
    readonly origin: string,
    private readonly sessionToken: string,
  ) {}

  static async pair(gateway: HeadlessGateway, origin: string): Promise<OriginClient> {
    const { challengeToken } = await gateway.pair(origin);
    const response = await fetch(`${gateway.url}/gateway-auth/exchange`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: JSON.stringify({ challengeToken }),
    });
    const body = (await response.json()) as { sessionToken?: string };
    if (response.status !== 200 || !body.sessionToken) throw new Error(`exchange failed: ${response.status} ${JSON.stringify(body)}`);
    return new OriginClient(gateway.url, origin, body.sessionToken);
  }

  async request(
    path: string,
    options: { method?: string; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(this.baseUrl + path, {
      method: options.method ?? 'GET',
      headers: {
        Origin: this.origin,
        'X-Desktop-Session-Token': this.sessionToken,
        ...(options.json === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }
}
