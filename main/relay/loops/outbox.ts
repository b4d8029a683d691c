// Every call a loop makes to the cloud goes through this outbox in SQLite: written before it
// is sent, delivered in order per loop, retried with backoff while the cloud is unreachable,
// and still there after a crash or restart. Nothing a loop reports is lost on the way.
// The loop's host writes its events here (insertOutboxCall); only the gateway delivers.
// An event keeps its `x-loop-event-nonce` across attempts, so a resend after a crash that
// hid a delivery is a replay the cloud recognises (409), never a second event.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { migrate, type Db } from '../../store/database.js';
import { backoffDelay, type Backoff } from '../backoff.js';
import type { LoopCall, LoopCloud } from './cloud-api.js';

export type OutboxCall = Exclude<LoopCall, 'refresh-token'>;

export interface OutboxItem {
  id: number;
  loopId: string;
  call: OutboxCall;
  body: unknown;
  attempts: number;
  state: 'pending' | 'delivered' | 'failed';
  lastError: string | null;
  final: boolean;
}

interface Row {
  id: number;
  loop_id: string;
  call: OutboxCall;
  body: string | null;
  attempts: number;
  state: OutboxItem['state'];
  last_error: string | null;
  final: number;
  next_attempt_at: number;
  nonce: string | null;
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, capMs: 30_000 };

export interface OutboxOptions {
  db: Db;
  cloud: LoopCloud;
  log: Logger;
  backoff?: Backoff;
  /** The cloud answered 410 for this loop: it must stop. */
  onGone?: (loopId: string) => void;
  /** The loop's last call is settled: its token can go. */
  onFinalized?: (loopId: string) => void;
}

const toItem = (row: Row): OutboxItem => ({
  id: row.id,
  loopId: row.loop_id,
  call: row.call,
  body: row.body === null ? undefined : JSON.parse(row.body),
  attempts: row.attempts,
  state: row.state,
  lastError: row.last_error,
  final: row.final === 1,
});

export class LoopOutbox {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private draining: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private readonly options: OutboxOptions) {
    migrate(options.db, 'loop_outbox', [
      `CREATE TABLE loop_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        loop_id TEXT NOT NULL,
        call TEXT NOT NULL,
        body TEXT,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',
        last_error TEXT,
        delivered_at INTEGER,
        final INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX loop_outbox_pending ON loop_outbox (state, loop_id, id);`,
      'ALTER TABLE loop_outbox ADD COLUMN nonce TEXT',
    ]);
  }

  /** Queues a call (events get their timestamp now, when they happened) and starts delivery. */
  enqueue(loopId: string, call: OutboxCall, body?: unknown, options: { final?: boolean } = {}): void {
    insertOutboxCall(this.options.db, loopId, call, body, options);
    this.kick();
  }

  /** A heartbeat only when none is waiting already (a stale beat is worth nothing twice). */
  enqueueHeartbeat(loopId: string): void {
    const waiting = this.options.db.prepare("SELECT 1 FROM loop_outbox WHERE loop_id = ? AND call = 'heartbeat' AND state = 'pending'").get(loopId);
    if (!waiting) this.enqueue(loopId, 'heartbeat');
  }

  items(loopId?: string): OutboxItem[] {
    const rows = (loopId
      ? this.options.db.prepare('SELECT * FROM loop_outbox WHERE loop_id = ? ORDER BY id').all(loopId)
      : this.options.db.prepare('SELECT * FROM loop_outbox ORDER BY id').all()) as Row[];
    return rows.map(toItem);
  }

  pendingCount(loopId: string): number {
    return (this.options.db.prepare("SELECT COUNT(*) AS n FROM loop_outbox WHERE loop_id = ? AND state = 'pending'").get(loopId) as { n: number }).n;
  }

  /** Delivers what is due; safe to call at any time. */
  kick(): void {
    if (this.closed) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.scheduleNext();
    });
  }

  /** Resolves once nothing is pending (tests, shutdown with a deadline). */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.draining && !this.options.db.prepare("SELECT 1 FROM loop_outbox WHERE state = 'pending'").get()) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private scheduleNext(): void {
    if (this.closed) return;
    const next = this.options.db.prepare("SELECT MIN(next_attempt_at) AS at FROM loop_outbox WHERE state = 'pending'").get() as { at: number | null };
    if (next.at === null) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next.at - Date.now()));
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    const loops = this.options.db.prepare("SELECT DISTINCT loop_id AS loopId FROM loop_outbox WHERE state = 'pending'").all() as Array<{ loopId: string }>;
    await Promise.all(loops.map(({ loopId }) => this.drainLoop(loopId)));
  }

  /** In order: the loop's next item waits until the one before it is settled. */
  private async drainLoop(loopId: string): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const row = this.options.db.prepare("SELECT * FROM loop_outbox WHERE loop_id = ? AND state = 'pending' ORDER BY id LIMIT 1").get(loopId) as Row | undefined;
      if (!row || row.next_attempt_at > Date.now()) return;
      const item = toItem(row);
      const headers: Record<string, string> = item.call === 'events' ? { 'x-loop-event-nonce': row.nonce ?? randomUUID() } : {};
      const outcome = await this.options.cloud.call(loopId, item.call, item.body, headers);
      if (outcome.kind === 'retry') {
        const delay = backoffDelay(item.attempts, this.options.backoff ?? DEFAULT_BACKOFF);
        this.options.db
          .prepare('UPDATE loop_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?')
          .run(Date.now() + delay, outcome.error, item.id);
        this.options.log.warn({ loopId, call: item.call, attempts: item.attempts + 1, delayMs: delay }, `loop callback deferred: ${outcome.error}`);
        return;
      }
      // A 409 on an event is the cloud saying it has it already (a replay, or the loop moved on).
      const delivered = outcome.kind === 'ok' || (item.call === 'events' && outcome.status === 409);
      this.options.db
        .prepare('UPDATE loop_outbox SET state = ?, attempts = attempts + 1, last_error = ?, delivered_at = ? WHERE id = ?')
        .run(delivered ? 'delivered' : 'failed', delivered ? null : outcome.error, Date.now(), item.id);
      if (!delivered) this.options.log.warn({ loopId, call: item.call, status: outcome.status }, `loop callback refused: ${outcome.error}`);
      if (outcome.kind === 'gone') this.options.onGone?.(loopId);
      if (item.final) this.options.onFinalized?.(loopId);
    }
  }
}

/**
 * Writes one call to the outbox (the gateway's LoopOutbox, or a loop host on the same
 * database); the gateway delivers it. An event gets its nonce now, once.
 */
export function insertOutboxCall(db: Db, loopId: string, call: OutboxCall, body?: unknown, options: { final?: boolean } = {}): void {
  db.prepare('INSERT INTO loop_outbox (loop_id, call, body, created_at, final, nonce) VALUES (?, ?, ?, ?, ?, ?)').run(
    loopId, call, body === undefined ? null : JSON.stringify(body), Date.now(), options.final ? 1 : 0, call === 'events' ? randomUUID() : null,
  );
}
