// `symphony-gateway logs`: the gateway's JSON log lines for a person, and following the
// current file across rotations (it is renamed to gateway.log.1 and a new one begins).
import { open, stat, type FileHandle } from 'node:fs/promises';
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

interface Followed {
  handle: FileHandle;
  ino: number;
  position: number;
}

async function openFollowed(file: string, from: 'start' | 'end'): Promise<Followed | null> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return null;
  const info = await handle.stat();
  return { handle, ino: info.ino, position: from === 'end' ? info.size : 0 };
}

/**
 * Calls `onLine` for every line appended to `file` from now until `signal` aborts. The file
 * is followed by its open handle, not its name: at a rotation (the name now points at a new
 * file) what was written to the old one before it was renamed is read to its end first, then
 * the new file from its start, so no line is lost between two polls.
 */
export async function followLogFile(file: string, onLine: (line: string) => void, signal: AbortSignal, pollMs = 250): Promise<void> {
  let current = await openFollowed(file, 'end');
  let partial = '';
  const drain = async (followed: Followed) => {
    // Smaller than what we read: truncated in place; read it again from its start.
    if ((await followed.handle.stat()).size < followed.position) followed.position = 0;
    for (;;) {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await followed.handle.read(buffer, 0, buffer.length, followed.position);
      if (bytesRead === 0) return;
      followed.position += bytesRead;
      const lines = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    }
  };
  try {
    while (!signal.aborted) {
      if (!current) {
        // No file when we started (or it went away): the next one is new, read from its start.
        current = await openFollowed(file, 'start');
      }
      if (current) {
        // Which file the name is now, taken BEFORE draining: whatever the old one got until its rename is read below.
        const named = await stat(file).catch(() => null);
        await drain(current);
        if (!named || named.ino !== current.ino) {
          if (partial) onLine(partial);
          partial = '';
          await current.handle.close();
          current = named ? await openFollowed(file, 'start') : null;
          if (current) await drain(current);
        }
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    await current?.handle.close();
  }
}
