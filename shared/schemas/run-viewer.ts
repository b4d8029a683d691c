// Run-viewer archives: a run's files uploaded as .zip, .tar.gz or a .jsonl transcript,
// unpacked by the gateway into a directory of its own (`runDir`).
import { z } from 'zod';

const RunDir = z.string().min(1).max(4096).describe('A directory returned by POST /run-viewer-extract');

export const RunViewerExtractResponse = z.object({
  runDir: z.string(),
  dropped: z
    .object({ count: z.number().int(), files: z.array(z.string()).describe('The first 100, relative') })
    .describe('Files left out because an agent or git would load them as configuration: .claude/, .codex/, .mcp.json, CLAUDE.md, AGENTS.md, .git/hooks, .git/config'),
  storage: z
    .object({
      totalBytes: z.number().int(),
      maxTotalBytes: z.number().int(),
      maxAgeDays: z.number(),
      removed: z.array(z.object({ runDir: z.string(), reason: z.enum(['age', 'size']), bytes: z.number().int() })),
    })
    .describe('The run viewer keeps all runs within a total size and an age; older runs removed by this upload (oldest first) are named'),
});

export const RunViewerFilesQuery = z.object({ runDir: RunDir });
export const RunViewerFilesResponse = z.object({
  files: z.array(z.object({ path: z.string().describe('Relative, with / separators'), size: z.number().int() })),
});

export const RunViewerDeleteBody = z.object({ runDir: RunDir });
export const RunViewerDeleteResponse = z.object({ removed: z.literal(true) });

export type RunViewerFiles = z.infer<typeof RunViewerFilesResponse>;
export type RunViewerExtract = z.infer<typeof RunViewerExtractResponse>;
