// The fast path's request context. A request to a table path without parameters and
// without a body is answered without Koa: an Exchange is the small object the same
// pipeline stages work on (state.ts GatewayContext, with Koa's meaning for each member),
// and `send` writes the reply the way Koa's own respond does. Koa's context, request and
// response objects, its delegates and its header helpers cost ~10 KB a request; this costs
// a few hundred bytes. Everything else (parameterised paths, bodies, preflights, /ui/,
// other spellings of a path) goes to Koa, through the same stages.
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { parse, type ParsedUrlQuery } from 'node:querystring';
import { pipeline, Readable } from 'node:stream';
import { RequestState, type GatewayContext, type GatewayState } from './state.js';

/** Statuses whose replies carry no body (as Koa's `statuses.empty`). */
const EMPTY = new Set([204, 205, 304]);
const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
/**
 * Header lists whose reply head is written, for the next replies: node reads the list while
 * it writes the head and keeps none of it, and a list made per reply (~0.2 KB once grown) was
 * the Exchange's largest part. One Exchange at a time holds a list. A count, not pop/push:
 * an array that pop empties gives its backing store up, and push makes a new one.
 */
const spareLists = {
  lists: [] as string[][],
  count: 0,
  take(): string[] {
    return this.count > 0 ? this.lists[--this.count] : [];
  },
  give(list: string[]): void {
    if (this.count < 64) this.lists[this.count++] = list;
  },
};
/** An Exchange's list once its head is written (frozen: nothing may add to it). */
const HEAD_WRITTEN: string[] = Object.freeze([]) as unknown as string[];
/** Header names as the stages spell them, lowercased once. */
const lowered = new Map<string, string>();

function lower(field: string): string {
  let name = lowered.get(field);
  if (name === undefined) lowered.set(field, (name = field.toLowerCase()));
  return name;
}

/** Where the path ends in a request target (`?` starts the query string). */
export function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

/**
 * Sets a response header without Koa's helpers (Koa's ctx.set builds arrays on every call):
 * an Exchange keeps it for its one writeHead, a Koa context's response takes it at once.
 */
export function setHeader(ctx: GatewayContext, field: string, value: string): void {
  if (ctx instanceof Exchange) ctx.set(field, value);
  else ctx.res.setHeader(field, value);
}

/** The request's state, made when the request scope opens: an Exchange is its own, a Koa context gets one. */
export function openState(ctx: GatewayContext): GatewayState {
  return ctx instanceof Exchange ? ctx : (ctx.state = new RequestState(ctx.req, ctx.res));
}

/** Adds a field to Vary, as cheaply on a Koa context as on an Exchange when nothing set Vary yet. */
export function addVary(ctx: GatewayContext, field: string): void {
  if (ctx instanceof Exchange || ctx.res.hasHeader('Vary')) ctx.vary(field);
  else ctx.res.setHeader('Vary', field);
}

/**
 * A Vary value with `field` in it once. Its own function: the closure over `field` in `vary`
 * would cost every call its context, and most calls (the first Vary) need none.
 */
function withVaryField(value: string, field: string): string {
  const list = value.split(/\s*,\s*/);
  return list.some((name) => name.toLowerCase() === field.toLowerCase()) ? value : [...list, field].join(', ');
}

/**
 * Sends an Exchange's reply; one node refuses to write (a header value with a character HTTP
 * cannot carry) becomes a bare 500 and a log line, not an exception out of the request listener.
 */
export function sendOrFail(ctx: Exchange, log: { error(fields: object, message: string): void }): void {
  try {
    ctx.send();
  } catch (error) {
    log.error({ err: error, requestId: ctx.state.requestId }, 'the reply could not be written');
    ctx.fail();
  }
}

