// The cloud's commands on this desktop: validated against OUR route table, acked, queued
// (at most 2 at once, one at a time per lock key), replayed to the gateway, and their
// results streamed back as sequenced events that stay buffered until the cloud acks them,
// so a reconnect resends exactly what the cloud has not seen.
import type { Logger } from 'pino';
import { isOperationId, matchRouteEntry } from '../../shared/operations.js';
import {
  Cancel,
  DesktopCommand,
  EventAck,
  MAX_IN_FLIGHT_COMMANDS,
  OUT,
  commandShapeError,
  type CommandAck,
  type CommandEvent,
  type RelayEventType,
} from './protocol.js';
import { PreparationFailed } from './credentials.js';
import { HeaderTimeout, replayToGateway } from './replay.js';

export const EVENT_BUFFER_LIMIT = 10_000;
export const FINISHED_RETENTION_MS = 10 * 60_000;
export const FINISHED_RETENTION_MAX = 200;
const RECENT_SHOWN = 20;
const LOCK_FIELDS = ['repoPath', 'worktreePath', 'workDir', 'runDir', 'path'] as const;

export type CommandState = 'queued' | 'running' | 'finished';
export type CommandOutcome = 'ok' | 'error' | 'cancelled' | 'timeout';

export interface CommandView {
  commandId: string;
  operationId: string;
  method: string;
  path: string;
  state: CommandState;
  outcome: CommandOutcome | null;
  statusCode: number | null;
  error: string | null;
  receivedAt: string;
  startedAt: string | null;
  durationMs: number | null;
  events: number;
}

/** A command refused at its ack (never run): what the Relay screen lists under "Refused". */
export interface RefusalView {
  commandId: string;
  operationId: string;
  method: string;
  path: string;
  reason: string;
  receivedAt: string;
}

/** A command's signature check (issue: signed commands): the failed-ack reason, or null to run it. */
export type CommandVerifier = (command: DesktopCommand) => string | null;

export interface CommandQueueOptions {
  /** Emits on the socket; false when there is none (the event then waits in the buffer). */
  send(event: string, payload: object): boolean;
  connected(): boolean;
  paused(): boolean;
  gatewayPort(): number | null;
  /** Read at each replay: a rotated token applies to the next command. */
  gatewayToken(): string;
  /** The gateway's per-process relay secret: the replay is then the `relay` caller. */
  relaySecret: string;
  log: Logger;
  verify?: CommandVerifier;
  /** Right before the replay: what to send instead (a signed launch's fetched body); PreparationFailed ends the command. */
  prepare?: (command: DesktopCommand, signal: AbortSignal) => Promise<DesktopCommand>;
  maxInFlight?: number;
  bufferLimit?: number;
  /** Overrides the header watchdog (60 s; 10 min for loop routes). */
  headerTimeoutMs?: number;
  now?: () => number;
  onChange?: () => void;
}

class Cancelled extends Error {
  constructor(readonly reason: string | null) {
    super('cancelled');
  }
}
class CommandTimeout extends Error {
  constructor(ms: number) {
    super(`the command did not finish within its ${ms} ms timeout`);
  }
}
class BufferOverflow extends Error {}

