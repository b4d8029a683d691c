// Which tools the machine has, for the /health capabilities (booleans only: no paths).
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { TOOL_NAMES } from '../../shared/schemas/gateway.js';

export type ToolName = (typeof TOOL_NAMES)[number];

const CACHE_MS = 60_000;

async function onPath(name: string): Promise<boolean> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? [`${name}.exe`, `${name}.cmd`] : [name];
  for (const dir of dirs) {
    for (const file of names) {
      try {
        await access(join(dir, file), constants.X_OK);
        return true;
      } catch {
        // not in this directory
      }
    }
  }
  return false;
}

export function cachedToolAvailability(probe: (name: ToolName) => Promise<boolean> = onPath) {
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
