// A ticket's attachments: images uploaded from its chat (multipart, streamed to disk,
// checked by their content) and served back as inert bytes.
import { AttachmentParams, RepoQuery, TicketParams, UploadResponse } from '../../../shared/schemas/symphony-chats.js';
import { StreamReply } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: '/api/gateway/symphony/attachments/:ticketId/*attachmentPath',
    summary: "One of the ticket's attachments: a PNG, JPEG, GIF or WebP image by its content, anything else as a download.",
    params: AttachmentParams, query: RepoQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: async ({ params, query }, { services, signal }) => {
      const file = await services.attachments.open(query.repo, params.ticketId, params.attachmentPath, signal);
      return new StreamReply(file.stream, file.contentType, file.headers);
    },
  }),
  defineRoute({
    method: 'POST', path: '/api/gateway/symphony/upload/:ticketId',
    summary: 'Upload images to the ticket (multipart: PNG, JPEG, GIF or WebP by content, 10 MB each, 20 at most).',
    params: TicketParams, query: RepoQuery, response: UploadResponse,
    classify: ({ query }) => ({ action: 'upload', repoPath: query.repo }),
    handler: ({ params, query }, { services, req, signal }) => services.attachments.upload(req, query.repo, params.ticketId, signal),
  }),
];