interface CommandRecord {
  command: DesktopCommand;
  lockKey: string | null;
  state: CommandState;
  outcome: CommandOutcome | null;
  statusCode: number | null;
  error: string | null;
  /** Every event so far (acked ones too, to replay a finished command on a duplicate). */
  events: CommandEvent[];
  lastSequence: number;
  ackedSequence: number;
  controller: AbortController | null;
  receivedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Read through a call: the state changes while a command awaits (TS would narrow it). */
const finished = (record: CommandRecord): boolean => record.state === 'finished';

export function lockKeyOf(command: DesktopCommand): string | null {
  if (command.lockKey) return command.lockKey;
  const body = command.body && typeof command.body === 'object' ? (command.body as Record<string, unknown>) : {};
  for (const field of LOCK_FIELDS) {
    const value = body[field];
    if (typeof value === 'string' && value) return `${command.operationId}:${value}`;
  }
  return null;
}

/** Why a path is refused before the table is consulted: dot segments and encoded separators never reach the router. */
function unsafePath(path: string): boolean {
  const pathname = path.split('?')[0];
  return /\/\.{1,2}(\/|$)|\/\/|\\|%2e|%2f|%5c|%00/i.test(pathname);
}

/** The failed-ack reason when the operation id is not the one OUR table gives this method and path. */
export function operationMismatch(command: DesktopCommand): string | null {
  if (unsafePath(command.path)) return 'path must start with /api/gateway/';
  const entry = matchRouteEntry(command.method, command.path.split('?')[0]);
  // Desktop-only and public routes are never the cloud's: their kind is no operation id.
  if (!entry || !isOperationId(entry.kind) || entry.kind !== command.operationId) return 'operationId/path mismatch';
  return null;
}

export class CommandQueue {
  private readonly records = new Map<string, CommandRecord>();
  /** Newest last, at most RECENT_SHOWN: not records, so a re-send after a resume is judged again. */
  private readonly refusals: RefusalView[] = [];
  private readonly maxInFlight: number;
  private readonly bufferLimit: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: CommandQueueOptions) {
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT_COMMANDS;
    this.bufferLimit = options.bufferLimit ?? EVENT_BUFFER_LIMIT;
    this.now = options.now ?? Date.now;
  }

  /** `desktop.command`. */
  receive(raw: unknown): void {
    const commandId = raw && typeof raw === 'object' && typeof (raw as { commandId?: unknown }).commandId === 'string' ? (raw as { commandId: string }).commandId : '';
    const existing = commandId ? this.records.get(commandId) : undefined;
    if (existing) {
      this.ack({ commandId, accepted: true, state: 'accepted' });
      if (existing.state === 'finished') for (const event of existing.events) this.options.send(OUT.event, event);
      return;
    }
    const reason = commandShapeError(raw) ?? this.gate(raw as DesktopCommand);
    if (reason) {
      this.options.log.warn({ commandId, reason }, 'relay: command refused');
      this.ack({ commandId, accepted: false, state: 'failed', reason });
      this.refused(raw, commandId, reason);
      return;
    }
    const command = DesktopCommand.parse(raw);
    command.method = command.method.toUpperCase();
    this.records.set(command.commandId, {
      command,
      lockKey: lockKeyOf(command),
      state: 'queued',
      outcome: null,
      statusCode: null,
      error: null,
      events: [],
      lastSequence: 0,
      ackedSequence: 0,
      controller: null,
      receivedAt: this.now(),
      startedAt: null,
      finishedAt: null,
    });
    this.ack({ commandId: command.commandId, accepted: true, state: 'accepted' });
    this.options.log.info({ commandId, operationId: command.operationId, method: command.method, path: command.path.split('?')[0] }, 'relay: command accepted');
    this.changed();
    this.pump();
  }

  private refused(raw: unknown, commandId: string, reason: string): void {
    const field = (name: string) => {
      const value = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[name] : undefined;
      return typeof value === 'string' ? value.slice(0, 200) : '';
    };
    this.refusals.push({ commandId: commandId.slice(0, 200), operationId: field('operationId'), method: field('method').toUpperCase(), path: field('path').split('?')[0]!, reason, receivedAt: new Date(this.now()).toISOString() });
    if (this.refusals.length > RECENT_SHOWN) this.refusals.shift();
    this.changed();
  }

  private gate(command: DesktopCommand): string | null {
    if (this.options.paused()) return 'cloud commands paused by user';
    const parsed = DesktopCommand.safeParse(command);
    if (!parsed.success) return 'invalid command';
    return operationMismatch(parsed.data) ?? this.options.verify?.(parsed.data) ?? null;
  }

  /** `desktop.command.event.ack`: every event up to `sequence` has arrived. */
  eventAck(raw: unknown): void {
    const parsed = EventAck.safeParse(raw);
    if (!parsed.success) return;
    const record = this.records.get(parsed.data.commandId);
    if (!record) return;
    record.ackedSequence = Math.min(record.lastSequence, Math.max(record.ackedSequence, parsed.data.sequence));
    this.trim(record);
  }

