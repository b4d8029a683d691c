// Request bodies: JSON only (multipart only where a route says so). JSON is parsed by
// koa-body (its size limit and strict mode: objects and arrays only); around it, our 415
// rule, the one body-size limiter (main/http/body-limit.ts), a deadline for the body to
// arrive, and a nesting cap checked on the parsed value without recursion.
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { AppError, BadRequest, PayloadTooLarge } from '../errors.js';
import { declaredTooLarge, watchBodySize } from '../http/body-limit.js';
import type { GatewayContext } from './state.js';

export const JSON_BODY_LIMIT = 1024 * 1024;
const MAX_NESTING = 64;
/** A JSON body must have arrived within this time of its headers. */
export const BODY_READ_TIMEOUT_MS = 30_000;

/** From the request's headers alone, before anything reads it. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return Boolean(req.headers['transfer-encoding']) || (length !== undefined && length !== '' && length !== '0');
}

/** Refuses bodies that are not what the route takes (415): a page can send text/plain or forms without a preflight. */
export function checkContentType(ctx: GatewayContext, multipart: boolean): void {
  if (!hasBody(ctx.req)) return;
  const type = ctx.request.type;
  const accepted = type === 'application/json' || (multipart && type === 'multipart/form-data');
  if (!accepted) {
    const wanted = multipart ? 'multipart/form-data or application/json' : 'application/json';
    throw new AppError(415, 'unsupported_media_type', `Send the body as ${wanted}.`);
  }
}

/**
 * koa-body (with formidable) takes ~250 ms to load: it is loaded once the gateway listens
 * (warmBodyParser) or on the first body, whichever comes first, not before the port opens.
 */
let parser: Promise<Middleware> | null = null;

export function warmBodyParser(): Promise<Middleware> {
  return (parser ??= import('koa-body').then(({ koaBody }) => koaBody(PARSER_OPTIONS) as unknown as Middleware));
}

const PARSER_OPTIONS = {
  json: true,
  jsonLimit: JSON_BODY_LIMIT,
  jsonStrict: true,
  urlencoded: false,
  text: false,
  multipart: false,
  patchNode: false,
  patchKoa: true,
  parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] as never,
  onError: (error: Error) => {
    throw mapParseError(error);
  },
};

/** koa-body's (co-body's) errors in our envelope. */
function mapParseError(error: Error): AppError {
  const status = (error as { status?: number }).status;
  if (status === 413) return new PayloadTooLarge(`The body is larger than ${JSON_BODY_LIMIT} bytes.`);
  if (status === 400 && (error as { type?: string }).type !== 'entity.parse.failed' && !(error instanceof SyntaxError)) {
    return new BadRequest('The body could not be read.', undefined, 'invalid_body');
  }
  return new BadRequest('The body is not valid JSON (an object or an array).', undefined, 'invalid_json');
}

export async function readJsonBody(ctx: GatewayContext, deadlineMs = BODY_READ_TIMEOUT_MS): Promise<unknown> {
  if (!hasBody(ctx.req)) return undefined;
  // Before anything listens to the request stream: no byte may flow past the parser.
  const parseJson = await warmBodyParser();
  if (declaredTooLarge(ctx.req, JSON_BODY_LIMIT)) throw closing(ctx, new PayloadTooLarge(`The body is larger than ${JSON_BODY_LIMIT} bytes.`));
  const stopWatching = watchBodySize(ctx.req, { cap: JSON_BODY_LIMIT, onTooLargeToDrain: () => ctx.req.socket.destroy() });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(closing(ctx, new AppError(408, 'body_timeout', `The body did not arrive within ${Math.round(deadlineMs / 1000)} s.`))), deadlineMs);
  });
  const parsing = parseJson(ctx as never, async () => undefined);
  // After a deadline the parser may still fail when the connection closes: nobody waits for it.
  parsing.catch(() => undefined);
  try {
    await Promise.race([parsing, deadline]);
  } catch (error) {
    // Past the limit, keep reading and dropping (up to the drain limit), so the client reads its 413.
    if ((error as AppError).status === 413) ctx.req.resume();
    else stopWatching();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  stopWatching();
  const body = (ctx.request as { body?: unknown }).body;
  if (nestingDepth(body) > MAX_NESTING) throw new BadRequest(`JSON nested deeper than ${MAX_NESTING} levels.`, undefined, 'json_too_deep');
  return body;
}

function closing(ctx: GatewayContext, error: AppError): AppError {
  ctx.set('Connection', 'close');
  return error;
}

/** Deepest nesting of arrays and objects in a parsed value, walked with a stack (no recursion). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > MAX_NESTING) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
  return deepest;
}
