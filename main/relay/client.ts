// The outbound link to the cloud relay: one Socket.IO connection to
// `<relay origin>/desktop-gateway` (websocket only) with the desktop API key as auth. It
// says hello, hands commands to the queue, reports presence, and reconnects with capped
// exponential backoff and jitter. Paused by the user, it stays connected but refuses work.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io-client';
import { OPERATION_IDS } from '../../shared/operations.js';
import { backoffDelay, type Backoff } from './backoff.js';
import { CommandQueue, type CommandQueueOptions, type CommandVerifier, type CommandView } from './commands.js';
import {
  GATEWAY_PROTOCOL_VERSION,
  HelloAck,
  IN,
  MAX_IN_FLIGHT_COMMANDS,
  OUT,
  RELAY_NAMESPACE,
  envelope,
  type PresenceState,
} from './protocol.js';
import type { RelaySettings } from './settings.js';
import type { PopSigner } from '../http/cloud-call.js';
import { POP_HEADERS } from './device-identity.js';

/** Socket.IO's default handshake path (the relay serves the `/desktop-gateway` namespace on it). */
const SOCKET_IO_PATH = '/socket.io/';

export type RelayState = 'stopped' | 'disconnected' | 'connecting' | 'connected';

export interface RelayStatus {
  state: RelayState;
  /** What the cloud was last told (null while not connected). */
  presence: PresenceState | null;
  paused: boolean;
  relayOrigin: string | null;
  /** Why the link is not up, in words a user can act on (null when connected). */
  reason: string | null;
  lastError: { message: string; at: string } | null;
  connectedAt: string | null;
  nextAttemptAt: string | null;
  computeTargetId: string | null;
  sessionId: string | null;
  signingRequired: boolean;
  commands: { inFlight: CommandView[]; queued: CommandView[]; recent: CommandView[] };
}

export interface RelayClientOptions {
  version: string;
  settings: RelaySettings;
  apiKey(): Promise<string | null>;
  /** The gateway's proof of possession on the socket's handshake (sent only with a managed key). */
  pop?: PopSigner;
  gatewayPort(): number | null;
  /** Read at each replay: a rotated token applies to the next command. */
  gatewayToken(): string;
  /** Sent with every replay so the gateway knows the request as the `relay` caller. */
  relaySecret: string;
  /** Folders the gateway lets agents work in; only their hash goes to the cloud. */
  allowedRoots?: () => string[];
  verify?: CommandVerifier;
  prepare?: CommandQueueOptions['prepare'];
  log: Logger;
  backoff?: Backoff;
  helloTimeoutMs?: number;
  /** How often to look again for a missing API key or origin, and to repeat presence. */
  recheckMs?: number;
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, capMs: 60_000 };

export class RelayClient {
  readonly queue: CommandQueue;
  private socket: Socket | null = null;
  private gatewayId: string | undefined;
  private state: RelayState = 'stopped';
  private presence: PresenceState | null = null;
  private reason: string | null = 'not started';
  private lastError: RelayStatus['lastError'] = null;
  private connectedAt: number | null = null;
  private nextAttemptAt: number | null = null;
  private attempts = 0;
  private helloTries = 0;
  private ack: HelloAck | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private presenceTimer: ReturnType<typeof setInterval> | undefined;
  private generation = 0;
  private connectedOrigin: string | undefined;

  constructor(private readonly options: RelayClientOptions) {
    this.queue = new CommandQueue({
      send: (event, payload) => this.send(event, payload),
      connected: () => this.state === 'connected',
      paused: () => options.settings.paused(),
      gatewayPort: options.gatewayPort,
      gatewayToken: options.gatewayToken,
      relaySecret: options.relaySecret,
      verify: options.verify,
      prepare: options.prepare,
      log: options.log,
      onChange: () => this.reportPresence(),
    });
  }

