// Lists the folders of one directory for the repository picker: git repositories
// first, then by name; hidden folders only on request; secret folders never.
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { AppError, NotFound, Unprocessable } from '../errors.js';
import type { WorkspaceGuard } from './workspace.js';

export interface DirectoryEntry {
  name: string;
  path: string;
  isDirectory: true;
  isGitRepo: boolean;
}

export interface DirectoryListing {
  /** The listed directory (realpath). */
  path: string;
  /** Its parent when that is allowed too (to go up), else null. */
  parent: string | null;
  directories: DirectoryEntry[];
  /** More folders than `limit` (or than we scan) were there. */
  truncated: boolean;
}

export interface ListDirectoriesRequest {
  /** Defaults to the workspace root. */
  path?: string;
  includeHidden?: boolean;
  limit?: number;
}

export const DEFAULT_DIRECTORY_LIMIT = 500;
// A folder with a million entries must not stall the gateway: stop reading here.
const MAX_ENTRIES_SCANNED = 20_000;
const STAT_BATCH = 64;
const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

type Guard = Pick<WorkspaceGuard, 'resolve' | 'isDenied' | 'requireWorkspaceRoot'>;

/**
 * A query that begins with `~` gets every path back in that form (`~/code/app`): the web
 * client's picker reuses an entry's `path` verbatim as its next query and may save it.
 * A folder that does not exist (yet) is an empty listing, as the client expects.
 */
export async function listDirectories(guard: Guard, request: ListDirectoriesRequest): Promise<DirectoryListing> {
  const dir = await guard.resolve(request.path ?? guard.requireWorkspaceRoot());
  const listing = await listResolved(guard, dir, request).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'directory_not_found') return { path: dir, parent: null, directories: [], truncated: false };
    throw error;
  });
  const tilde = request.path?.startsWith('~') ? request.path.replace(/\/+$/, '') || '~' : null;
  if (tilde === null) return listing;
  return {
    ...listing,
    path: tilde,
    directories: listing.directories.map((entry) => ({ ...entry, path: `${tilde}/${entry.name}` })),
  };
}

async function listResolved(guard: Guard, dir: string, request: ListDirectoriesRequest): Promise<DirectoryListing> {
  const { names, scannedAll } = await readFolderNames(dir, request.includeHidden ?? false);
  const candidates = names.map((name) => path.join(dir, name)).filter((p) => !guard.isDenied(p));
  const entries: DirectoryEntry[] = [];
  for (let k = 0; k < candidates.length; k += STAT_BATCH) {
    const batch = await Promise.all(candidates.slice(k, k + STAT_BATCH).map((p) => describeFolder(guard, p)));
    for (const entry of batch) if (entry) entries.push(entry);
  }
  entries.sort((a, b) => Number(b.isGitRepo) - Number(a.isGitRepo) || byName.compare(a.name, b.name) || (a.name < b.name ? -1 : 1));
  const limit = request.limit ?? DEFAULT_DIRECTORY_LIMIT;
  return {
    path: dir,
    parent: await allowedParent(guard, dir),
    directories: entries.slice(0, limit),
    truncated: entries.length > limit || !scannedAll,
  };
}

async function readFolderNames(dir: string, includeHidden: boolean): Promise<{ names: string[]; scannedAll: boolean }> {
  let handle;
  try {
    handle = await fs.opendir(dir, { bufferSize: 256 });
  } catch (error) {
    throw folderError(error);
  }
  const names: string[] = [];
  let scanned = 0;
  let entry: Dirent | null;
  try {
    while ((entry = await handle.read()) !== null) {
      if (++scanned > MAX_ENTRIES_SCANNED) return { names, scannedAll: false };
      if (!includeHidden && entry.name.startsWith('.')) continue;
      if (entry.isDirectory() || entry.isSymbolicLink()) names.push(entry.name);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { names, scannedAll: true };
}

/** A real folder, or a link to an allowed one; null for anything else. */
async function describeFolder(guard: Guard, folder: string): Promise<DirectoryEntry | null> {
  const stat = await fs.stat(folder).catch(() => null);
  if (!stat?.isDirectory()) return null;
  const lstat = await fs.lstat(folder).catch(() => null);
  if (lstat?.isSymbolicLink() && !(await guard.resolve(folder).then(() => true, () => false))) return null;
  const isGitRepo = await fs.stat(path.join(folder, '.git')).then(() => true, () => false);
  return { name: path.basename(folder), path: folder, isDirectory: true, isGitRepo };
}

async function allowedParent(guard: Guard, dir: string): Promise<string | null> {
  const parent = path.dirname(dir);
  if (parent === dir) return null;
  return guard.resolve(parent).catch(() => null);
}

function folderError(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NotFound('The directory does not exist.', 'directory_not_found');
  if (code === 'ENOTDIR') return new Unprocessable('The path is not a directory.', 'not_a_directory');
  if (code === 'EACCES' || code === 'EPERM') return new AppError(403, 'permission_denied', 'The directory cannot be read (permission denied).');
  return error as Error;
}
