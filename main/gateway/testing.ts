// A real gateway on a free loopback port with a throwaway data dir, for tests.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { NormalizedEvent } from '../../shared/events.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createServices, type Services, type ServicesOptions } from '../services.js';
import { startGateway, type RunningGateway } from './server.js';

export interface TestRequest {
  method?: string;
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  /** A raw body (with whatever Content-Type the headers say). */
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Which credential to send: the gateway token, or a session from an origin. */
  auth?: 'token' | { session: string; origin: string };
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface TestGateway {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  services: Services;
  running: RunningGateway;
  request(path: string, options?: TestRequest): Promise<TestResponse>;
  /** A POST whose NDJSON reply is read line by line while it streams (`close` drops the connection). */
  openStream(path: string, json: unknown, auth?: Record<string, string>): Promise<OpenStream>;
  /** Mints a local challenge for `origin` and trades it: returns the session token. */
  pair(origin: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestGatewayOptions extends Omit<ServicesOptions, 'dataDir'> {
  dataDir?: string;
  /** Keep the data dir on close (to restart a gateway on it). */
  keepDataDir?: boolean;
  configure?: (services: Services) => void | Promise<void>;
  headersTimeoutMs?: number;
  bodyReadTimeoutMs?: number;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'symphony-gw-'));
  const services = await createServices({
    secretStore: 'file',
    log: pino({ level: process.env.SYMPHONY_TEST_LOG ?? 'silent' }),
    ...options,
    dataDir,
  });
  await options.configure?.(services);
  const running = await startGateway(services, { port: 0, headersTimeoutMs: options.headersTimeoutMs, bodyReadTimeoutMs: options.bodyReadTimeoutMs });
  const request = (path: string, req: TestRequest = {}) => sendRequest(running.port, services.gatewayToken, path, req);
  return {
    url: running.url,
    port: running.port,
    token: services.gatewayToken,
    dataDir,
    services,
    running,
    request,
    openStream: (path, json, auth = { 'X-Desktop-Gateway-Token': services.gatewayToken }) => openStream(running.port, path, json, auth),
    async pair(origin) {
      const challenge = await request('/gateway-auth/challenge', { method: 'POST', json: { origin }, auth: 'token' });
      if (challenge.status !== 200) throw new Error(`challenge failed: ${challenge.status} ${challenge.text}`);
      const exchange = await request('/gateway-auth/exchange', {
        method: 'POST',
        json: { challengeToken: challenge.json.challengeToken },
        headers: { Origin: origin },
      });
      if (exchange.status !== 200) throw new Error(`exchange failed: ${exchange.status} ${exchange.text}`);
      return exchange.json.sessionToken as string;
    },
    async close() {
      await running.close();
      await services.close();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function sendRequest(port: number, token: string, path: string, req: TestRequest = {}): Promise<TestResponse> {
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, ...req.headers };
  let body: string | Buffer | undefined = req.body;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['Content-Type'] ??= 'application/json';
  }
  if (req.auth === 'token') headers['X-Desktop-Gateway-Token'] = token;
  else if (req.auth) {
    headers['X-Desktop-Session-Token'] = req.auth.session;
    headers.Origin ??= req.auth.origin;
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path, method: req.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The `code` of an error reply. */
export function errorCode(res: TestResponse): string | undefined {
  const body = res.json as { code?: string; error?: { code?: string } } | undefined;
  return body?.code ?? body?.error?.code;
}

export interface OpenStream {
  res: IncomingMessage;
  lines: AsyncIterator<string>;
  close(): void;
}

/** POSTs `json` and resolves with the NDJSON reply as it arrives (a gateway started elsewhere: `port`). */
export function openStream(port: number, path: string, json: unknown, auth: Record<string, string>): Promise<OpenStream> {
  const body = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1', port, path, method: 'POST',
        headers: {
          Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)),
          ...auth,
        },
      },
      (res) => resolve({ res, lines: createInterface({ input: res })[Symbol.asyncIterator](), close: () => req.destroy() }),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads NDJSON events up to and including the first of `type` (or the end). */
export async function readUntil(lines: AsyncIterator<string>, type: string): Promise<NormalizedEvent[]> {
  const seen: NormalizedEvent[] = [];
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    seen.push(NormalizedEvent.parse(JSON.parse(next.value)));
    if (seen.at(-1)!.type === type) return seen;
  }
  return seen;
}

/** Polls `check` until it holds (for effects with no event to wait on). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
