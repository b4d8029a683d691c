// Request bodies: JSON only (multipart only where a route says so), size-capped and
// nesting-capped before parsing, so a hostile body costs little and crashes nothing.
import { AppError, BadRequest, PayloadTooLarge } from '../errors.js';
import type { GatewayContext } from './state.js';

export const JSON_BODY_LIMIT = 1024 * 1024;
const MAX_NESTING = 64;
/** Bodies up to this size are read and dropped after a 413; larger ones close the connection. */
const DRAIN_LIMIT = 32 * 1024 * 1024;

function hasBody(ctx: GatewayContext): boolean {
  const length = ctx.get('Content-Length');
  return Boolean(ctx.get('Transfer-Encoding')) || (length !== '' && length !== '0');
}

/** Refuses bodies that are not what the route takes (415): a page can send text/plain or forms without a preflight. */
export function checkContentType(ctx: GatewayContext, multipart: boolean): void {
  if (!hasBody(ctx)) return;
  const type = ctx.request.type;
  const accepted = type === 'application/json' || (multipart && type === 'multipart/form-data');
  if (!accepted) {
    const wanted = multipart ? 'multipart/form-data or application/json' : 'application/json';
    throw new AppError(415, 'unsupported_media_type', `Send the body as ${wanted}.`);
  }
}

export async function readJsonBody(ctx: GatewayContext, limit = JSON_BODY_LIMIT): Promise<unknown> {
  if (!hasBody(ctx)) return undefined;
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > DRAIN_LIMIT) throw tooLarge(ctx, limit, true);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_LIMIT) throw tooLarge(ctx, limit, true);
    // Past the limit, keep reading but not keeping, so the client gets its 413 cleanly.
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw tooLarge(ctx, limit, false);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  if (nestingDepth(text) > MAX_NESTING) throw new BadRequest(`JSON nested deeper than ${MAX_NESTING} levels.`, undefined, 'json_too_deep');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('The body is not valid JSON.', undefined, 'invalid_json');
  }
}

function tooLarge(ctx: GatewayContext, limit: number, closeConnection: boolean): AppError {
  // A body too large even to drain is not read at all: close the connection instead.
  if (closeConnection) ctx.set('Connection', 'close');
  return new PayloadTooLarge(`The body is larger than ${limit} bytes.`);
}

/** Deepest bracket nesting outside strings, in one pass without recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}
