// Health, version, auth metadata and the OpenAPI document.
import { ActivityQuery, ActivityResponse, HealthCheckQuery, HealthCheckResponse, HealthResponse, TelemetryResponse, VersionResponse } from '../../../shared/schemas/gateway.js';
import { GATEWAY_TOKEN_HEADER, SESSION_TOKEN_HEADER } from '../middleware/authenticate.js';
import { defineRoute, type AnyRoute } from '../route.js';

const API_VERSION = 1;

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/health',
    summary: 'Unauthenticated liveness and capability probe (no paths, users or machine names).',
    response: HealthResponse,
    handler: async (_input, { services }) => ({
      status: 'ok',
      port: services.gatewayPort(),
      version: services.version,
      capabilities: {
        tools: await services.toolAvailability(),
        pairing: ['local-challenge', 'cloud-challenge'],
        streaming: ['ndjson'],
      },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/health-check',
    summary: "The web client's readiness check: one row per tool or setting it needs, and each CLI's MCP server.",
    query: HealthCheckQuery,
    response: HealthCheckResponse,
    handler: ({ query }, { services }) => services.readiness.check(query),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/telemetry',
    summary: 'Per-operation request counts, errors and latency percentiles since the gateway started (desktop-only).',
    response: TelemetryResponse,
    handler: (_input, { services }) => ({
      status: 'ok',
      version: services.version,
      uptimeSeconds: Math.round((Date.now() - services.telemetry.startedAt) / 1000),
      operations: services.telemetry.snapshot(),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/activity',
    summary: 'The recent requests for audit, newest first: caller, operation, method and path, status, duration, who decided an ask (never bodies or tokens; older ones are in the log file).',
    query: ActivityQuery,
    response: ActivityResponse,
    handler: ({ query }, { services }) => ({
      entries: services.activity.list(query).map(({ origin: _header, time, ...entry }) => ({ ...entry, time: new Date(time).toISOString() })),
      latestSeq: services.activity.latestSeq(),
      capacity: services.activity.capacity,
      logFile: services.logFile,
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/version',
    summary: 'Current desktop version.',
    response: VersionResponse,
    handler: (_input, { services }) => ({ version: services.version, apiVersion: API_VERSION, platform: process.platform }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/mcp-auth',
    summary: 'How to authenticate to the gateway, shaped like OAuth protected-resource metadata.',
    handler: (_input, { services }) => {
      const resource = `http://127.0.0.1:${services.gatewayPort()}`;
      return {
        resource,
        resource_name: 'Symphony Desktop gateway',
        bearer_methods_supported: ['header'],
        authorization_servers: [],
        symphony: {
          credentialHeaders: { browser: SESSION_TOKEN_HEADER, local: GATEWAY_TOKEN_HEADER },
          pairing: {
            exchange: `${resource}/gateway-auth/exchange`,
            challenge: `${resource}/gateway-auth/challenge`,
            challengeSources: ['cloud', 'desktop'],
            challengeTtlSeconds: 120,
          },
          approvalHeaders: ['X-Desktop-Force-Approval', 'X-Desktop-Approval-Reason', 'X-Desktop-Source'],
          openapi: `${resource}/api/gateway/openapi.json`,
        },
      };
    },
  }),
];