  /** `desktop.cancel`: a queued command is dropped, a running one aborted; both end `done {cancelled: true}`. */
  cancel(raw: unknown): void {
    const parsed = Cancel.safeParse(raw);
    if (!parsed.success) return;
    const record = this.records.get(parsed.data.commandId);
    if (!record || record.state === 'finished') return;
    const reason = parsed.data.reason ?? null;
    if (record.state === 'queued') {
      this.finish(record, 'cancelled', { cancelled: true, reason });
      this.pump();
      return;
    }
    record.controller?.abort(new Cancelled(reason));
  }

  /** After `hello.ack`: resend what the cloud has not acked, from its resume point. */
  resend(resumeFrom: number | Record<string, number> | null | undefined): void {
    for (const record of this.records.values()) {
      const floor = typeof resumeFrom === 'number' ? resumeFrom : (resumeFrom?.[record.command.commandId] ?? record.ackedSequence);
      // The cloud's floor counts as an ack only when it is ahead of ours.
      if (floor > record.ackedSequence) record.ackedSequence = Math.min(floor, record.lastSequence);
      for (const event of record.events) if (event.sequence > floor) this.options.send(OUT.event, event);
    }
  }

  /** Starts queued commands while there is room, first come first served among free locks. */
  pump(): void {
    if (this.closed || !this.options.connected()) return;
    let running = this.count('running');
    for (const record of this.records.values()) {
      if (running >= this.maxInFlight) break;
      if (record.state !== 'queued') continue;
      if (record.lockKey && this.lockHeld(record.lockKey)) continue;
      running++;
      void this.run(record);
    }
  }

