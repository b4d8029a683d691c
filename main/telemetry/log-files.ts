// The gateway's own JSON log on disk, as VS Code keeps one per window: <dataDir>/logs/gateway.log,
// rotated by size (gateway.log.1 is the previous one, up to KEEP of them), 0600 in a 0700
// folder. `serve` and the app both write here; `symphony-gateway logs` reads it back.
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
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

export interface GatewayLogOptions {
  dataDir: string;
  level: string;
  /** Also write every line here (serve: stderr, for a person or a service manager). */
  tee?: DestinationStream;
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

export function openGatewayLog(options: GatewayLogOptions): GatewayLog {
  const dir = logDir(options.dataDir);
  ensurePrivateDir(dir);
  const keep = options.keep ?? KEEP;
  for (const name of [FILE_NAME, ...Array.from({ length: keep }, (_, i) => `${FILE_NAME}.${i + 1}`)]) tightenIfPresent(join(dir, name));
  const path = logFilePath(options.dataDir);
  const maxBytes = parseSize(options.maxSize ?? MAX_SIZE);
  // Created here, 0600, so the file exists (and is private) before the first line arrives.
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  // pino's own destination, synchronous: a line is one write(2) of its own bytes, with no
  // copy per stream stage (a rotating stream's per-chunk promise writes cost ~2 KB a line)
  // and no backlog. Asynchronous, a backlog built up under load landed in the next file after
  // a rotation, past the cap (the rotation test caught 5.9 KB in a 2 KB file at load ~8).
  const file = pino.destination({ dest: path, sync: true, mode: PRIVATE_FILE_MODE, append: true });
  // A disk that fills up must not take the gateway down: the tee (stderr) still has the lines.
  file.on('error', (error: unknown) => options.tee?.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'log file write failed', err: String(error) })}\n`));
  let written = statSync(path).size;
  let closed: Promise<void> | undefined;
  const append = (line: string) => {
    // A line after close (a late rejection at shutdown) is the tee's alone.
    if (closed) return;
    file.write(line);
    // Characters, not bytes: the cap is approximate for non-ASCII lines, and costs nothing.
    written += line.length;
    if (written >= maxBytes) {
      rotate(dir, keep);
      file.reopen();
      written = 0;
    }
  };
  const tee = options.tee;
  // One plain object: the request line of request-log.ts is written straight into it.
  const destination: DestinationStream = tee
    ? { write: (line: string) => { tee.write(line); append(line); } }
    : { write: append };
  return {
    log: pino({ level: options.level }, destination),
    file: path,
    close: () => (closed ??= new Promise<void>((resolve) => {
      file.once('close', () => resolve());
      file.end();
    })),
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
