// The gateway's own JSON log on disk, as VS Code keeps one per window: <dataDir>/logs/gateway.log,
// rotated by size (gateway.log.1 is the previous one, up to KEEP of them), 0600 in a 0700
// folder. `serve` and the app both write here; `symphony-gateway logs` reads it back.
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenIfPresent } from '../config/private-files.js';

const FILE_NAME = 'gateway.log';
/** Rotate at this size; with KEEP rotated files the log holds at most ~60 MB. */
const MAX_SIZE = '10M';
const KEEP = 5;

export const logDir = (dataDir: string): string => join(dataDir, 'logs');
/** The file being written now. */
export const logFilePath = (dataDir: string): string => join(logDir(dataDir), FILE_NAME);

/**
 * A log destination that also takes bytes: the request line (request-log.ts) is encoded once
 * into a reused buffer and handed to every destination as is, with no string per line.
 */
export interface ByteDestination extends DestinationStream {
  writeBytes(bytes: Uint8Array, length: number): void;
}

export interface GatewayLogOptions {
  dataDir: string;
  level: string;
  /** Also write every line here (serve: stderr, for a person or a service manager; see fdDestination). */
  tee?: DestinationStream | ByteDestination;
  /** Rotation size (`10M`; tests use bytes: `2K`) and how many rotated files to keep. */
  maxSize?: string;
  keep?: number;
}

export interface GatewayLog {
  log: Logger;
  /** The file the log is written to (named in error replies that say "see the log"). */
  file: string;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** How long a full pipe (a slow reader of stderr) may hold a line up before it is dropped there. */
const BUSY_RETRY_MS = 10;
const BUSY_RETRIES = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes to a file descriptor synchronously: each line is one write(2) of its bytes, in
 * order, with no buffer or promise of its own (pino's sonic-boom copies each string line
 * into a new Buffer after writing it). A full non-blocking pipe is retried for up to a second.
 */
export function fdDestination(fd: number): ByteDestination {
  return {
    write(line: string): void {
      // Whole, the common case: no Buffer made. What a full pipe left goes on from the bytes.
      let written = 0;
      try {
        written = writeSync(fd, line);
      } catch (error) {
        if (!busy(error)) throw error;
      }
      if (written < Buffer.byteLength(line)) {
        const rest = Buffer.from(line).subarray(written);
        this.writeBytes(rest, rest.length);
      }
    },
    writeBytes(bytes: Uint8Array, length: number): void {
      let offset = 0;
      let retries = 0;
      while (offset < length) {
        try {
          offset += writeSync(fd, bytes, offset, length - offset);
        } catch (error) {
          if (!busy(error) || ++retries > BUSY_RETRIES) throw error;
          Atomics.wait(pause, 0, 0, BUSY_RETRY_MS);
        }
      }
    },
  };
}

const busy = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EBUSY';
};

export function openGatewayLog(options: GatewayLogOptions): GatewayLog {
  const dir = logDir(options.dataDir);
  ensurePrivateDir(dir);
  const keep = options.keep ?? KEEP;
  for (const name of [FILE_NAME, ...Array.from({ length: keep }, (_, i) => `${FILE_NAME}.${i + 1}`)]) tightenIfPresent(join(dir, name));
  const path = logFilePath(options.dataDir);
  const maxBytes = parseSize(options.maxSize ?? MAX_SIZE);
  // Opened here, 0600, so the file exists (and is private) before the first line arrives.
  // Synchronous writes: no backlog. Asynchronous, a backlog built up under load landed in the
  // next file after a rotation, past the cap (the rotation test caught 5.9 KB in a 2 KB file at load ~8).
  let fd = openSync(path, 'a', PRIVATE_FILE_MODE);
  let file = fdDestination(fd);
  const tee = options.tee;
  let failed = false;
  // A disk that fills up must not take the gateway down: the tee (stderr) still has the lines.
  const fileFailed = (error: unknown) => {
    if (failed) return;
    failed = true;
    if (!teeBroken) toTee(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'log file write failed', err: String(error) })}\n`);
  };
  let written = statSync(path).size;
  let closed = false;
  // After each line in the file: rotate once it reached the cap.
  const wrote = (length: number) => {
    failed = false;
    written += length;
    if (written < maxBytes) return;
    closeSync(fd);
    rotate(dir, keep);
    file = fdDestination((fd = openSync(path, 'a', PRIVATE_FILE_MODE)));
    written = 0;
  };
  // The tee is a copy for a person: one that fails (stderr closed: EPIPE) is dropped, as pino's own destination drops it.
  let teeBroken = !tee;
  const teeFailed = () => void (teeBroken = true);
  const toTee = (line: string) => {
    try {
      tee!.write(line);
    } catch {
      teeFailed();
    }
  };
  const bytesToTee = (bytes: Uint8Array, length: number) => {
    try {
      if ('writeBytes' in tee!) tee.writeBytes(bytes, length);
      else tee!.write(Buffer.from(bytes.buffer, bytes.byteOffset, length).toString());
    } catch {
      teeFailed();
    }
  };
  // One plain object, for pino's lines and the request line (request-log.ts). A line after
  // close (a late rejection at shutdown) is the tee's alone.
  const destination: ByteDestination = {
    write(line: string): void {
      if (!teeBroken) toTee(line);
      if (closed) return;
      try {
        file.write(line);
      } catch (error) {
        return fileFailed(error);
      }
      // Characters, not bytes: the cap is approximate for non-ASCII lines, and costs nothing.
      wrote(line.length);
    },
    writeBytes(bytes: Uint8Array, length: number): void {
      if (!teeBroken) bytesToTee(bytes, length);
      if (closed) return;
      try {
        file.writeBytes(bytes, length);
      } catch (error) {
        return fileFailed(error);
      }
      wrote(length);
    },
  };
  return {
    log: pino({ level: options.level }, destination),
    file: path,
    close: async () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** gateway.log becomes gateway.log.1, .1 becomes .2, ..., the oldest beyond `keep` goes. */
function rotate(dir: string, keep: number): void {
  for (let i = keep; i >= 1; i--) {
    const from = join(dir, i === 1 ? FILE_NAME : `${FILE_NAME}.${i - 1}`);
    if (existsSync(from)) renameSync(from, join(dir, `${FILE_NAME}.${i}`));
  }
  // The new file exists at once (0600): a second rotation before the reopen lands finds it.
  closeSync(openSync(join(dir, FILE_NAME), 'a', PRIVATE_FILE_MODE));
}

/** `10M`, `2K`, `512` (bytes). */
function parseSize(size: string): number {
  const match = /^(\d+)([KMG]?)$/i.exec(size.trim());
  if (!match) throw new Error(`Not a log size: ${size} (e.g. 10M, 512K).`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * unit;
}

/** The log files oldest first (rotated ones, then the current), as they exist now. */
export function logFiles(dataDir: string, keep = KEEP): string[] {
  const dir = logDir(dataDir);
  const rotated = Array.from({ length: keep }, (_, i) => join(dir, `${FILE_NAME}.${keep - i}`));
  return [...rotated, logFilePath(dataDir)].filter((file) => existsSync(file));
}

/** The last `lines` lines across the files, oldest first. */
export function tailLogFiles(dataDir: string, lines: number): string[] {
  const out: string[] = [];
  for (const file of logFiles(dataDir).reverse()) {
    const text = readFileSync(file, 'utf8');
    const fileLines = text.split('\n').filter(Boolean);
    out.unshift(...fileLines.slice(Math.max(0, fileLines.length - (lines - out.length))));
    if (out.length >= lines) break;
  }
  return out;
}
