// A signed loop launch arrives as `{loopId, userIntent}` (spec: original-loop-protocol.md §6):
// the loop body itself (token, artifacts, repository) is fetched from the cloud's
// `execution-credentials` endpoint, only at the configured API origin, with the desktop API
// key. Unlike the original, the fetched body must be what the user signed: the same loop id,
// and the command, prompt and repositories of the signed intent; else nothing runs.
import { LoopBody } from '../../shared/schemas/loops.js';
import type { DesktopCommand } from './protocol.js';
import { intentMismatch, isIntentOnlyLaunch } from './signatures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FETCH_TIMEOUT_MS = 30_000;

export class PreparationFailed extends Error {}

export interface ExecutionCredentialsOptions {
  apiOrigin(): string | undefined;
  apiKey(): Promise<string | null>;
  computeTargetId(): string | null;
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
    const url = new URL(`/compute-targets/${encodeURIComponent(computeTargetId)}/loops/${outer.loopId}/execution-credentials`, origin);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ commandId: command.commandId }),
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? FETCH_TIMEOUT_MS), ...(signal ? [signal] : [])]),
      });
    } catch (error) {
      throw new PreparationFailed(`execution-credentials: the cloud is unreachable: ${(error as Error).message}`);
    }
    const payload = (await response.json().catch(() => null)) as { success?: boolean; data?: unknown; error?: unknown } | null;
    if (!response.ok || payload?.success === false) {
      throw new PreparationFailed(`execution-credentials: the cloud answered ${response.status}${typeof payload?.error === 'string' ? `: ${payload.error}` : ''}`);
    }
    const parsed = LoopBody.safeParse(payload && 'data' in payload ? payload.data : payload);
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
