// Code review by agents (/codex/*, operations codex_review and codex_argue): start and
// stop reviews, their status and findings, dedup, extract, verdict, and the chats about a
// review or one finding. Every agent here runs read-only; routes that start one are
// writes for the policy. `provider` is validated as an enum everywhere. Reviews and their
// conversations belong to their caller: a paired origin (or the relay) sees, stops and resumes
// only its own, and another's is the same reply as none; the local user reaches every review.
import { callerKey } from '../../auth/caller.js';
import {
  ArgueBody, DedupBody, DedupResponse, ExtractBody, ExtractResponse, FindingChatPatch, FindingChatPost, FindingChatQuery,
  FindingParams, FindingsPostBody, FindingsResponse, ReviewBody, ReviewChatBody, ReviewScopeQuery, StopBody, TicketParams,
  VerdictBody, VerdictResponse,
} from '../../../shared/schemas/review.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';
import type { LazyServiceName } from '../../services.js';

const CODEX = '/api/gateway/codex';

/** Built before this family's first request (see LazyServiceName in services.ts). */
export const needs: readonly LazyServiceName[] = ['reviews'];

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: `${CODEX}/available`, summary: 'Whether the codex CLI is installed, and its version.',
    handler: (_input, { services }) => services.reviews.available(),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/review/:ticketId`, streams: true,
    summary: "Review a ticket's changes with codex or claude (read-only), streamed as NDJSON; 409 while the same review runs.",
    params: TicketParams, body: ReviewBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: async ({ params, body }, { services, signal, caller }) => ndjson(await services.reviews.review(params.ticketId, body, signal, callerKey(caller))),
  }),
  defineRoute({
    method: 'GET', path: `${CODEX}/status/:ticketId`, summary: "A ticket's latest review the caller may see (a paired origin: its own): state, process, session, config, log tail.",
    params: TicketParams, query: ReviewScopeQuery,
    handler: ({ params, query }, { services, caller }) => services.reviews.status(params.ticketId, query.repoPath, query.provider, callerKey(caller)),
  }),
  defineRoute({
    method: 'DELETE', path: `${CODEX}/status/:ticketId`, summary: "Forget a ticket's review(s) the caller may see (a paired origin: its own): runs, logs, findings (409 while one runs).",
    params: TicketParams, query: ReviewScopeQuery,
    classify: ({ query }) => ({ repoPath: query.repoPath }),
    handler: ({ params, query }, { services, caller }) => services.reviews.forget(params.ticketId, query.repoPath, query.provider, callerKey(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/stop/:ticketId`, summary: 'Stop a running review and its whole process tree.',
    params: TicketParams, body: StopBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ params, body }, { services, caller }) => services.reviews.stop(params.ticketId, body.repoPath, body.provider, callerKey(caller)),
  }),
  defineRoute({
    method: 'DELETE', path: `${CODEX}/stop/:ticketId`, summary: 'Stop a review (if it runs) and forget it.',
    params: TicketParams, query: ReviewScopeQuery,
    classify: ({ query }) => ({ repoPath: query.repoPath }),
    handler: ({ params, query }, { services, caller }) => services.reviews.stopAndForget(params.ticketId, query.repoPath, query.provider, callerKey(caller)),
  }),
  defineRoute({
    method: 'GET', path: `${CODEX}/review-findings/:ticketId`, summary: "A reviewer's current findings on a ticket.",
    params: TicketParams, query: ReviewScopeQuery, response: FindingsResponse,
    handler: ({ params, query }, { services }) => services.reviews.findings(params.ticketId, query.repoPath, query.provider),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/review-findings/:ticketId`,
    summary: 'Mark a finding commented ({commentedIndex}), decline the review ({declined}), replace the findings ({findings}), or set a status ({findingId, status}).',
    params: TicketParams, query: ReviewScopeQuery, body: FindingsPostBody,
    classify: ({ query }) => ({ repoPath: query.repoPath }),
    handler: ({ params, query, body }, { services }) => services.reviews.postFindings(params.ticketId, query.repoPath, query.provider, body),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/review-dedup/:ticketId`, summary: "Pairs of findings (or PR comments) that say the same thing.",
    params: TicketParams, body: DedupBody, response: DedupResponse,
    classify: ({ body }) => ({ access: 'read', repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.reviews.dedup(body),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/review-extract/:ticketId`, summary: "Findings read from a finished review's log (no agent runs).",
    params: TicketParams, body: ExtractBody, response: ExtractResponse,
    classify: ({ body }) => ({ access: 'read', repoPath: body.repoPath }),
    handler: ({ params, body }, { services, caller }) => services.reviews.extract(params.ticketId, body, callerKey(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/review-verdict/:ticketId`, summary: "The reviewer's verdict on the whole change, from its resumed read-only session.",
    params: TicketParams, body: VerdictBody, response: VerdictResponse,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ params, body }, { services, signal, caller }) => services.reviews.verdict(params.ticketId, body, signal, callerKey(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/argue/:ticketId`, streams: true,
    summary: 'The other reviewer argues one finding (read-only), streamed as NDJSON; every round is kept.',
    params: TicketParams, body: ArgueBody,
    classify: ({ body }) => ({ repoPath: body.repoPath ?? body.repo }),
    handler: async ({ params, body }, { services, signal, caller }) => ndjson(await services.reviews.argue(params.ticketId, body, signal, callerKey(caller))),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/chat/:ticketId`, streams: true,
    summary: 'A read-only chat about the ticket or its review, streamed as NDJSON.',
    params: TicketParams, body: ReviewChatBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: async ({ params, body }, { services, signal, caller }) => ndjson(await services.reviews.chat(params.ticketId, body, signal, callerKey(caller))),
  }),
  defineRoute({
    method: 'GET', path: `${CODEX}/finding-chat/:findingId`, summary: 'The conversation about one finding.',
    params: FindingParams, query: FindingChatQuery,
    handler: ({ params, query }, { services, caller }) => services.reviews.findingChat(params.findingId, query.ticketId, query.repo, callerKey(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${CODEX}/finding-chat/:findingId`, streams: true,
    summary: 'One read-only chat turn about a finding, streamed as NDJSON.',
    params: FindingParams, query: FindingChatQuery, body: FindingChatPost,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: async ({ params, query, body }, { services, signal, caller }) =>
      ndjson(await services.reviews.sendFindingChat(params.findingId, query.ticketId, query.repo, body, signal, callerKey(caller))),
  }),
  defineRoute({
    method: 'PATCH', path: `${CODEX}/finding-chat/:findingId`, summary: 'Mark a reply answered ({messageId?, responded}) or append a message ({message}).',
    params: FindingParams, query: FindingChatQuery, body: FindingChatPatch,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query, body }, { services, caller }) => services.reviews.patchFindingChat(params.findingId, query.ticketId, query.repo, body, callerKey(caller)),
  }),
  defineRoute({
    method: 'DELETE', path: `${CODEX}/finding-chat/:findingId`, summary: 'Forget the conversation about a finding (stopping a running turn).',
    params: FindingParams, query: FindingChatQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query }, { services, caller }) => services.reviews.deleteFindingChat(params.findingId, query.ticketId, query.repo, callerKey(caller)),
  }),
];
