// Desktop-only routes (the renderer or the gateway token, never a paired origin):
// sessions, pending approvals, policy, always-allow rules, gateway settings, repository trust.
import {
  ApiKeyRequest,
  ApprovalDecisionRequest,
  ApprovalsResponse,
  ApprovalIdParams,
  ConfigPatch,
  ConfigResponse,
  PoliciesRequest,
  RepoTrustRequest,
  RepoTrustResponse,
  PoliciesResponse,
  RotateTokenResponse,
  RuleIdParams,
  RulesResponse,
  SessionIdParams,
  SessionsResponse,
} from '../../../shared/schemas/gateway.js';
import { NotFound } from '../../errors.js';
import { defineRoute, type AnyRoute } from '../route.js';

const iso = (ms: number) => new Date(ms).toISOString();

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/sessions',
    summary: 'Paired sessions, most recently used first.',
    response: SessionsResponse,
    handler: (_input, { services }) => ({
      sessions: services.sessions.list().map((s) => ({
        id: s.id,
        origin: s.origin,
        kind: s.kind,
        createdAt: iso(s.createdAt),
        lastUsedAt: iso(s.lastUsedAt),
        expiresAt: iso(s.expiresAt),
      })),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/gateway/desktop/sessions/:sessionId',
    summary: 'Revoke a session: its next request gets 401.',
    params: SessionIdParams,
    handler: ({ params }, { services }) => {
      if (!services.sessions.revoke(params.sessionId)) throw new NotFound('No session with that id.', 'session_not_found');
      return { revoked: true };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/gateway/desktop/gateway-token/rotate',
    summary: 'Replace the gateway token: the old one is refused from the next request (`symphony-gateway rotate-token`; read the new one with `symphony-gateway token`).',
    response: RotateTokenResponse,
    handler: async (_input, { services, log }) => {
      await services.gatewayTokens.rotate();
      log.warn('the gateway token was replaced');
      return { rotated: true as const };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/approvals',
    summary: 'Requests waiting for a decision.',
    response: ApprovalsResponse,
    handler: (_input, { services }) => ({ approvals: services.approvals.list() }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/gateway/desktop/approvals/:approvalId',
    summary: 'Decide a pending request: allow once, allow always (a stored rule) or deny.',
    params: ApprovalIdParams,
    body: ApprovalDecisionRequest,
    handler: ({ params, body }, { services, caller }) => {
      const approval = services.approvals.decide(params.approvalId, { ...body, decidedBy: caller.kind });
      return { ok: true, id: approval.id, decision: body.decision };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/policies',
    summary: 'The effective approval policy, default or user-set.',
    response: PoliciesResponse,
    handler: (_input, { services }) => ({ policies: services.policy.listPolicies() }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/gateway/desktop/policies',
    summary: 'Replace the user policy overrides.',
    body: PoliciesRequest,
    response: PoliciesResponse,
    handler: ({ body }, { services }) => {
      services.policy.replaceOverrides(body.policies);
      return { policies: services.policy.listPolicies() };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/rules',
    summary: 'Live "allow always" rules.',
    response: RulesResponse,
    handler: (_input, { services }) => ({ rules: services.policy.listRules() }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/gateway/desktop/rules/:ruleId',
    summary: 'Remove an "allow always" rule.',
    params: RuleIdParams,
    handler: ({ params }, { services }) => {
      services.policy.deleteRule(params.ruleId);
      return { deleted: true };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/config',
    summary: 'Gateway settings: cloud API origin, allowed web-app origins, workspace root.',
    response: ConfigResponse,
    handler: (_input, { services }) => services.gatewaySettings.view(),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/api/gateway/desktop/config',
    summary: 'Change gateway settings.',
    body: ConfigPatch,
    response: ConfigResponse,
    handler: ({ body }, { services }) => services.gatewaySettings.update(body),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/repos/trust',
    summary: 'Repositories trusted for their own project settings (agents load their hooks, MCP servers, CLAUDE.md).',
    response: RepoTrustResponse,
    handler: (_input, { services }) => ({ trusted: services.repos.trustedPaths() }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/gateway/desktop/repos/trust',
    summary: "Mark a managed repository trusted (or not) for its own project settings; only the desktop can.",
    body: RepoTrustRequest,
    response: RepoTrustResponse,
    handler: ({ body }, { services }) => {
      services.repos.setTrusted(body.path, body.trusted);
      return { trusted: services.repos.trustedPaths() };
    },
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/gateway/desktop/api-key',
    summary: 'Store the desktop API key for cloud pairing in the keychain.',
    body: ApiKeyRequest,
    handler: async ({ body }, { services }) => {
      await services.secrets.set('desktop-api-key', body.apiKey);
      return { apiKeySet: true };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/gateway/desktop/api-key',
    summary: 'Forget the desktop API key.',
    handler: async (_input, { services }) => {
      await services.secrets.delete('desktop-api-key');
      return { apiKeySet: false };
    },
  }),
];
