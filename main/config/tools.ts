// Which tools the machine has, for the /health capabilities (booleans only: no paths).
import { TOOL_NAMES } from '../../shared/names.js';

export type ToolName = (typeof TOOL_NAMES)[number];

const CACHE_MS = 60_000;

export function cachedToolAvailability(probe: (name: ToolName) => Promise<boolean>) {
  let cached: { at: number; value: Promise<Record<ToolName, boolean>> } | null = null;
  return (): Promise<Record<ToolName, boolean>> => {
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      const value = Promise.all(TOOL_NAMES.map(async (name) => [name, await probe(name)] as const)).then(
        (pairs) => Object.fromEntries(pairs) as Record<ToolName, boolean>,
      );
      cached = { at: Date.now(), value };
    }
    return cached.value;
  };
}
