// Turns what a handler returned into the HTTP reply.
import { Readable } from 'node:stream';
import { NdjsonReply, Reply, StreamReply } from './reply.js';
import type { GatewayContext } from './state.js';

export function respond(ctx: GatewayContext, result: unknown): void {
  if (result instanceof Reply) {
    ctx.status = result.status;
    for (const [name, value] of Object.entries(result.headers)) ctx.set(name, value);
    if (result.body !== undefined) ctx.body = result.body;
  } else if (result instanceof NdjsonReply) {
    ctx.status = 200;
    ctx.type = 'application/x-ndjson';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = new NdjsonBody(result.events);
  } else if (result instanceof StreamReply) {
    ctx.status = 200;
    ctx.type = result.contentType;
    for (const [name, value] of Object.entries(result.headers)) ctx.set(name, value);
    ctx.body = result.stream;
  } else if (result === undefined) {
    ctx.status = 204;
  } else {
    ctx.status = 200;
    ctx.body = result;
  }
}

/**
 * An NDJSON body pulled by the socket: an event is read from the iterator only while the
 * socket takes them (backpressure), and each becomes one line. Lines pushed in one turn of
 * the event loop leave in one write (Node's HTTP response corks its socket until the next
 * tick). Each event costs one `next()` and one push: no generator or Readable.from between
 * the events and the socket. Destroyed (the client left, or an error), it ends the iterator
 * as Readable.from does (`throw` with the error, else `return`), which ends the turn.
 */
export class NdjsonBody extends Readable {
  private readonly events: AsyncIterator<unknown>;
  private pulling = false;
  private finished = false;

  constructor(events: AsyncIterable<unknown>) {
    super({ highWaterMark: 16 * 1024 });
    this.events = events[Symbol.asyncIterator]();
  }

  override _read(): void {
    if (!this.pulling) void this.pull();
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      for (;;) {
        const next = await this.events.next();
        if (this.destroyed) return;
        if (next.done) {
          this.finished = true;
          this.push(null);
          return;
        }
        if (!this.push(`${JSON.stringify(next.value)}\n`)) return;
      }
    } catch (error) {
      this.finished = true; // a throwing iterator is done
      this.destroy(error as Error);
    } finally {
      this.pulling = false;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.finished) return callback(error);
    this.finished = true;
    this.endEvents(error).then(
      () => callback(error),
      (thrown: unknown) => callback((thrown as Error | null) ?? error),
    );
  }

  private async endEvents(error: Error | null): Promise<void> {
    if (error && this.events.throw) {
      if ((await this.events.throw(error)).done) return;
    }
    await this.events.return?.();
  }
}
