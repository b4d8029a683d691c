// Learnings: the pattern store (JSON or TOON), extraction from a ticket's history by a
// read-only agent turn, processing into patterns (one ticket, or all as a queued batch),
// pending counts, statuses, uses with outcomes, and whether runs are offered learnings.
import {
  BatchStatus, ExtractLearningsBody, LearningsQuery, LearningsSettingsBody, LearningsStatusParams, LearningsStatusQuery,
  LearningStatus, PatternsResponse, ProcessLearningsBody, ProcessLearningsQuery, RecordLearningUseBody,
} from '../../../shared/schemas/learnings.js';
import { callerKey } from '../../auth/caller.js';
import { reply } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';
import type { LazyServiceName } from '../../services.js';

const API = '/api/gateway';

/** Built before this family's first request (see LazyServiceName in services.ts). */
export const needs: readonly LazyServiceName[] = ['learnings'];

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: `${API}/learnings`, summary: 'The pattern store (`format=toon`: the TOON text export); `repoPath` narrows it to one repository.',
    query: LearningsQuery, response: PatternsResponse,
    handler: async ({ query }, { services }) =>
      query.format === 'toon'
        ? reply(200, await services.learnings.toon(query.repoPath), { 'Content-Type': 'text/plain; charset=utf-8' })
        : { patterns: await services.learnings.patterns(query.repoPath) },
  }),
  defineRoute({
    method: 'POST', path: `${API}/symphony/extract-learnings`,
    summary: "Extract learnings from the ticket's run transcript and chats with a read-only agent turn; answers at once, status in learnings-status.",
    body: ExtractLearningsBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services, caller }) => services.learnings.extract(body, callerKey(caller)),
  }),
  defineRoute({
    method: 'GET', path: `${API}/symphony/learnings-status/:ticketId`, summary: "The ticket's extraction: none | processing | completed | error, with the count and malformed entries.",
    params: LearningsStatusParams, query: LearningsStatusQuery, response: LearningStatus,
    handler: ({ params, query }, { services }) => services.learnings.extractionStatus(params.ticketId, query.repo),
  }),
  defineRoute({
    method: 'GET', path: `${API}/symphony/process-learnings`, summary: "The ticket's processing status, or none.",
    query: ProcessLearningsQuery,
    handler: ({ query }, { services }) => services.learnings.processingStatus(query.ticketId, query.repo),
  }),
  defineRoute({
    method: 'POST', path: `${API}/symphony/process-learnings`,
    summary: "Merge the ticket's pending learnings into the pattern store (waitForExtraction: once the running extraction ends).",
    body: ProcessLearningsBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.learnings.process(body),
  }),
  defineRoute({
    method: 'GET', path: `${API}/symphony/pending-learnings`, summary: 'Pending learnings across every ticket.',
    handler: (_input, { services }) => services.learnings.pending(),
  }),
  defineRoute({
    method: 'GET', path: `${API}/symphony/process-all-learnings`, summary: 'The process-all batch: status and progress, or none.',
    response: BatchStatus,
    handler: (_input, { services }) => services.learnings.batchStatus(),
  }),
  defineRoute({
    method: 'POST', path: `${API}/symphony/process-all-learnings`, summary: 'Queue every pending learning for merging (a batch in the gateway that survives a restart).',
    response: BatchStatus,
    handler: (_input, { services }) => services.learnings.startBatch(),
  }),
  defineRoute({
    method: 'POST', path: `${API}/symphony/record-learning-use`, summary: "Record that learnings were used, with the run's outcome (seen counts, success rates).",
    body: RecordLearningUseBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.learnings.recordUse(body),
  }),
  defineRoute({
    method: 'GET', path: `${API}/learnings/settings`, summary: 'Whether runs are offered the learnings that apply to their repository.',
    handler: (_input, { services }) => ({ offerToRuns: services.learnings.offerToRuns() }),
  }),
  defineRoute({
    method: 'PUT', path: `${API}/learnings/settings`, summary: 'Turn offering learnings to runs on or off.',
    body: LearningsSettingsBody,
    handler: ({ body }, { services }) => ({ offerToRuns: services.learnings.setOfferToRuns(body.offerToRuns) }),
  }),
];
