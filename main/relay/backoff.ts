// Capped exponential backoff with jitter: attempt n waits a random time between half and
// all of min(cap, base * 2^n), so a fleet of desktops does not reconnect in lockstep.
export interface Backoff {
  baseMs: number;
  capMs: number;
}

export function backoffDelay(attempt: number, { baseMs, capMs }: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
