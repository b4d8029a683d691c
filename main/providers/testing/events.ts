// Reading a provider turn's normalized events in tests.
import type { NormalizedEvent } from '../../../shared/events.js';
import type { Turn } from '../types.js';

export async function collect(turn: Turn): Promise<NormalizedEvent[]> {
  const events: NormalizedEvent[] = [];
  for await (const event of turn.events) events.push(event);
  return events;
}

/** The text deltas of a turn, joined. */
export const text = (events: NormalizedEvent[]) =>
  events.flatMap((event) => (event.type === 'text' ? [event.content] : [])).join('');

export const ofType = <T extends NormalizedEvent['type']>(events: NormalizedEvent[], type: T) =>
  events.filter((event): event is Extract<NormalizedEvent, { type: T }> => event.type === type);
