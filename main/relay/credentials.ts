// A signed loop launch arrives as `{loopId, userIntent}` (spec: original-loop-protocol.md §6):
// the loop body itself (token, artifacts, repository) is fetched from the cloud's
// `execution-credentials` endpoint, only at the configured API origin, with the desktop API
// key and the gateway's PoP (main/relay/device-identity.ts). Unlike the original, the fetched body must be what the user signed: the same loop id,
// and the command, prompt and repositories of the signed intent; else nothing runs.
import { LoopBody } from '../../shared/schemas/loops.js';
import { callCloud, type PopSigner } from '../http/cloud-call.js';
import type { DesktopCommand } from './protocol.js';
import { intentMismatch, isIntentOnlyLaunch } from './signatures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FETCH_TIMEOUT_MS = 30_000;

export class PreparationFailed extends Error {}

export interface ExecutionCredentialsOptions {
  apiOrigin(): string | undefined;
  apiKey(): Promise<string | null>;
  computeTargetId(): string | null;
  /** The gateway's proof of possession: the cloud requires it with the managed key. */
  pop?: PopSigner;
  timeoutMs?: number;
}

/** A signed `{loopId, userIntent}` and nothing else: the body comes from the cloud. */
export function isSignedLaunch(command: DesktopCommand): boolean {
  return Boolean(command.signature) && isIntentOnlyLaunch(command);
}

export class ExecutionCredentials {
  constructor(private readonly options: ExecutionCredentialsOptions) {}

  /** The command to replay: a signed launch with its fetched, checked body; any other command as it came. */
  async prepare(command: DesktopCommand, signal?: AbortSignal): Promise<DesktopCommand> {
    if (!isSignedLaunch(command)) return command;
    const outer = command.body as { loopId?: unknown; userIntent: Record<string, unknown> };
    if (typeof outer.loopId !== 'string' || !UUID.test(outer.loopId)) throw new PreparationFailed('a signed launch needs loopId as a UUID');
    const origin = this.options.apiOrigin();
    const computeTargetId = this.options.computeTargetId();
    const apiKey = await this.options.apiKey();
    if (!origin || !computeTargetId || !apiKey) throw new PreparationFailed('execution-credentials: no API origin, compute target or desktop API key is configured');
    const outcome = await callCloud({
      origin, path: `/compute-targets/${encodeURIComponent(computeTargetId)}/loops/${outer.loopId}/execution-credentials`, token: apiKey,
      body: { commandId: command.commandId }, timeoutMs: this.options.timeoutMs ?? FETCH_TIMEOUT_MS, signal, pop: this.options.pop,
    });
    if (outcome.kind !== 'ok') {
      throw new PreparationFailed(outcome.status === null ? `execution-credentials: ${outcome.error}` : `execution-credentials: the cloud answered ${outcome.status}: ${outcome.error}`);
    }
    const parsed = LoopBody.safeParse(outcome.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PreparationFailed(`execution-credentials: the loop body is invalid: ${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const body = parsed.data;
    if (body.loopId !== outer.loopId) throw new PreparationFailed('unauthorized: payload_mismatch: the fetched loop is not the signed one');
    const mismatch = intentMismatch('symphony_loop', body as unknown as Record<string, unknown>, outer.userIntent);
    if (mismatch) throw new PreparationFailed(`unauthorized: payload_mismatch: ${mismatch}`);
    return { ...command, body };
  }
}
