// An in-process provider for tests and benchmarks: no child, no model, the same event
// sequence a real turn produces, as fast as the consumer reads (or paced). Tests and
// benches register it; production never does, so `fake` is not a shipped ProviderId.
import { randomUUID } from 'node:crypto';
import type { NormalizedEvent } from '../../../shared/events.js';
import type { Provider, ProviderId, Turn, TurnOptions } from '../types.js';
import { isReadOnly } from '../confinement.js';

export interface FakeProviderOptions {
  /** Text deltas per turn. */
  deltas?: number;
  /** Pause between deltas (0: only yield to the event loop). */
  intervalMs?: number;
}

/** The id tests register the fake under (`@fake hi` in a chat picks it); not a shipped agent. */
export const FAKE_PROVIDER_ID = 'fake' as string as ProviderId;

export class FakeProvider implements Provider {
  readonly id = FAKE_PROVIDER_ID;

  constructor(private readonly options: FakeProviderOptions = {}) {}

  async startTurn(turnOptions: TurnOptions): Promise<Turn> {
    const { deltas = 20, intervalMs = 0 } = this.options;
    let killed = false;
    const stop = () => {
      killed = true;
    };
    turnOptions.signal.addEventListener('abort', stop, { once: true });
    const mode = isReadOnly(turnOptions.confinement) ? 'read-only' : (turnOptions.permissionMode ?? 'default');
    async function* events(): AsyncGenerator<NormalizedEvent> {
      try {
        yield { type: 'status', status: turnOptions.resumeSessionId ? 'resumed' : 'started', pid: null, mode };
        yield { type: 'sessionId', sessionId: turnOptions.resumeSessionId ?? randomUUID() };
        for (let i = 0; i < deltas && !killed; i++) {
          await new Promise((resolve) => (intervalMs ? setTimeout(resolve, intervalMs) : setImmediate(resolve)));
          // The send time rides along, so a benchmark can measure what the gateway adds.
          yield { type: 'text', content: `${i} ${performance.timeOrigin + performance.now()}\n` };
        }
        if (killed) {
          yield { type: 'status', status: 'killed', pid: null, mode };
          yield { type: 'result', success: false, reason: 'killed' };
        } else {
          yield { type: 'usage', inputTokens: turnOptions.prompt.length, outputTokens: deltas };
          yield { type: 'result', success: true };
        }
        yield { type: 'done' };
      } finally {
        turnOptions.signal.removeEventListener('abort', stop);
      }
    }
    return { events: events(), pid: null, kill: async () => stop() };
  }
}
