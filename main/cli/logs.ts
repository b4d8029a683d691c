// `symphony-gateway logs`: the gateway's JSON log lines for a person, and following the
// current file across rotations (it is renamed to gateway.log.1 and a new one begins).
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** `2026-12-01T12:00:00.000Z INFO  request {"operation":...}`; a line that is not JSON as it is. */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : '';
  const level = (LEVELS[entry.level as number] ?? String(entry.level ?? '')).padEnd(5);
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => !HIDDEN.has(key)));
  return `${time} ${level} ${String(entry.msg ?? '')}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`;
}

/** Calls `onLine` for every line appended to `file` from now until `signal` aborts. */
export async function followLogFile(file: string, onLine: (line: string) => void, signal: AbortSignal, pollMs = 250): Promise<void> {
  let position = await stat(file).then((s) => s.size, () => 0);
  let partial = '';
  while (!signal.aborted) {
    const size = await stat(file).then((s) => s.size, () => 0);
    // Smaller than what we read: rotated (or truncated); the new file is read from its start.
    if (size < position) position = 0;
    if (size > position) {
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - position);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        position += bytesRead;
        const lines = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) onLine(line);
      } finally {
        await handle.close();
      }
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}
