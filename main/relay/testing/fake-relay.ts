// A local Socket.IO server playing the cloud relay, for tests and the benchmark: it checks
// the API key, answers the hello (with the last sequence it holds per command as the
// resume point), records acks, events and presence, acks events as they arrive, and
// sends commands and cancels.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Changes } from './changes.js';
import { Server, type Socket } from 'socket.io';
import { IN, OUT, RELAY_NAMESPACE, type CommandAck, type CommandEvent } from '../protocol.js';

export interface FakeRelayOptions {
  apiKey: string;
  /** Ack each event as it arrives (default true). */
  autoAck?: boolean;
  /** Answer hellos (default true); false to test the hello timeout. */
  answerHello?: boolean;
  serverCapabilities?: Record<string, unknown>;
}

export class FakeRelay {
  readonly hellos: Array<Record<string, unknown>> = [];
  readonly acks: CommandAck[] = [];
  /** Events in arrival order, duplicates included. */
  readonly received: CommandEvent[] = [];
  readonly presence: Array<Record<string, unknown>> = [];
  readonly authAttempts: Array<{ apiKey: unknown; ok: boolean; headers: Record<string, string | string[] | undefined>; pathname: string }> = [];
  private readonly changes = new Changes();
  private socket: Socket | null = null;
  autoAck: boolean;
  answerHello: boolean;

  private constructor(
    private readonly http: HttpServer,
    private readonly io: Server,
    readonly port: number,
    private readonly options: FakeRelayOptions,
  ) {
    this.autoAck = options.autoAck ?? true;
    this.answerHello = options.answerHello ?? true;
  }

  static async start(options: FakeRelayOptions): Promise<FakeRelay> {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], maxHttpBufferSize: 64 * 1024 * 1024 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const relay = new FakeRelay(http, io, (http.address() as AddressInfo).port, options);
    const nsp = io.of(RELAY_NAMESPACE);
    nsp.use((socket, next) => {
      const apiKey = (socket.handshake.auth as { apiKey?: unknown }).apiKey;
      const ok = apiKey === relay.options.apiKey;
      const pathname = new URL(socket.handshake.url, 'http://relay').pathname;
      relay.authAttempts.push({ apiKey, ok, headers: socket.handshake.headers, pathname });
      relay.changed();
      next(ok ? undefined : new Error('Unauthorized'));
    });
    nsp.on('connection', (socket) => relay.attach(socket));
    return relay;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get connected(): boolean {
    return Boolean(this.socket?.connected);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on(OUT.hello, (hello: Record<string, unknown>) => {
      this.hellos.push(hello);
      if (this.answerHello) this.sendHelloAck();
      this.changed();
    });
    socket.on(OUT.ack, (ack: CommandAck) => {
      this.acks.push(ack);
      this.changed();
    });
    socket.on(OUT.event, (event: CommandEvent) => {
      this.received.push(event);
      if (this.autoAck) socket.emit(IN.eventAck, { commandId: event.commandId, sequence: event.sequence });
      this.changed();
    });
    socket.on(OUT.presence, (presence: Record<string, unknown>) => {
      this.presence.push(presence);
      this.changed();
    });
    socket.on('disconnect', () => {
      if (this.socket === socket) this.socket = null;
      this.changed();
    });
    this.changed();
  }

  /** The highest sequence received without a gap, per command: where the desktop must resume. */
  resumePoints(): Record<string, number> {
    const points: Record<string, number> = {};
    const seen = new Map<string, Set<number>>();
    for (const event of this.received) {
      const set = seen.get(event.commandId) ?? new Set<number>();
      set.add(event.sequence);
      seen.set(event.commandId, set);
    }
    for (const [commandId, set] of seen) {
      let n = 0;
      while (set.has(n + 1)) n++;
      points[commandId] = n;
    }
    return points;
  }

  sendHelloAck(): void {
    this.socket?.emit(IN.helloAck, {
      computeTargetId: 'ct-test',
      sessionId: `session-${this.hellos.length}`,
      serverTime: new Date().toISOString(),
      resumeFromSequence: this.resumePoints(),
      serverCapabilities: this.options.serverCapabilities ?? {},
    });
  }

  sendCommand(command: Record<string, unknown>): void {
    if (!this.socket) throw new Error('no desktop connected');
    this.socket.emit(IN.command, command);
  }

  cancel(commandId: string, reason?: string): void {
    this.socket?.emit(IN.cancel, { commandId, reason });
  }

  ackEvent(commandId: string, sequence: number): void {
    this.socket?.emit(IN.eventAck, { commandId, sequence });
  }

  /** Cuts the desktop's connection from the server side. */
  drop(): void {
    this.socket?.disconnect(true);
  }

  eventsOf(commandId: string): CommandEvent[] {
    return this.received.filter((event) => event.commandId === commandId);
  }

  ackOf(commandId: string): CommandAck | undefined {
    return this.acks.find((ack) => ack.commandId === commandId);
  }

  /** Resolves when `check` holds (re-checked on every message), else rejects naming `what`. */
  until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return this.changes.until(check, `fake relay: ${what}`, timeoutMs);
  }


  /** The command's events up to its terminal one. */
  async finished(commandId: string, timeoutMs?: number): Promise<CommandEvent[]> {
    await this.until(() => this.eventsOf(commandId).some(isTerminal), `command ${commandId} to finish`, timeoutMs);
    return this.eventsOf(commandId);
  }

  async close(): Promise<void> {
    this.io.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private changed(): void {
    this.changes.notify();
  }
}

export function isTerminal(event: CommandEvent): boolean {
  return event.eventType === 'done' || ((event.eventType === 'error' || event.eventType === 'result') && event.data.terminal === true);
}
