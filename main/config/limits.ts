// Caps the user sets for what remote callers can make the desktop do (setting `agentLimits`):
// agent processes one paired origin may have at once (providers/agent-slots.ts), and how
// much the run viewer keeps of uploaded runs (files/run-archive.ts). Read at each use.
import { AppError } from '../errors.js';
import { DEFAULT_CONCURRENT_AGENTS } from '../providers/agent-slots.js';

export const LIMITS_SETTING = 'agentLimits';

export interface Limits {
  /** Agent processes one remote caller (a paired origin, the relay) may have at once; more wait in a queue. */
  concurrentAgents: number;
  /** All unpacked run-viewer uploads together, in GiB: beyond it the oldest are removed. */
  runViewerMaxGiB: number;
  /** A run-viewer upload older than this many days is removed at the next upload. */
  runViewerMaxAgeDays: number;
}

export const DEFAULT_LIMITS: Limits = { concurrentAgents: DEFAULT_CONCURRENT_AGENTS, runViewerMaxGiB: 5, runViewerMaxAgeDays: 7 };

/** Each limit's allowed range (the settings route, the CLI and the screen say the same). */
export const LIMIT_RANGES: Record<keyof Limits, { min: number; max: number; integer: boolean }> = {
  concurrentAgents: { min: 1, max: 64, integer: true },
  runViewerMaxGiB: { min: 0.1, max: 1024, integer: false },
  runViewerMaxAgeDays: { min: 1, max: 365, integer: true },
};

export function readLimits(settings: { get<T>(key: string): T | undefined }): Limits {
  return { ...DEFAULT_LIMITS, ...settings.get<Partial<Limits>>(LIMITS_SETTING) };
}

/** Throws a 400 naming each value out of its range; returns the limits as they would be stored. */
export function checkLimits(current: Limits, patch: Partial<Limits>): Limits {
  const issues = (Object.entries(patch) as Array<[keyof Limits, number | undefined]>).flatMap(([name, value]) => {
    const range = LIMIT_RANGES[name];
    if (value === undefined) return [];
    if (!range) return [{ field: `limits.${name}`, message: 'unknown limit' }];
    if (!Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
      return [{ field: `limits.${name}`, message: `must be ${range.integer ? 'a whole number ' : ''}from ${range.min} to ${range.max}` }];
    }
    return [];
  });
  if (issues.length) throw new AppError(400, 'invalid_input', issues.map((issue) => `${issue.field} ${issue.message}`).join('; '), { issues });
  return { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) };
}
