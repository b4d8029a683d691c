// Request and response schemas of the filesystem family: the repository picker's
// directory listing and fuzzy file search.
import { z } from 'zod';

/** A user-given path; the workspace guard does the real checking. */
const UserPath = z.string().min(1).max(4096);
const QueryFlag = z.enum(['true', 'false', '1', '0']).transform((flag) => flag === 'true' || flag === '1');

export const DirectoriesQuery = z.object({
  /** Absolute; defaults to the workspace root. */
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
  repo: UserPath,
  /** fzf-style: space-separated terms must all match; an uppercase letter makes a term case-sensitive. */
  query: z.string().max(256).default(''),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
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
  repo: z.string(),
  files: z.array(FileSearchHit),
  truncated: z.boolean(),
  total: z.number().int(),
});

export type DirectoriesQuery = z.infer<typeof DirectoriesQuery>;
export type DirectoriesResponse = z.infer<typeof DirectoriesResponse>;
export type FileSearchQuery = z.infer<typeof FileSearchQuery>;
export type FileSearchResponse = z.infer<typeof FileSearchResponse>;
