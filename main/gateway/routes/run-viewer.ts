// Run-viewer archives: upload a run (multipart, streamed to disk by the domain
// module), list what it unpacked to, and remove it.
import {
  RunViewerDeleteBody,
  RunViewerDeleteResponse,
  RunViewerExtractResponse,
  RunViewerFilesQuery,
  RunViewerFilesResponse,
} from '../../../shared/schemas/run-viewer.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/gateway/run-viewer-extract',
    summary: 'Upload a run archive (.zip, .tar.gz or .jsonl transcript, multipart, up to 200 MB) and unpack it for the run viewer.',
    response: RunViewerExtractResponse,
    classify: () => ({ action: 'upload' }),
    handler: (_input, { services, req, signal }) => services.runArchives.extract(req, signal),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/run-viewer-extract',
    summary: 'List the files of an unpacked run.',
    query: RunViewerFilesQuery,
    response: RunViewerFilesResponse,
    handler: ({ query }, { services }) => services.runArchives.list(query.runDir),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/gateway/run-viewer-extract',
    summary: 'Remove an unpacked run.',
    body: RunViewerDeleteBody,
    response: RunViewerDeleteResponse,
    handler: async ({ body }, { services }) => {
      await services.runArchives.remove(body.runDir);
      return { removed: true as const };
    },
  }),
];
