// Request and response schemas of the filesystem family: the repository picker's
// directory listing and fuzzy file search.
import { z } from 'zod';

/** A user-given path; the workspace guard does the real checking. */
const UserPath = z.string().min(1).max(4096);
const QueryFlag = z.enum(['true', 'false', '1', '0']).transform((flag) => flag === 'true' || flag === '1');

export const DirectoriesQuery = z.object({
  /** Absolute or `~`/`~/...` (entries then come back in that form); defaults to the workspace root. */
  path: UserPath.optional(),
  includeHidden: QueryFlag.optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
});

export const DirectoryEntry = z.object({
  name: z.string(),
  path: z.string(),
  isDirectory: z.literal(true),
  isGitRepo: z.boolean(),
});

export const DirectoriesResponse = z.object({
  path: z.string(),
  parent: z.string().nullable(),
  directories: z.array(DirectoryEntry),
  truncated: z.boolean(),
});

export const FileSearchQuery = z.object({
  /** The repository's path (`~/...` allowed). */
  repo: UserPath,
  /** Search that ticket's worktree instead of the repository's checkout (unless `base=true`). */
  ticket: z.string().min(1).max(100).optional(),
  /** Search the repository's own checkout even when `ticket` is given. */
  base: QueryFlag.optional(),
  /** fzf-style: space-separated terms must all match; an uppercase letter makes a term case-sensitive. */
  query: z.string().max(256).default(''),
  limit: z.coerce.number().int().min(1).max(1000).default(10),
});

export const FileSearchHit = z.object({
  /** Relative to the repository, '/' separated. */
  path: z.string(),
  name: z.string(),
  score: z.number(),
  /** Indexes of the matched characters in `path`. */
  positions: z.array(z.number().int()),
});

export const FileSearchResponse = z.object({
  /** The folder searched (realpath). */
  repo: z.string(),
  /** Repository-relative paths, best first (what the web client reads). */
  files: z.array(z.string()),
  /** The same hits with their scores and matched positions. */
  matches: z.array(FileSearchHit),
  truncated: z.boolean(),
  total: z.number().int(),
  /** Why nothing could be searched (e.g. the ticket has no worktree yet); the reply is still 200. */
  error: z.string().optional(),
});

export type DirectoriesQuery = z.infer<typeof DirectoriesQuery>;
export type DirectoriesResponse = z.infer<typeof DirectoriesResponse>;
export type FileSearchQuery = z.infer<typeof FileSearchQuery>;
export type FileSearchResponse = z.infer<typeof FileSearchResponse>;
