// Cloud-driven loops: POST /symphony/loop starts one (its progress goes to the cloud through
// the outbox, never to a URL in the body), /symphony/loop/kill stops one, and the
// plan-loop helpers prepare and confirm a plan loop's worktree or cancel it in the cloud.
import {
  LoopBody,
  LoopKillBody,
  LoopKillResponse,
  LoopResponse,
  PlanLoopAnyBody,
  PlanLoopCancelBody,
  PlanLoopConfirmBody,
  PlanLoopParams,
  PlanLoopPrepareBody,
} from '../../../shared/schemas/loops.js';
import type { z } from 'zod';
import { callerKey } from '../../auth/caller.js';
import { BadRequest, NotFound } from '../../errors.js';
import { cloudLoopViews } from '../../relay/loops/loop-views.js';
import { defineRoute, type AnyRoute } from '../route.js';
import type { LazyServiceName } from '../../services.js';

const LOOP = '/api/gateway/symphony/loop';

/** Built before this family's first request (see LazyServiceName in services.ts). */
export const needs: readonly LazyServiceName[] = ['loops'];

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST', path: LOOP, body: LoopBody, response: LoopResponse,
    summary: 'Start a cloud loop (PLAN, EXECUTE, ...): the agent works in the loop worktree or a scratch folder and reports to the configured API origin.',
    classify: ({ body }) => ({ repoPath: body.localRepoPath ?? undefined }),
    // The loop outlives the request (and the gateway): it runs unattended in its own host, confined to its folders.
    handler: ({ body }, { services, caller }) => services.loops.start(body, undefined, callerKey(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${LOOP}/kill`, body: LoopKillBody, response: LoopKillResponse,
    summary: 'Stop a loop this desktop runs (409 while it is initializing, 404 when unknown).',
    handler: ({ body }, { services }) => services.loops.kill(body.loopId),
  }),
  defineRoute({
    method: 'GET', path: `${LOOP}/list`,
    summary: 'The cloud loops this desktop ran or runs (newest first), each with the events it sent or queues for the cloud (for the Runs screen).',
    handler: (_input, { services }) => ({ loops: cloudLoopViews(services.loops.list(), (loopId) => services.loopOutbox.items(loopId)) }),
  }),
  defineRoute({
    method: 'POST', path: '/api/gateway/symphony/plan-loop/*action', params: PlanLoopParams, body: PlanLoopAnyBody,
    summary: 'Plan-loop helpers: <ticketId>/prepare, <ticketId>/confirm (and select-artifact/*), <ticketId>/cancel.',
    handler: async ({ params, body: raw }, { services, signal }) => {
      const parts = params.action.split('/');
      const ticketId = parts[0];
      const action = parts.slice(1).filter((p) => p !== 'select-artifact').join('/');
      if (parts.length < 2 || !['prepare', 'confirm', 'cancel'].includes(action)) {
        throw new NotFound('Unknown plan-loop action: use <ticketId>/prepare, /confirm, /select-artifact/prepare, /select-artifact/confirm or /cancel.', 'unknown_action');
      }
      const parse = <S extends z.ZodType>(schema: S): z.infer<S> => {
        const parsed = schema.safeParse(raw ?? {});
        if (parsed.success) return parsed.data;
        const issue = parsed.error.issues[0];
        const field = issue.path.map(String).join('.') || 'body';
        throw new BadRequest(`Invalid body: ${field}: ${issue.message}`, { in: 'body', issues: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })) }, 'invalid_input');
      };
      if (action === 'prepare') return services.planLoops.prepare(ticketId, parse(PlanLoopPrepareBody), signal);
      if (action === 'confirm') return services.planLoops.confirm(ticketId, parse(PlanLoopConfirmBody), signal);
      return services.planLoops.cancel(parse(PlanLoopCancelBody));
    },
  }),
];
