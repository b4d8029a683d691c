// Replies other than "200 with this JSON", returned by route handlers.
import type { Readable } from 'node:stream';

export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** One JSON value a line (application/x-ndjson), written as produced, with backpressure. */
export class NdjsonReply {
  constructor(readonly events: AsyncIterable<unknown>) {}
}

/** A file or stream sent as is. */
export class StreamReply {
  constructor(
    readonly stream: Readable,
    readonly contentType: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export const reply = (status: number, body: unknown, headers?: Record<string, string>) => new Reply(status, body, headers);
export const ndjson = (events: AsyncIterable<unknown>) => new NdjsonReply(events);
