// The web client's chat (POST /chat, spec §7): one conversation per chatKey and caller on the
// ChatService, streamed as the client's events. The client reads its history from the cloud,
// so each turn is recorded there (`/chat-sessions/turn`, then `/turn/complete`) with the
// client's token, ONLY at the configured API origin: a URL in the body is never contacted.
// Without an origin or a token the turn still runs, kept on this desktop, and says so.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NormalizedEvent } from '../../shared/events.js';
import type { GatewayChatRequest } from '../../shared/schemas/gateway-chat.js';
import { isAppError } from '../errors.js';
import { callCloud, type CloudOutcome } from '../http/cloud-call.js';
import type { ChatKey, ChatService } from './chat-sessions.js';

const CLOUD_TIMEOUT_MS = 15_000;

/** An event as the client reads it: the normalized events, plus `phase`/`code` on errors. */
export type WebChatEvent = { type: string } & Record<string, unknown>;

export interface WebChatTurn extends Pick<GatewayChatRequest, 'chatKey' | 'userMessage' | 'provider' | 'model' | 'context' | 'apiAuthToken'> {
  /** callerKey() of who asks: conversations are per caller. */
  caller: string;
  /** The validated folder a new conversation works in (an existing one keeps its own). */
  cwd: string;
  signal: AbortSignal;
}

export interface WebChatDeps {
  chats: ChatService;
  apiOrigin(): string | undefined;
  /** This desktop's id in the cloud's records (`sourceGatewayId`). */
  gatewayId(): string;
  log: Logger;
}

type Recorder = { token: string; origin: string } | { why: string };

export class WebChat {
  constructor(private readonly deps: WebChatDeps) {}

  async *turn(input: WebChatTurn): AsyncGenerator<WebChatEvent> {
    const key = webChatKey(input.caller, input.chatKey, input.provider);
    // A conversation resumes where it started (the CLI session is bound to its folder).
    const cwd = this.deps.chats.get(key)?.cwd ?? input.cwd;
    yield { type: 'status', status: 'starting', pid: null, mode: 'read' };
    const recorder = this.recorder(input.apiAuthToken);
    if ('why' in recorder) yield { type: 'status', status: 'local_only', pid: null, mode: 'read', message: recorder.why };
    else {
      const upsert = await this.post(recorder, '/chat-sessions/turn', {
        chatKey: input.chatKey, userMessage: input.userMessage, provider: input.provider, model: input.model,
        ...(input.context ? { context: input.context } : {}), sourceGatewayId: this.deps.gatewayId(),
      });
      if (upsert.kind !== 'ok') {
        yield upsertError(upsert);
        yield* ending(false, null);
        return;
      }
      // The cloud's `resumeSessionId` is not adopted: it is per chatKey, not per caller, and a CLI
      // session of another caller on this desktop must never be resumed for this one.
    }

    let events: AsyncIterable<NormalizedEvent>;
    try {
      events = await this.deps.chats.send({
        ...key, cwd, message: input.userMessage.content, model: input.model, signal: input.signal,
        context: input.context ? `Context from the web app:\n${input.context}` : undefined,
        // A conversation about code: it reads where it runs, and changes nothing.
        confinement: { level: 'read', root: cwd },
      });
    } catch (error) {
      yield { type: 'error', phase: 'spawn', code: isAppError(error) ? error.code : 'spawn_failed', message: (error as Error).message };
      yield* ending(false, null);
      return;
    }

    let text = '';
    let sessionId: string | null = null;
    let success = false;
    let recorded = 'why' in recorder;
    try {
      for await (const event of events) {
        if (event.type === 'text') text += event.content;
        if (event.type === 'sessionId') sessionId = event.sessionId;
        if (event.type === 'result') success = event.success;
        if (event.type === 'result' || event.type === 'done') continue;
        yield toClient(event);
      }
      if (!('why' in recorder)) {
        recorded = true;
        const failure = await this.complete(recorder, input, text, sessionId);
        if (failure) yield failure;
      }
      yield* ending(success, sessionId);
    } finally {
      // The reader left mid-turn: the cloud still gets what was said (the local record has it too).
      if (!recorded && !('why' in recorder)) {
        void this.complete(recorder, input, text, sessionId).then((failure) => failure && this.deps.log.warn({ chatKey: input.chatKey, failure }, 'chat turn not recorded in the cloud'));
      }
    }
  }

