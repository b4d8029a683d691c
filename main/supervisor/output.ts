// Where a child's output goes besides its reader: a bounded ring of recent lines (for
// list() and error reports) and a log file with a size cap (one rotation kept).
import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../config/private-files.js';
import { dirname, join } from 'node:path';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputLine {
  stream: OutputStream;
  line: string;
}

/** Keeps the last `capacity` lines; each line cut at `maxLineChars` so the ring's memory stays bounded. */
export class LineRing {
  private readonly lines: OutputLine[] = [];
  private next = 0;

  constructor(
    private readonly capacity = 200,
    private readonly maxLineChars = 4_096,
  ) {}

  push(entry: OutputLine): void {
    const kept = entry.line.length > this.maxLineChars ? { ...entry, line: entry.line.slice(0, this.maxLineChars) + '…' } : entry;
    if (this.lines.length < this.capacity) this.lines.push(kept);
    else this.lines[this.next] = kept;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The last n lines, oldest first. */
  tail(n = this.capacity): OutputLine[] {
    const ordered = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return n <= 0 ? [] : ordered.slice(-n);
  }

  get size(): number {
    return this.lines.length;
  }
}

/**
 * Appends to `file`; once it reaches `maxBytes` it becomes `file.1` (replacing the older
 * one) and a fresh file starts, so one child never holds more than about 2 × maxBytes on disk.
 * Lines are gathered and written together once per event-loop turn (a chatty child would
 * otherwise cost a syscall a line); close() writes what is left.
 */
export class CappedLogFile {
  private fd: number | null = null;
  private bytes = 0;
  private pending: Buffer[] = [];
  private flushScheduled = false;

  constructor(
    readonly file: string,
    private readonly maxBytes = 5 * 1024 * 1024,
  ) {
    ensurePrivateDir(dirname(file));
    this.fd = openSync(file, 'a', PRIVATE_FILE_MODE);
    this.bytes = statSync(file).size;
  }

  write(text: string): void {
    if (this.fd === null) return;
    const data = Buffer.from(text.endsWith('\n') ? text : text + '\n');
    // A single line larger than the cap is cut so that one file never passes it.
    this.pending.push(data.length > this.maxBytes ? data.subarray(0, this.maxBytes) : data);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.fd === null) return;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const line of this.pending) {
      if (this.bytes + batchBytes + line.length > this.maxBytes) {
        this.writeBatch(batch);
        this.rotate();
        batch = [];
        batchBytes = 0;
      }
      batch.push(line);
      batchBytes += line.length;
    }
    this.writeBatch(batch);
    this.pending = [];
  }

  private writeBatch(batch: Buffer[]): void {
    if (batch.length === 0) return;
    const data = Buffer.concat(batch);
    writeSync(this.fd!, data);
    this.bytes += data.length;
  }

  private rotate(): void {
    closeSync(this.fd!);
    renameSync(this.file, this.file + '.1');
    this.fd = openSync(this.file, 'w', PRIVATE_FILE_MODE);
    this.bytes = 0;
  }
}

/** Splits a byte stream into lines (LF or CRLF); a line longer than maxLineChars is emitted in pieces. */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineChars = 8 * 1024 * 1024,
  ) {}

  push(chunk: Uint8Array): void {
    const decoded = this.decoder.decode(chunk, { stream: true });
    if (!decoded.includes('\n')) {
      this.pending += decoded;
    } else {
      const text = this.pending + decoded;
      let start = 0;
      let newline: number;
      while ((newline = text.indexOf('\n', start)) !== -1) {
        const line = text.slice(start, newline);
        this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
        start = newline + 1;
      }
      this.pending = text.slice(start);
    }
    while (this.pending.length > this.maxLineChars) {
      this.onLine(this.pending.slice(0, this.maxLineChars));
      this.pending = this.pending.slice(this.maxLineChars);
    }
  }

  /** The last line, when the stream ends without a newline. */
  end(): void {
    this.pending += this.decoder.decode();
    if (this.pending.length > 0) this.onLine(this.pending);
    this.pending = '';
  }
}

/** Deletes all but the newest `keep` log files of a directory (each child writes its own). */
export function pruneLogDir(dir: string, keep: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const files = names
    .map((name) => join(dir, name))
    .map((file) => ({ file, mtime: statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of files.slice(keep)) rmSync(file, { force: true });
}
