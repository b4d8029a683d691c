// Binary path overrides: GET shows, for each managed CLI, the effective path, where it
// came from and its version; PATCH sets or clears (null) overrides.
import { z } from 'zod';

export const BINARY_NAMES = ['claude', 'codex', 'gh', 'git', 'python3'] as const;

/** POSIX `/...`, Windows `C:\...` or `\\server\...` (no node:path here: the renderer imports this file). */
const ABSOLUTE_PATH = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

const OverridePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL')
  .refine((value) => ABSOLUTE_PATH.test(value), 'must be an absolute path');

export const BinaryPathsPatchBody = z
  .object({
    binaryPaths: z
      .object(Object.fromEntries(BINARY_NAMES.map((name) => [name, OverridePath.nullable().optional()])) as Record<
        (typeof BINARY_NAMES)[number],
        z.ZodOptional<z.ZodNullable<typeof OverridePath>>
      >)
      .strict(),
  })
  .strict();
export type BinaryPathsPatch = z.infer<typeof BinaryPathsPatchBody>['binaryPaths'];

export const BinaryInfo = z.object({
  path: z.string().nullable(),
  source: z.enum(['override', 'path', 'login-shell', 'missing']),
  version: z.string().nullable(),
  /** The stored override (null when none), even when it is unusable and a search path won. */
  override: z.string().nullable(),
  note: z.string().optional(),
});

export const BinaryPathsResponse = z.object({
  binaries: z.object(Object.fromEntries(BINARY_NAMES.map((name) => [name, BinaryInfo])) as Record<(typeof BINARY_NAMES)[number], typeof BinaryInfo>),
  /** The stored overrides alone, in the shape PATCH takes. */
  binaryPaths: z.record(z.string(), z.string().nullable()),
});