  private recorder(token: string | undefined): Recorder {
    const origin = this.deps.apiOrigin();
    if (!origin) return { why: 'This chat is kept on this desktop only: no cloud API origin is configured (symphony-gateway config --api-origin URL).' };
    if (!token) return { why: 'This chat is kept on this desktop only: the request carried no apiAuthToken to record it in the cloud with.' };
    return { origin, token };
  }

  /** `/turn/complete` with the assistant's message, tried again once when the cloud fails (5xx, unreachable). */
  private async complete(recorder: { origin: string; token: string }, input: WebChatTurn, text: string, sessionId: string | null): Promise<WebChatEvent | null> {
    const body = {
      chatKey: input.chatKey, provider: input.provider,
      messages: [{ id: `assistant-${randomUUID()}`, role: 'assistant', content: text, timestamp: new Date().toISOString() }],
      // Both set or both null.
      sessionId, sessionSourceId: sessionId === null ? null : this.deps.gatewayId(),
    };
    let outcome = await this.post(recorder, '/chat-sessions/turn/complete', body);
    if (outcome.kind === 'retry') outcome = await this.post(recorder, '/chat-sessions/turn/complete', body);
    if (outcome.kind === 'ok') return null;
    const code = outcome.status === 409 ? 'PROVIDER_MISMATCH' : outcome.status === 401 || outcome.status === 403 ? 'AUTH_EXPIRED' : 'PERSISTENCE_FAILED';
    return { type: 'error', phase: 'complete', code, message: `The reply was not saved in the cloud (${outcome.error}); it is kept on this desktop.` };
  }

  private post(recorder: { origin: string; token: string }, path: string, body: unknown): Promise<CloudOutcome> {
    return callCloud({ origin: recorder.origin, path, token: recorder.token, body, timeoutMs: CLOUD_TIMEOUT_MS });
  }
}

function webChatKey(caller: string, chatKey: string, provider: WebChatTurn['provider']): ChatKey {
  return { caller, kind: 'web', scope: chatKey, provider };
}

function upsertError(outcome: Exclude<CloudOutcome, { kind: 'ok' }>): WebChatEvent {
  if (outcome.kind === 'rejected' && outcome.status === 409) {
    const payload = (outcome.payload ?? {}) as { boundProvider?: unknown; data?: { boundProvider?: unknown } };
    const boundProvider = payload.boundProvider ?? payload.data?.boundProvider;
    return {
      type: 'error', phase: 'upsert', code: 'PROVIDER_MISMATCH', message: `This chat is bound to another provider${typeof boundProvider === 'string' ? ` (${boundProvider})` : ''}: switch to it to continue.`,
      ...(typeof boundProvider === 'string' ? { boundProvider } : {}),
    };
  }
  if (outcome.status === 401 || outcome.status === 403) {
    return { type: 'error', phase: 'upsert', code: 'AUTH_EXPIRED', message: 'The cloud refused the chat token: reload the web app and send the message again.' };
  }
  return { type: 'error', phase: 'upsert', code: 'BACKEND_ERROR', message: `The cloud could not record the message (${outcome.error}); try again.` };
}

function* ending(success: boolean, sessionId: string | null): Generator<WebChatEvent> {
  yield { type: 'result', success, sessionId };
  yield { type: 'done' };
}

/** The client reads a tool result's `id` and `is_error`; ours says `toolUseId` and `isError` (both kept). */
function toClient(event: NormalizedEvent): WebChatEvent {
  if (event.type === 'tool_result') return { ...event, id: event.toolUseId, is_error: event.isError };
  return event;
}
