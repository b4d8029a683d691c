// The gateway's own JSON log on disk, as VS Code keeps one per window: <dataDir>/logs/gateway.log,
// rotated by size (gateway.log.1 is the previous one, up to KEEP of them), 0600 in a 0700
// folder. `serve` and the app both write here; `symphony-gateway logs` reads it back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
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
  const file: RotatingFileStream = createStream(FILE_NAME, { path: dir, size: options.maxSize ?? MAX_SIZE, rotate: keep, mode: PRIVATE_FILE_MODE });
  // A disk that fills up must not take the gateway down: the tee (stderr) still has the lines.
  file.on('error', (error) => options.tee?.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'log file write failed', err: String(error) })}\n`));
  const tee = options.tee;
  // One plain object: the request line of request-log.ts is written straight into it.
  const destination: DestinationStream = tee
    ? { write: (line: string) => { tee.write(line); file.write(line); } }
    : { write: (line: string) => void file.write(line) };
  return {
    log: pino({ level: options.level }, destination),
    file: logFilePath(options.dataDir),
    close: () => new Promise<void>((resolve) => (file.writableEnded ? resolve() : file.end(() => resolve()))),
  };
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
