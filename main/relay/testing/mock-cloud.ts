// The cloud's loop API (and its chat-session records) on loopback, for tests and the
// benchmark: it checks what it is sent (the loop or chat token, a fresh UUID nonce per event,
// the required fields per event type and chat call) and answers in the `{success, data}`
// envelope. It can be taken down (connections refused) and brought back, and it rotates
// the token on refresh.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isManagedKey, verifyPop } from '../device-identity.js';
import { Changes } from './changes.js';

export interface CloudRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
  at: number;
  /** With a managed key: null when the PoP checked out, else why not (undefined: no managed key). */
  pop?: string | null;
}

/** A JWT-shaped token whose `exp` the desktop can decode (the signature is not checked). */
export function loopToken(loopId: string, expiresInS = 8 * 3600): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: loopId, exp: Math.floor(Date.now() / 1000) + expiresInS, jti: randomUUID() })}.sig`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export class MockCloud {
  readonly requests: CloudRequest[] = [];
  /** The token each loop must present (rotated by refresh-token). */
  readonly tokens = new Map<string, string>();
  private readonly nonces = new Set<string>();
  private server: Server;
  private readonly changes = new Changes();
  /** Answer this status to heartbeats (e.g. 410). */
  heartbeatStatus = 200;
  /** Answer refresh-token with this status (e.g. 409: the token cannot be refreshed). */
  refreshStatus = 200;
  /** Answer the next N event posts with 401 (forces a refresh). */
  unauthorizedEvents = 0;
  /** The desktop API key execution-credentials wants as Bearer (and a heartbeat may use, with PoP). */
  apiKey = '';
  /** Registered gateways (id -> raw Ed25519 public key, base64url): once one is, a managed key needs a valid PoP. */
  readonly gatewayKeys = new Map<string, string>();
  /** execution-credentials: the loop body per loop id, handed out once per command id. */
  readonly executionBodies = new Map<string, unknown>();
  private readonly consumedCommands = new Set<string>();
  /** Bearer tokens the chat-session calls must carry (the web client's apiAuthToken). */
  readonly chatTokens = new Set<string>();
  /** The provider each chatKey is bound to by its first turn (another one is a 409). */
  readonly chatProviders = new Map<string, string>();
  /** The CLI session each chatKey's last completed turn reported (handed back as resumeSessionId). */
  readonly chatSessions = new Map<string, string>();
  /** Answer the next N turn/complete posts with 500. */
  failingCompletes = 0;

  private constructor(readonly port: number, server: Server) {
    this.server = server;
  }

  static async start(port = 0): Promise<MockCloud> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const cloud = new MockCloud((server.address() as AddressInfo).port, server);
    cloud.attach(server);
    return cloud;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Refuses connections until up() (the port stays the same). */
  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async up(): Promise<void> {
    this.server = createServer();
    this.attach(this.server);
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await this.down();
  }

  /** Requests for one loop's path suffix (`events`, `upload-artifacts`, ...) that were accepted. */
  accepted(loopId: string, call?: string): CloudRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/loops/${loopId}`) && (!call || r.path.endsWith(`/${call}`)) && r.status < 300);
  }

  eventTypes(loopId: string): string[] {
    return this.accepted(loopId, 'events').map((r) => (r.body as { type: string }).type);
  }

  until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    return this.changes.until(check, `mock cloud: ${what}`, timeoutMs);
  }


  private attach(server: Server): void {
    server.on('request', (req, res) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const path = req.url ?? '/';
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const pop = isManagedKey(bearer) ? verifyPop(req.headers, req.method ?? '', new URL(path, this.origin).pathname, this.gatewayKeys) : undefined;
    const [status, reply] = pop && this.gatewayKeys.size > 0 ? [403, { success: false, error: `PoP: ${pop}` }] : this.answer(req, path, body);
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body, status, at: Date.now(), pop });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    this.changes.notify();
  }

  private answer(req: IncomingMessage, path: string, body: unknown): [number, unknown] {
    const fail = (status: number, error: string): [number, unknown] => [status, { success: false, error }];
    const credentials = /^\/compute-targets\/([^/]+)\/loops\/([^/]+)\/execution-credentials$/.exec(path);
    if (credentials && req.method === 'POST') {
      if (!this.apiKey || req.headers.authorization !== `Bearer ${this.apiKey}`) return fail(401, 'invalid API key');
      const commandId = (body as { commandId?: unknown } | undefined)?.commandId;
      if (typeof commandId !== 'string') return fail(400, 'commandId is required');
      if (this.consumedCommands.has(commandId)) return fail(409, 'already consumed');
      const loopBody = this.executionBodies.get(credentials[2]);
      if (!loopBody) return fail(404, 'loop not found');
      this.consumedCommands.add(commandId);
      return [200, { success: true, data: loopBody }];
    }
    if (path.startsWith('/chat-sessions/')) return this.chatAnswer(req, path, body, fail);
    const match = /^\/loops\/([^/]+)(?:\/([a-z-]+))?$/.exec(path);
    if (!match) return fail(404, 'not found');
    const [, loopId, call] = match;
    if (req.method === 'DELETE' && !call) return [200, { success: true, data: { cancelled: true } }];
    const token = this.tokens.get(loopId);
    // A heartbeat may come with the managed key instead (its PoP was checked above).
    const managedBeat = call === 'heartbeat' && this.apiKey && this.gatewayKeys.size > 0 && req.headers.authorization === `Bearer ${this.apiKey}`;
    if (!managedBeat && (!token || req.headers.authorization !== `Bearer ${token}`)) return fail(401, 'invalid loop token');
    switch (call) {
      case 'events': {
        const nonce = String(req.headers['x-loop-event-nonce'] ?? '');
        if (!UUID.test(nonce)) return fail(400, 'x-loop-event-nonce must be a UUID');
        if (this.nonces.has(nonce)) return fail(409, 'Replay detected');
        if (this.unauthorizedEvents > 0) {
          this.unauthorizedEvents--;
          return fail(401, 'TOKEN_EXPIRED');
        }
        this.nonces.add(nonce);
        const event = body as Record<string, unknown>;
        const data = (event.data ?? {}) as Record<string, unknown>;
        if (event.type === 'output' && typeof data.chunk !== 'string') return fail(400, 'output needs chunk');
        if (event.type === 'completed' && (!event.result || !event.tokensUsed || !event.timestamp)) return fail(400, 'completed needs result, tokensUsed, timestamp');
        if (event.type === 'error' && (!event.code || !event.message || !event.timestamp)) return fail(400, 'error needs code, message, timestamp');
        return [200, { success: true, data: { received: true } }];
      }
      case 'upload-artifacts':
        return [200, { success: true, data: { stored: true } }];
      case 'heartbeat':
        return this.heartbeatStatus === 200 ? [200, { success: true, data: { bumped: true } }] : fail(this.heartbeatStatus, 'TERMINAL_LOOP');
      case 'refresh-token': {
        if (this.refreshStatus !== 200) return fail(this.refreshStatus, 'RACE_LOST');
        const next = loopToken(loopId);
        this.tokens.set(loopId, next);
        return [200, { success: true, data: { token: next, expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(), jti: randomUUID() } }];
      }
      default:
        return fail(404, 'not found');
    }
  }

  /** The chat-session records the web client's history is read from (spec §7). */
  private chatAnswer(req: IncomingMessage, path: string, body: unknown, fail: (status: number, error: string) => [number, unknown]): [number, unknown] {
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (req.method !== 'POST') return fail(405, 'POST only');
    if (!token || !this.chatTokens.has(token)) return fail(401, 'AUTH_EXPIRED');
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.chatKey !== 'string' || !b.chatKey) return fail(400, 'chatKey required');
    if (b.provider !== 'claude' && b.provider !== 'codex') return fail(400, 'provider must be claude or codex');
    if (path === '/chat-sessions/turn') {
      const message = (b.userMessage ?? {}) as Record<string, unknown>;
      if (message.role !== 'user' || typeof message.id !== 'string' || typeof message.content !== 'string' || typeof message.timestamp !== 'string') {
        return fail(400, 'userMessage needs id, role user, content, timestamp');
      }
      if (typeof b.model !== 'string' || typeof b.sourceGatewayId !== 'string') return fail(400, 'model and sourceGatewayId required');
      const bound = this.chatProviders.get(b.chatKey);
      if (bound && bound !== b.provider) return [409, { success: false, error: 'PROVIDER_MISMATCH', boundProvider: bound }];
      this.chatProviders.set(b.chatKey, b.provider);
      return [200, { success: true, data: { chat: { chatKey: b.chatKey, provider: b.provider }, resumeSessionId: this.chatSessions.get(b.chatKey) ?? null } }];
    }
    if (path === '/chat-sessions/turn/complete') {
      const messages = b.messages as Array<Record<string, unknown>> | undefined;
      if (!Array.isArray(messages) || messages.length === 0 || messages.some((m) => m.role !== 'assistant' || typeof m.content !== 'string' || typeof m.id !== 'string')) {
        return fail(400, 'messages must be assistant messages');
      }
      const pair = [b.sessionId, b.sessionSourceId];
      if (!pair.every((v) => v === null) && !pair.every((v) => typeof v === 'string' && v)) return fail(400, 'sessionId and sessionSourceId: both set or both null');
      if (this.failingCompletes > 0) {
        this.failingCompletes--;
        return fail(500, 'database unavailable');
      }
      if (typeof b.sessionId === 'string') this.chatSessions.set(b.chatKey, b.sessionId);
      return [200, { success: true, data: { saved: messages.length } }];
    }
    return fail(404, 'not found');
  }
}
