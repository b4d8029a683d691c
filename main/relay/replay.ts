// Replays one cloud command to our own gateway over loopback, with the gateway token and
// the per-process relay secret (both in headers only), so the policy, approvals, validation
// and telemetry apply to the cloud as to anyone, and know it as the `relay` caller. The
// reply becomes relay events: `chunk` per NDJSON line of a stream, else `result`, or the
// spec's `gateway returned <status>: <body>` error for a non-2xx.
import { request, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { DesktopCommand, RelayEventType } from './protocol.js';

export const HEADER_WATCHDOG_MS = 60_000;
/** Loop routes prepare worktrees and post to the cloud before they answer. */
export const LOOP_HEADER_WATCHDOG_MS = 10 * 60_000;
const LOOP_PATHS = new Set(['/api/gateway/symphony/loop', '/api/gateway/symphony/loop/kill']);
/** An error body quoted into an event is cut here. */
const MAX_ERROR_BODY = 64 * 1024;
const MAX_RESULT_BODY = 16 * 1024 * 1024;

/** The only headers of the cloud's own that reach the gateway: none can name a caller or carry a credential. */
const CLOUD_HEADER_ALLOWLIST = new Set(['accept', 'accept-language', 'if-none-match', 'if-modified-since', 'cache-control']);

export type Emit = (eventType: RelayEventType, data: Record<string, unknown>) => void;

export interface ReplayOptions {
  port: number;
  gatewayToken: string;
  relaySecret: string;
  signal: AbortSignal;
  emit: Emit;
  headerTimeoutMs?: number;
}

export class HeaderTimeout extends Error {
  constructor(ms: number) {
    super(`the gateway sent no reply headers within ${Math.round(ms / 1000)} s`);
  }
}

export function headerWatchdogMs(path: string): number {
  return LOOP_PATHS.has(path.split('?')[0]) ? LOOP_HEADER_WATCHDOG_MS : HEADER_WATCHDOG_MS;
}

export function replayHeaders(command: DesktopCommand, credentials: { gatewayToken: string; relaySecret: string }, port: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(command.headers ?? {})) {
    if (CLOUD_HEADER_ALLOWLIST.has(name.toLowerCase()) && typeof value === 'string' && !/[\r\n]/.test(value)) {
      headers[name.toLowerCase()] = value.slice(0, 1000);
    }
  }
  Object.assign(headers, {
    host: `127.0.0.1:${port}`,
    'x-desktop-gateway-token': credentials.gatewayToken,
    'x-desktop-relay-secret': credentials.relaySecret,
    'x-desktop-source': 'cloud-socket',
    'x-desktop-command-id': command.commandId,
    'x-desktop-operation-id': command.operationId,
  });
  if (command.requiresApproval) {
    headers['x-desktop-force-approval'] = '1';
    if (command.approvalReason) headers['x-desktop-approval-reason'] = command.approvalReason.replace(/[\r\n]+/g, ' ').slice(0, 500);
  }
  return headers;
}

/** Every query pair of a command: those in its path, then its `query` field. */
export function commandQueryPairs(command: DesktopCommand): Array<[string, string]> {
  const [, existing] = command.path.split('?', 2);
  const pairs: Array<[string, string]> = [...new URLSearchParams(existing ?? '')];
  const query = command.query ?? {};
  if (Array.isArray(query)) pairs.push(...query);
  else for (const [key, value] of Object.entries(query)) for (const one of Array.isArray(value) ? value : [value]) pairs.push([key, String(one)]);
  return pairs;
}

export function commandUrl(command: DesktopCommand): string {
  const search = new URLSearchParams(commandQueryPairs(command)).toString();
  const pathname = command.path.split('?')[0];
  return search ? `${pathname}?${search}` : pathname;
}

function commandBody(command: DesktopCommand): string | undefined {
  if (command.method.toUpperCase() === 'GET' || command.body === undefined || command.body === null) return undefined;
  return typeof command.body === 'string' ? command.body : JSON.stringify(command.body);
}

/** Resolves when a terminal event was emitted; rejects with the signal's reason or HeaderTimeout. */
export function replayToGateway(command: DesktopCommand, options: ReplayOptions): Promise<void> {
  const { port, signal, emit } = options;
  const body = commandBody(command);
  const headers = replayHeaders(command, options, port);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const watchdogMs = options.headerTimeoutMs ?? headerWatchdogMs(command.path);
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const req = request({ host: '127.0.0.1', port, method: command.method.toUpperCase(), path: commandUrl(command), headers });
    const watchdog = setTimeout(() => {
      cleanup();
      req.destroy();
      reject(new HeaderTimeout(watchdogMs));
    }, watchdogMs);
    const onAbort = () => {
      cleanup();
      req.destroy();
      reject(signal.reason);
    };
    const cleanup = () => {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      clearTimeout(watchdog);
      readReply(res, emit).then(
        () => {
          cleanup();
          resolve();
        },
        (error: unknown) => {
          cleanup();
          reject(signal.aborted ? signal.reason : error);
        },
      );
    });
    req.on('error', (error) => {
      cleanup();
      reject(signal.aborted ? signal.reason : error);
    });
    req.end(body);
  });
}

async function readReply(res: IncomingMessage, emit: Emit): Promise<void> {
  const status = res.statusCode ?? 0;
  const type = String(res.headers['content-type'] ?? '');
  if (status < 200 || status > 299) {
    const text = await readText(res, MAX_ERROR_BODY);
    emit('error', { error: `gateway returned ${status}: ${text}`, statusCode: status, terminal: true });
    return;
  }
  if (type.includes('application/x-ndjson') || type.includes('text/event-stream')) {
    await readStream(res, emit);
    return;
  }
  const text = await readText(res, MAX_RESULT_BODY);
  let data: unknown = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the text as it came.
  }
  emit('result', { statusCode: status, success: true, data });
  emit('done', {});
}

const STREAM_TYPES = new Set<string>(['status', 'error', 'result', 'done']);

async function readStream(res: IncomingMessage, emit: Emit): Promise<void> {
  let ended = false;
  for await (const raw of createInterface({ input: res, crlfDelay: Infinity })) {
    const line = raw.startsWith('data: ') ? raw.slice(6) : raw;
    if (!line.trim()) continue;
    let event: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      event = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { type: 'text', content: line };
    } catch {
      event = { type: 'text', content: line };
    }
    const eventType = typeof event.type === 'string' && STREAM_TYPES.has(event.type) ? (event.type as RelayEventType) : 'chunk';
    emit(eventType, event);
    if (eventType === 'done' || ((eventType === 'error' || eventType === 'result') && event.terminal === true)) {
      ended = true;
      break;
    }
  }
  if (!ended) emit('done', {});
  res.destroy();
}

async function readText(res: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < max) chunks.push(chunk);
    size += chunk.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length > max ? text.slice(0, max) : text;
}
