// How many agent processes one remote caller (a paired origin, the cloud relay) may have at
// once. Every gateway agent start asks here first (Confiner.prepare): under the limit it
// runs, at the limit it waits in the caller's queue (told its place, and told again as the
// queue moves), and with the queue full it is refused with 429 and Retry-After. Ticket runs
// and cloud loops count too (`elsewhere`: their agents live in run hosts, any process), and
// their launches are refused at the limit rather than queued (`reserve`). The local user
// (renderer, gateway token) is not capped.
import type { NormalizedEvent } from '../../shared/events.js';
import { isRemoteKey } from '../auth/caller.js';
import { AppError } from '../errors.js';

/** Starts one caller may have waiting for a slot; beyond that its requests get 429. */
export const MAX_QUEUED_PER_CALLER = 16;
/** Default number of agent processes one remote caller may have at once (setting `agentLimits.concurrentAgents`). */
export const DEFAULT_CONCURRENT_AGENTS = 4;
/** What a refused start is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 10;
/**
 * How often a non-empty queue looks again at `elsewhere` on its own. The ends the gateway sees (a
 * run or loop host exiting) call `recheck` at once; this catches the ones nobody here is told of
 * (a run that leaves IN_PROGRESS in its host, another process, before the host exits).
 */
const RECHECK_MS = 1_000;

/** Whose start this is, and who hears that it waits. */
export interface SlotRequest {
  /** auth/caller.ts callerKey: `origin:<origin>`, `relay`, `renderer`, `token`. */
  key: string;
  /** Called with the start's place in its caller's queue (1: next) when it has to wait, and as the queue moves. */
  onQueued?: (position: number) => void;
  /** Aborting gives up the place in the queue (the client left). */
  signal?: AbortSignal;
}

interface Waiter {
  request: SlotRequest;
  grant: () => void;
}

export interface AgentSlotsOptions {
  /** Read at every start, so a changed setting applies to the next one. */
  limit: () => number;
  maxQueued?: number;
  /** The caller's agents outside this process's turns: its live ticket runs and cloud loops, read from SQLite. */
  elsewhere?: (key: string) => number;
  recheckMs?: number;
}

