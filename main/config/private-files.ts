// What the gateway keeps on disk is the user's alone: folders 0700, files 0600, whatever
// the umask. Modes are given at creation; what already exists is tightened.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function loosen(path: string, allowed: number): boolean {
  try {
    return (statSync(path).mode & 0o777 & ~allowed) !== 0;
  } catch {
    return false;
  }
}

/** Creates `dir` (and its parents) 0700, or tightens it when it exists. True when it had to tighten. */
export function ensurePrivateDir(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (process.platform === 'win32' || !loosen(dir, PRIVATE_DIR_MODE)) return false;
  chmodSync(dir, PRIVATE_DIR_MODE);
  return true;
}

/** Creates `file` empty 0600 when missing, or tightens it. True when it had to tighten. */
export function ensurePrivateFile(file: string): boolean {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  if (process.platform === 'win32' || !loosen(file, PRIVATE_FILE_MODE)) return false;
  chmodSync(file, PRIVATE_FILE_MODE);
  return true;
}

/** Tightens `file` when it exists (e.g. SQLite's -wal and -shm); never creates it. */
export function tightenIfPresent(file: string): boolean {
  if (process.platform === 'win32' || !loosen(file, PRIVATE_FILE_MODE)) return false;
  chmodSync(file, PRIVATE_FILE_MODE);
  return true;
}
