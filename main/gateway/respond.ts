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
    ctx.body = Readable.from(ndjsonLines(result.events), { objectMode: false, highWaterMark: 16 * 1024 });
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

/** Pulled by the socket: the producer only runs as fast as the client reads (backpressure). */
async function* ndjsonLines(events: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const event of events) yield JSON.stringify(event) + '\n';
}