  /** Connects now and keeps connecting until stop(). */
  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'disconnected';
    this.presenceTimer = setInterval(() => this.beat(), this.options.recheckMs ?? 30_000);
    this.presenceTimer.unref();
    void this.connect();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.reason = 'stopped';
    this.generation++;
    clearTimeout(this.timer);
    clearTimeout(this.helloTimer);
    clearInterval(this.presenceTimer);
    this.queue.close();
    this.dropSocket();
  }

  /** Drops the link and connects again at once (settings or the API key changed). */
  reconnect(): void {
    if (this.state === 'stopped') return;
    this.generation++;
    clearTimeout(this.timer);
    this.dropSocket();
    this.attempts = 0;
    this.state = 'disconnected';
    void this.connect();
  }

  pause(): void {
    this.options.settings.setPaused(true);
    this.reportPresence();
  }

  resume(): void {
    this.options.settings.setPaused(false);
    this.reportPresence();
    this.queue.pump();
  }

  /** The hello ack's server capabilities (what the cloud says it can do). */
  serverCapabilities(): Record<string, unknown> {
    return this.ack?.serverCapabilities ?? {};
  }

  status(): RelayStatus {
    return {
      state: this.state,
      presence: this.state === 'connected' ? this.presence : null,
      paused: this.options.settings.paused(),
      relayOrigin: this.options.settings.relayOrigin() ?? null,
      reason: this.state === 'connected' ? null : this.reason,
      lastError: this.lastError,
      connectedAt: this.connectedAt ? new Date(this.connectedAt).toISOString() : null,
      nextAttemptAt: this.nextAttemptAt ? new Date(this.nextAttemptAt).toISOString() : null,
      computeTargetId: this.ack?.computeTargetId ?? null,
      sessionId: this.ack?.sessionId ?? null,
      signingRequired: this.options.settings.requireSignatures(),
      commands: this.queue.view(),
    };
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.nextAttemptAt = null;
    const origin = this.options.settings.relayOrigin();
    const apiKey = await this.options.apiKey();
    if (generation !== this.generation || this.state === 'stopped') return;
    if (!origin) return this.waitFor('No relay origin: set the API origin (symphony-gateway config --api-origin URL) or --relay-origin.');
    if (!apiKey) return this.waitFor('No desktop API key: set one (symphony-gateway set-api-key, or the Pairing screen) to connect to the cloud.');
    // The handshake is a GET of the Socket.IO path: that is what the relay sees and checks.
    const pop = (await this.options.pop?.('GET', SOCKET_IO_PATH, apiKey)) ?? {};
    if (generation !== this.generation) return;
    // The hello names the identity the handshake proved (a managed key only, as the PoP).
    this.gatewayId = pop[POP_HEADERS.gatewayId];
    this.state = 'connecting';
    this.reason = 'connecting';
    this.connectedOrigin = origin;
    // Loaded on the first connect, not at start: most gateways have no relay to talk to.
    const { io } = await import('socket.io-client');
    if (generation !== this.generation) return;
    const socket = io(`${origin}${RELAY_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      timeout: 10_000,
      forceNew: true,
      path: SOCKET_IO_PATH,
      auth: { apiKey },
      extraHeaders: pop,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.helloTries = 0;
      this.state = 'connecting';
      this.sendHello();
    });
    socket.on('connect_error', (error: Error) => this.lost(socket, `could not connect to the relay: ${error.message}`));
    socket.on('disconnect', (reason: string) => this.lost(socket, `the relay connection dropped (${reason})`));
    socket.on(IN.helloAck, (payload: unknown) => this.onHelloAck(socket, payload));
    socket.on(IN.helloNack, (payload: unknown) => this.options.log.warn({ payload }, 'relay: hello refused'));
    socket.on(IN.command, (payload: unknown) => this.queue.receive(payload));
    socket.on(IN.eventAck, (payload: unknown) => this.queue.eventAck(payload));
    socket.on(IN.cancel, (payload: unknown) => this.queue.cancel(payload));
  }

  /** Periodic: presence again, and a new link when the relay origin setting (or the API origin) moved. */
  private beat(): void {
    if (this.socket && this.connectedOrigin !== this.options.settings.relayOrigin()) {
      this.reconnect();
      return;
    }
    this.reportPresence(true);
  }

  /** Nothing to connect with yet: say why, and look again later. */
  private waitFor(reason: string): void {
    this.state = 'disconnected';
    this.reason = reason;
    this.schedule(this.options.recheckMs ?? 10_000);
  }

  private sendHello(): void {
    const socket = this.socket;
    if (!socket) return;
    this.helloTries++;
    socket.emit(
      OUT.hello,
      envelope({
        computeTargetId: this.ack?.computeTargetId ?? undefined,
        gatewayId: this.gatewayId,
        machineName: hostname(),
        platform: process.platform,
        pluginVersion: this.options.version,
        desktopClientVersion: this.options.version,
        gatewayProtocolVersion: GATEWAY_PROTOCOL_VERSION,
        supportedOperations: [...OPERATION_IDS],
        maxInFlightCommands: MAX_IN_FLIGHT_COMMANDS,
        allowedDirectoriesHash: this.allowedDirectoriesHash(),
        capabilities: { loopRunnerHeartbeatSupported: true, loopRunnerRefreshSupported: true, commandSigning: true },
      }),
    );
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => {
      if (this.socket !== socket || this.state === 'connected') return;
      // Re-sent once after a silent 10 s; a second silence recycles the socket.
      if (this.helloTries < 2) this.sendHello();
      else this.lost(socket, 'the relay did not answer the hello');
    }, this.options.helloTimeoutMs ?? 10_000);
  }

  private onHelloAck(socket: Socket, payload: unknown): void {
    if (socket !== this.socket) return;
    const parsed = HelloAck.safeParse(payload);
    if (!parsed.success) {
      this.options.log.warn('relay: malformed hello ack ignored');
      return;
    }
    clearTimeout(this.helloTimer);
    const wasConnected = this.state === 'connected';
    this.ack = parsed.data;
    this.state = 'connected';
    this.reason = null;
    this.attempts = 0;
    if (!wasConnected) {
      this.connectedAt = Date.now();
      this.options.log.info({ computeTargetId: parsed.data.computeTargetId ?? null }, 'relay: connected');
    }
    // A repeated ack (the relay saw a sequence gap) also resends from its resume point.
    this.queue.resend(parsed.data.resumeFromSequence);
    this.presence = null;
    this.reportPresence();
    this.queue.pump();
  }

  private lost(socket: Socket, message: string): void {
    if (socket !== this.socket || this.state === 'stopped') return;
    this.dropSocket();
    this.lastError = { message, at: new Date().toISOString() };
    this.state = 'disconnected';
    this.presence = null;
    const delay = backoffDelay(this.attempts++, this.options.backoff ?? DEFAULT_BACKOFF);
    this.reason = `${message}; retrying in ${Math.ceil(delay / 1000)} s`;
    this.options.log.warn({ delayMs: delay }, `relay: ${message}`);
    this.schedule(delay);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.nextAttemptAt = Date.now() + delayMs;
    this.timer = setTimeout(() => void this.connect(), delayMs);
    this.timer.unref();
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.removeAllListeners();
    socket.disconnect();
  }

  private send(event: string, payload: object): boolean {
    if (!this.socket?.connected) return false;
    // Events wait for the hello ack: sent earlier they would overtake the resend it triggers.
    if (event === OUT.event && this.state !== 'connected') return false;
    this.socket.emit(event, envelope(payload));
    return true;
  }

  private currentPresence(): PresenceState {
    if (this.options.settings.paused()) return 'paused';
    return this.options.gatewayPort() === null ? 'degraded' : 'online';
  }

  /** Tells the cloud when presence changed (or always, for the periodic beat). */
  private reportPresence(always = false): void {
    if (this.state !== 'connected') return;
    const presence = this.currentPresence();
    const { active, queued } = this.queue.counts();
    if (!always && presence === this.presence && !this.countsChanged(active, queued)) return;
    this.presence = presence;
    this.send(OUT.presence, {
      state: presence,
      activeCommands: active,
      queueDepth: queued,
      ...(presence === 'degraded' ? { error: 'the local gateway is not listening' } : {}),
    });
  }

  private lastCounts = '';
  private countsChanged(active: number, queued: number): boolean {
    const key = `${active}/${queued}`;
    if (key === this.lastCounts) return false;
    this.lastCounts = key;
    return true;
  }

  private allowedDirectoriesHash(): string {
    const roots = [...(this.options.allowedRoots?.() ?? [])].sort();
    return createHash('sha256').update(JSON.stringify(roots)).digest('hex');
  }
}
