// Signed commands (spec: original-loop-protocol.md §6): the user's browser signs an intent
// with an Ed25519 key the user trusted on this desktop; the cloud only forwards it. We check
// the key, the signature, freshness, the nonce, that the signed method/path/query are the
// command's, that the body hash covers what is sent, and (unlike the original) that what
// will run is what was signed: a kill's loop id, a launch's command, prompt and repository.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isOperationId, matchRouteEntry } from '../../shared/operations.js';
import type { DesktopCommand } from './protocol.js';
import { commandQueryPairs } from './replay.js';
import type { TrustedKeys } from './trusted-keys.js';

export { TrustedKeys, fingerprintOf, type TrustedKey } from './trusted-keys.js';

const MAX_AGE_S = 45;
const MAX_FUTURE_S = 5;
const LOOP_OPERATIONS = new Set(['symphony_loop', 'symphony_loop_kill', 'symphony_plan_loop']);

/** Keys sorted at every level, null and undefined as null: the same bytes on both sides. */
export function stableStringify(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export const bodyHash = (intent: unknown) => createHash('sha256').update(stableStringify(intent)).digest('base64url');

const SignedPayload = z.object({
  commandId: z.string(),
  method: z.string(),
  path: z.string(),
  query: z.array(z.tuple([z.string(), z.string()])).default([]),
  bodyHash: z.string(),
  timestamp: z.number(),
  nonce: z.string().min(8).max(200),
});

function keyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export interface VerifierOptions {
  keys: Pick<TrustedKeys, 'list' | 'find'>;
  /** Loop and write operations need a valid signature. */
  required(): boolean;
  now?: () => number;
}

const fail = (why: string) => `unauthorized: ${why}`;

/** Does this command need a signature when signatures are required? */
export function needsSignature(command: DesktopCommand): boolean {
  if (LOOP_OPERATIONS.has(command.operationId)) return true;
  const entry = matchRouteEntry(command.method, command.path.split('?')[0]);
  return !entry || !isOperationId(entry.kind) || entry.access === 'write';
}

/** A launch that is only `{loopId, userIntent}`: its loop body is fetched from the cloud (credentials.ts). */
export function isIntentOnlyLaunch(command: DesktopCommand): boolean {
  const body = command.body;
  if (command.operationId !== 'symphony_loop' || !body || typeof body !== 'object' || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  return keys.includes('userIntent') && keys.every((key) => key === 'loopId' || key === 'userIntent');
}

/** What a signed loop command's body must agree with: the intent the user signed. */
export function intentMismatch(operationId: string, body: Record<string, unknown>, intent: Record<string, unknown>): string | null {
  if (operationId === 'symphony_loop_kill') {
    return body.loopId === intent.loopId ? null : 'the loop id to kill is not the signed one';
  }
  if (operationId !== 'symphony_loop') return null;
  const same = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);
  if (intent.command !== undefined && body.command !== intent.command) return 'the loop command is not the signed one';
  if (intent.prompt !== undefined && intent.prompt !== null && body.prompt !== intent.prompt) return 'the prompt is not the signed one';
  const repo = (value: unknown) => (value && typeof value === 'object' ? (value as { fullName?: unknown }).fullName ?? null : null);
  if (intent.repo !== undefined && intent.repo !== null && repo(body.repo) !== repo(intent.repo)) return 'the repository is not the signed one';
  if (intent.additionalRepos !== undefined) {
    const names = (list: unknown) => (Array.isArray(list) ? list.map(repo).sort() : []);
    if (!same(names(body.additionalRepos), names(intent.additionalRepos))) return 'the additional repositories are not the signed ones';
  }
  return null;
}

export class CommandSignatures {
  private readonly seenNonces = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The failed-ack reason, or null when the command may run. */
  check(command: DesktopCommand): string | null {
    if (!command.signature) {
      return this.options.required() && needsSignature(command) ? fail('unsigned command') : null;
    }
    if (this.options.keys.list().length === 0) return fail('no keys authorized');
    const key = command.publicKeyFingerprint ? this.options.keys.find(command.publicKeyFingerprint) : undefined;
    if (!key) return fail('unknown signing key');
    const payloadText = command.signaturePayload ?? '';
    let valid = false;
    try {
      valid = verify(null, Buffer.from(payloadText, 'utf8'), keyObject(Buffer.from(key.publicKey, 'base64url')), Buffer.from(command.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) return fail('invalid signature');
    let payload: z.infer<typeof SignedPayload>;
    try {
      payload = SignedPayload.parse(JSON.parse(payloadText));
    } catch {
      return fail('payload_mismatch');
    }
    const nowS = this.now() / 1000;
    if (payload.timestamp < nowS - MAX_AGE_S || payload.timestamp > nowS + MAX_FUTURE_S || this.seenNonces.has(payload.nonce)) {
      return fail('stale or replayed command');
    }
    if (payload.commandId !== command.commandId || payload.method.toUpperCase() !== command.method.toUpperCase() || payload.path !== command.path.split('?')[0]) {
      return fail('payload_mismatch');
    }
    if (stableStringify(sortedPairs(payload.query)) !== stableStringify(sortedPairs(commandQueryPairs(command)))) return fail('payload_mismatch');
    const body = command.body && typeof command.body === 'object' ? (command.body as Record<string, unknown>) : {};
    const intent = LOOP_OPERATIONS.has(command.operationId) && body.userIntent && typeof body.userIntent === 'object' ? (body.userIntent as Record<string, unknown>) : null;
    if (payload.bodyHash !== bodyHash(intent ?? command.body ?? null)) return fail('payload_mismatch');
    // A launch as `{loopId, userIntent}` has no body of its own yet: it is compared once fetched (credentials.ts).
    if (intent && !isIntentOnlyLaunch(command)) {
      const mismatch = intentMismatch(command.operationId, body, intent);
      if (mismatch) return fail(`payload_mismatch: ${mismatch}`);
    }
    this.remember(payload.nonce);
    return null;
  }

  private remember(nonce: string): void {
    const cutoff = this.now() - (MAX_AGE_S + MAX_FUTURE_S) * 1000;
    for (const [seen, at] of this.seenNonces) if (at < cutoff) this.seenNonces.delete(seen);
    this.seenNonces.set(nonce, this.now());
  }
}

const sortedPairs = (pairs: Array<[string, string]>) => [...pairs].sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0].localeCompare(b[0])));