export class Exchange extends RequestState implements GatewayContext {
  readonly params = NO_PARAMS;
  private code = 404;
  private explicitStatus = false;
  private reply: unknown = undefined;
  private parsedQuery: ParsedUrlQuery | undefined;
  /**
   * The response headers, name (lowercased: node lowercases each name it writes, and a name
   * already lowercase is not copied) then value, in `out[0..used)` (a reused list may be
   * longer), written by one writeHead: node's setHeader keeps a dictionary and an entry
   * array per header.
   */
  private out: string[] = spareLists.take();
  private used = 0;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    readonly path: string,
  ) {
    super(req, res);
  }

  /** Its own request state (see RequestState). */
  get state(): GatewayState {
    return this;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get query(): ParsedUrlQuery {
    const url = this.req.url ?? '';
    return (this.parsedQuery ??= parse(url.length > this.path.length ? url.slice(this.path.length + 1) : ''));
  }

  /** The request's media type without parameters. */
  get request(): { readonly type: string } {
    const type = this.get('Content-Type');
    return { type: type ? type.split(';', 1)[0].trim().toLowerCase() : '' };
  }

  get(field: string): string {
    const value = this.req.headers[lower(field)];
    return value === undefined ? '' : Array.isArray(value) ? value.join(', ') : value;
  }

  /** As Koa's ctx.set, nothing once the head is written. */
  set(field: string, value: string): void {
    if (this.out === HEAD_WRITTEN) return;
    const at = this.find(field);
    if (at === -1) this.add(lower(field), value);
    else this.out[at + 1] = value;
  }

  vary(field: string): void {
    if (this.out === HEAD_WRITTEN) return;
    const at = this.find('Vary');
    if (at === -1) return this.add('vary', field);
    this.out[at + 1] = withVaryField(this.out[at + 1], field);
  }

  get status(): number {
    return this.code;
  }

  set status(code: number) {
    this.code = code;
    this.explicitStatus = true;
    if (EMPTY.has(code)) this.reply = null;
  }

  get body(): unknown {
    return this.reply;
  }

  set body(value: unknown) {
    this.reply = value;
    if (value === null || value === undefined) {
      if (!EMPTY.has(this.code)) this.code = 204;
      this.explicitStatus = true;
    } else if (!this.explicitStatus) this.status = 200;
  }

  set type(value: string) {
    this.set('Content-Type', /^text\/|^application\/json$/.test(value) ? `${value}; charset=utf-8` : value);
  }

  get type(): string {
    const at = this.find('Content-Type');
    return at === -1 ? '' : this.out[at + 1].split(';', 1)[0];
  }

  /** Writes the reply as Koa's respond would: JSON, text, bytes, a stream, or no body. */
  send(): void {
    const { res } = this;
    if (res.writableEnded || res.headersSent || (res.socket && !res.socket.writable)) return;
    const body = this.reply;
    if (EMPTY.has(this.code) || body === null || body === undefined) {
      this.remove('Content-Type');
      this.remove('Transfer-Encoding');
      if (EMPTY.has(this.code) || body === null) return void this.writeHead().end();
      // A status with no body set: its reason phrase, as Koa answers.
      return void this.end(STATUS_CODES[this.code] ?? String(this.code), 'text/plain; charset=utf-8');
    }
    if (body instanceof Readable) {
      if (this.find('Content-Type') === -1) this.add('content-type', 'application/octet-stream');
      this.remove('Content-Length');
      this.writeHead();
      // An error mid-stream can only cut the connection: the status has been sent.
      return void pipeline(body, res, () => undefined);
    }
    if (typeof body === 'string') return this.end(body, /^\s*</.test(body) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
    if (Buffer.isBuffer(body)) return this.end(body, 'application/octet-stream');
    // As Koa: a JSON body is application/json whatever type was set before.
    this.set('Content-Type', 'application/json; charset=utf-8');
    this.end(JSON.stringify(body), 'application/json; charset=utf-8');
  }

  /** The stages failed outside their own error handling: a bare 500, never a stack. */
  fail(): void {
    const { res } = this;
    if (res.headersSent) return void res.destroy();
    // Only the request id of what was set: the rest belonged to the reply that failed.
    const at = this.find('X-Request-Id');
    res.writeHead(500, at === -1 ? [] : ['X-Request-Id', this.out[at + 1]]).end();
  }

  private end(body: string | Buffer, type: string): void {
    if (this.find('Content-Type') === -1) this.add('content-type', type);
    this.set('Content-Length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    this.writeHead().end(body);
  }

  /** Writes the status and the headers, then gives the header list back for another reply. */
  private writeHead(): ServerResponse {
    const out = this.out;
    out.length = this.used;
    this.res.writeHead(this.code, out);
    this.out = HEAD_WRITTEN;
    this.used = 0;
    spareLists.give(out);
    return this.res;
  }

  private add(name: string, value: string): void {
    this.out[this.used++] = name;
    this.out[this.used++] = value;
  }

  /** Where a header's name sits in `out`, whatever its letter case; -1 if unset. */
  private find(field: string): number {
    const name = lower(field);
    for (let at = 0; at < this.used; at += 2) if (this.out[at] === name) return at;
    return -1;
  }

  private remove(field: string): void {
    const at = this.find(field);
    if (at === -1) return;
    this.out.splice(at, 2);
    this.used -= 2;
  }
}