export class AgentSlots {
  private readonly running = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();
  private recheckTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: AgentSlotsOptions) {}

  /** Only remote callers are capped: the person at the desktop starts what they like. */
  static capped(key: string): boolean {
    return isRemoteKey(key);
  }

  /** Resolves with the slot's release (call it once the agent is gone; a second call does nothing). */
  acquire(request: SlotRequest | undefined): Promise<() => void> {
    if (!request || !AgentSlots.capped(request.key)) return Promise.resolve(() => {});
    const { key } = request;
    const queue = this.queues.get(key) ?? [];
    if (queue.length === 0 && this.busy(key) < this.limit()) return Promise.resolve(this.take(key));
    if (queue.length >= this.maxQueued()) return Promise.reject(this.refusal(key));
    return new Promise<() => void>((resolve, reject) => {
      const onAbort = () => {
        this.leave(key, waiter);
        reject(new AppError(499, 'client_closed', 'The client went away while its agent waited for a slot.'));
      };
      const waiter: Waiter = {
        request,
        grant: () => {
          request.signal?.removeEventListener('abort', onAbort);
          resolve(this.take(key));
        },
      };
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.queues.set(key, queue);
      this.watchElsewhere();
      request.onQueued?.(queue.length);
    });
  }

  /**
   * A launch that starts agents beyond one turn (a ticket run, a cloud loop): under the limit
   * it holds a slot until its release (once its row is live, `elsewhere` counts it); at the
   * limit it is refused at once, never queued (runs are long). `key` null: a launch from code.
   */
  reserve(key: string | null): () => void {
    if (key === null || !AgentSlots.capped(key)) return () => {};
    if (this.busy(key) >= this.limit()) throw this.refusal(key);
    return this.take(key);
  }

  /** A run or loop ended (its host exited): the waiting starts look at `elsewhere` again now. */
  recheck(): void {
    try {
      for (const key of [...this.queues.keys()]) this.next(key);
    } catch {
      // The count could not be read (the database closing at quit): the queue waits for the next look or a release.
    }
  }

  /** Agent turns running for `key` in this process now (tests, the settings screen). */
  count(key: string): number {
    return this.running.get(key) ?? 0;
  }

  /** Everything of `key` that holds the limit: its turns here, and its live runs and loops wherever their hosts run. */
  busy(key: string): number {
    return this.count(key) + (this.options.elsewhere?.(key) ?? 0);
  }

  /** Starts waiting for `key` now. */
  queued(key: string): number {
    return this.queues.get(key)?.length ?? 0;
  }

  private limit(): number {
    return Math.max(1, Math.floor(this.options.limit()));
  }

  private maxQueued(): number {
    return this.options.maxQueued ?? MAX_QUEUED_PER_CALLER;
  }

  /** THE 429 of the cap, for queued starts and launches alike. */
  private refusal(key: string): AppError {
    const running = this.busy(key);
    const queued = this.queued(key);
    const maxQueued = this.maxQueued();
    return new AppError(
      429,
      'too_many_agents',
      `This caller already has ${running} agents running (ticket runs and loops included) and ${queued} waiting (the limit is ${this.limit()} at once, ${maxQueued} waiting); try again when one has finished.`,
      { running, limit: this.limit(), queued, maxQueued },
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }

  /** While starts wait and runs or loops count, the queues look again now and then: their ends free slots unseen. */
  private watchElsewhere(): void {
    if (this.recheckTimer || !this.options.elsewhere) return;
    this.recheckTimer = setInterval(() => {
      this.recheck();
      if (this.queues.size === 0) {
        clearInterval(this.recheckTimer);
        this.recheckTimer = undefined;
      }
    }, this.options.recheckMs ?? RECHECK_MS);
    this.recheckTimer.unref();
  }

  private take(key: string): () => void {
    this.running.set(key, this.count(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(key) - 1;
      if (left > 0) this.running.set(key, left);
      else this.running.delete(key);
      this.next(key);
    };
  }

  /** Hands freed slots to the waiting starts, first come first served, and tells the rest their new place. */
  private next(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    let moved = false;
    while (queue.length && this.busy(key) < this.limit()) {
      queue.shift()!.grant();
      moved = true;
    }
    if (!queue.length) this.queues.delete(key);
    else if (moved) queue.forEach((waiter, index) => waiter.request.onQueued?.(index + 1));
  }

  private leave(key: string, waiter: Waiter): void {
    const queue = this.queues.get(key);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index === -1) return;
    queue.splice(index, 1);
    if (!queue.length) this.queues.delete(key);
    else queue.slice(index).forEach((each, offset) => each.request.onQueued?.(index + offset + 1));
  }
}

/** A start's places in its caller's agent queue, as AgentSlots reports them, for the stream to say. */
export class QueuePlaces {
  private readonly places: number[] = [];
  private wake: (() => void) | null = null;
  private markQueued!: (value: 'queued') => void;
  /** Resolves when the start first has to wait. */
  readonly first = new Promise<'queued'>((resolve) => (this.markQueued = resolve));

  /** The `onQueued` of the start's SlotRequest. */
  readonly push = (position: number): void => {
    this.places.push(position);
    this.markQueued('queued');
    this.wake?.();
  };

  /** `status queued {position}` events, one per place, until `starting` settles (its outcome is the caller's to read). */
  async *statusUntil(starting: Promise<unknown>, mode: string): AsyncGenerator<NormalizedEvent> {
    const settled = starting.then(() => true, () => true);
    do {
      for (const position of this.places.splice(0)) {
        yield {
          type: 'status', status: 'queued', pid: null, mode, position,
          message: `Waiting for an agent slot: this caller's agents are all busy (${position === 1 ? 'next in line' : `${position - 1} ahead`}).`,
        };
      }
    } while (!(await Promise.race([settled, this.changed()])));
  }

  /** Resolves (false) at the next change of place, at once when one is not taken yet. */
  private changed(): Promise<false> {
    if (this.places.length) return Promise.resolve(false);
    return new Promise((resolve) => (this.wake = () => {
      this.wake = null;
      resolve(false);
    }));
  }
}
