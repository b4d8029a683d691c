// Run-viewer archives: a run's files uploaded as .zip, .tar.gz or a .jsonl transcript,
// unpacked by the gateway into a directory of its own (`runDir`).
import { z } from 'zod';

const RunDir = z.string().min(1).max(4096).describe('A directory returned by POST /run-viewer-extract');

export const RunViewerExtractResponse = z.object({ runDir: z.string() });

export const RunViewerFilesQuery = z.object({ runDir: RunDir });
export const RunViewerFilesResponse = z.object({
  files: z.array(z.object({ path: z.string().describe('Relative, with / separators'), size: z.number().int() })),
});

export const RunViewerDeleteBody = z.object({ runDir: RunDir });
export const RunViewerDeleteResponse = z.object({ removed: z.literal(true) });

export type RunViewerFiles = z.infer<typeof RunViewerFilesResponse>;
