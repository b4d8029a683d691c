// A run's event log: one JSON object a line in <work folder>/events.jsonl, appended by
// the run host (and by the gateway for what it does to a run: launch, kill, interrupt),
// read back by the logs route, and followed live by offset (the file only grows).
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

export const EVENTS_FILE = 'events.jsonl';

export interface RunEvent {
  ts: string;
  runId: string;
  iteration: number;
  type: string;
  [key: string]: unknown;
}

const TEXT_FLUSH_MS = 250;
const TEXT_FLUSH_CHARS = 4_000;

export function eventsFile(workDir: string): string {
  return path.join(workDir, EVENTS_FILE);
}

/** Appends events; text/thinking deltas are merged into one line per burst so the log stays readable. */
export class RunLogWriter {
  private pending: { type: 'text' | 'thinking'; iteration: number; content: string } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string,
    private readonly runId: string,
  ) {}

  write(iteration: number, type: string, fields: Record<string, unknown> = {}): void {
    if (type === 'text' || type === 'thinking') {
      const content = String(fields.content ?? '');
      if (this.pending && (this.pending.type !== type || this.pending.iteration !== iteration)) this.flush();
      this.pending ??= { type, iteration, content: '' };
      this.pending.content += content;
      if (this.pending.content.length >= TEXT_FLUSH_CHARS) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), TEXT_FLUSH_MS);
      return;
    }
    this.flush();
    this.append({ ts: new Date().toISOString(), runId: this.runId, iteration, type, ...fields });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending;
    this.pending = null;
    if (pending?.content) this.append({ ts: new Date().toISOString(), runId: this.runId, iteration: pending.iteration, type: pending.type, content: pending.content });
  }

  private append(event: RunEvent): void {
    try {
      appendFileSync(this.file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    } catch {
      // The work folder is gone (pruned) or the disk is full: the run's state is in SQLite.
    }
  }
}

/** Appends one event at once (for the gateway's own entries). */
export function appendRunEvent(workDir: string, runId: string, iteration: number, type: string, fields: Record<string, unknown> = {}): void {
  const writer = new RunLogWriter(eventsFile(workDir), runId);
  writer.write(iteration, type, fields);
}

export interface LogTail {
  exists: boolean;
  lines: string[];
  totalLines: number;
}

/** The last `count` lines of the log. */
export function readLogTail(workDir: string, count: number): LogTail {
  const file = eventsFile(workDir);
  if (!existsSync(file)) return { exists: false, lines: [], totalLines: 0 };
  const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { exists: true, lines: all.slice(Math.max(0, all.length - count)), totalLines: all.length };
}

/**
 * Follows the log from `offset` (bytes): yields each complete new line parsed, polling
 * the file, until `stop()` says the run is over (after a last read) or `signal` aborts.
 */
export async function* followLog(
  workDir: string,
  options: { offset: number; signal: AbortSignal; stop: () => boolean; pollMs?: number },
): AsyncGenerator<RunEvent> {
  const file = eventsFile(workDir);
  let offset = options.offset;
  let rest = '';
  const pollMs = options.pollMs ?? 200;
  while (!options.signal.aborted) {
    const finished = options.stop();
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size > offset) {
      const chunk = readRange(file, offset, size);
      offset = size;
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        try {
          yield JSON.parse(line) as RunEvent;
        } catch {
          // A line cut by a crash mid-write: skip it.
        }
      }
      continue;
    }
    if (finished) return;
    await sleep(pollMs, options.signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function logSize(workDir: string): number {
  const file = eventsFile(workDir);
  return existsSync(file) ? statSync(file).size : 0;
}

function readRange(file: string, start: number, end: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