  view(): { inFlight: CommandView[]; queued: CommandView[]; recent: CommandView[]; refused: RefusalView[] } {
    const all = [...this.records.values()];
    return {
      inFlight: all.filter((r) => r.state === 'running').map((r) => this.viewOf(r)),
      queued: all.filter((r) => r.state === 'queued').map((r) => this.viewOf(r)),
      recent: all
        .filter((r) => r.state === 'finished')
        .sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0))
        .slice(0, RECENT_SHOWN)
        .map((r) => this.viewOf(r)),
      refused: [...this.refusals].reverse(),
    };
  }

  counts(): { active: number; queued: number } {
    return { active: this.count('running'), queued: this.count('queued') };
  }

  /** Aborts everything (the gateway is stopping). */
  close(): void {
    this.closed = true;
    for (const record of this.records.values()) record.controller?.abort(new Cancelled('desktop shutting down'));
  }

  private count(state: CommandState): number {
    let n = 0;
    for (const record of this.records.values()) if (record.state === state) n++;
    return n;
  }

  private lockHeld(lockKey: string): boolean {
    for (const record of this.records.values()) if (record.state === 'running' && record.lockKey === lockKey) return true;
    return false;
  }

  private async run(record: CommandRecord): Promise<void> {
    const { command } = record;
    record.state = 'running';
    record.startedAt = this.now();
    const controller = new AbortController();
    record.controller = controller;
    const timer = command.timeoutMs ? setTimeout(() => controller.abort(new CommandTimeout(command.timeoutMs!)), command.timeoutMs) : undefined;
    this.changed();
    this.emit(record, 'status', { status: 'running', operationId: command.operationId });
    try {
      const port = this.options.gatewayPort();
      if (port === null) throw new Error('the local gateway is not listening');
      const replayed = this.options.prepare ? await this.options.prepare(command, controller.signal) : command;
      await replayToGateway(replayed, {
        port,
        gatewayToken: this.options.gatewayToken(),
        relaySecret: this.options.relaySecret,
        headerTimeoutMs: this.options.headerTimeoutMs,
        signal: controller.signal,
        emit: (eventType, data) => this.emit(record, eventType, data),
      });
      if (!finished(record)) this.finish(record, 'ok');
    } catch (error) {
      if (finished(record)) return;
      if (error instanceof Cancelled) this.finish(record, 'cancelled', { cancelled: true, reason: error.reason });
      else if (error instanceof CommandTimeout || error instanceof HeaderTimeout) {
        this.finish(record, 'timeout', { code: 'timeout', error: error.message }, 'error');
      } else if (error instanceof PreparationFailed) {
        this.finish(record, 'error', { code: 'preparation_failed', error: error.message }, 'error');
      } else if (error instanceof BufferOverflow) {
        this.finish(record, 'error', { code: 'buffer_overflow', error: `more than ${this.bufferLimit} events were not acknowledged by the relay` }, 'error');
      } else {
        this.finish(record, 'error', { code: 'gateway_unreachable', error: `could not reach the local gateway: ${(error as Error).message}` }, 'error');
      }
    } finally {
      clearTimeout(timer);
      record.controller = null;
      this.pump();
    }
  }

  /** Emits the terminal event for an end the replay did not report itself (cancel, timeout, overflow). */
  private finish(record: CommandRecord, outcome: CommandOutcome, data: Record<string, unknown> = {}, eventType: RelayEventType = 'done'): void {
    this.emit(record, eventType, { ...data, terminal: eventType === 'done' ? undefined : true }, outcome);
  }

  private emit(record: CommandRecord, eventType: RelayEventType, data: Record<string, unknown>, outcome?: CommandOutcome): void {
    if (record.state === 'finished') return;
    if (!outcome && record.lastSequence - record.ackedSequence >= this.bufferLimit) {
      record.controller?.abort(new BufferOverflow());
      return;
    }
    if (data.terminal === undefined) delete data.terminal;
    const event: CommandEvent = { commandId: record.command.commandId, sequence: ++record.lastSequence, eventType, data };
    record.events.push(event);
    if (typeof data.statusCode === 'number') record.statusCode = data.statusCode;
    this.options.send(OUT.event, event);
    const terminal = eventType === 'done' || ((eventType === 'error' || eventType === 'result') && data.terminal === true);
    if (!terminal) return;
    // Ended the moment its terminal event leaves: a duplicate arriving now is replayed, not re-run.
    record.state = 'finished';
    record.finishedAt = this.now();
    record.outcome = outcome ?? (eventType === 'error' ? 'error' : (record.outcome ?? 'ok'));
    if (eventType === 'error') record.error = String(data.error ?? data.code ?? 'error');
    this.options.log.info(
      { commandId: record.command.commandId, operationId: record.command.operationId, outcome: record.outcome, ms: record.finishedAt - (record.startedAt ?? record.receivedAt) },
      'relay: command finished',
    );
    this.prune();
    this.changed();
  }

  /** Keeps the unacked events and, beyond the buffer limit, drops the oldest acked ones. */
  private trim(record: CommandRecord): void {
    const excess = record.events.length - this.bufferLimit;
    if (excess <= 0) return;
    let drop = 0;
    while (drop < excess && record.events[drop].sequence <= record.ackedSequence) drop++;
    if (drop) record.events.splice(0, drop);
  }

  private prune(): void {
    const cutoff = this.now() - FINISHED_RETENTION_MS;
    const finished = [...this.records.values()].filter((r) => r.state === 'finished').sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    finished.forEach((record, i) => {
      if ((record.finishedAt ?? 0) < cutoff || finished.length - i > FINISHED_RETENTION_MAX) this.records.delete(record.command.commandId);
    });
  }

  private ack(ack: CommandAck): void {
    this.options.send(OUT.ack, ack);
  }

  private changed(): void {
    this.options.onChange?.();
  }

  private viewOf(record: CommandRecord): CommandView {
    const end = record.finishedAt ?? (record.startedAt ? this.now() : null);
    return {
      commandId: record.command.commandId,
      operationId: record.command.operationId,
      method: record.command.method,
      path: record.command.path.split('?')[0],
      state: record.state,
      outcome: record.outcome,
      statusCode: record.statusCode,
      error: record.error,
      receivedAt: new Date(record.receivedAt).toISOString(),
      startedAt: record.startedAt ? new Date(record.startedAt).toISOString() : null,
      durationMs: end !== null && record.startedAt ? end - record.startedAt : null,
      events: record.lastSequence,
    };
  }
}
