// The OpenAPI 3.1 document, generated from the zod schemas of the registered routes.
import { z } from 'zod';
import { findRouteEntry } from '../../shared/operations.js';
import { ErrorReply } from '../../shared/schemas/errors.js';
import type { AnyRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

const toJsonSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** `/a/:id/*rest` → `/a/{id}/{rest}` */
const openApiPath = (path: string) => path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');

function parameters(route: AnyRoute): JsonSchema[] {
  const list: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const json = toJsonSchema(schema);
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      list.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
    }
  }
  return list;
}

function operation(route: AnyRoute): JsonSchema {
  const entry = findRouteEntry(route.method, route.path);
  const op: JsonSchema = {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: route.summary,
    'x-symphony-operation': entry?.kind,
    parameters: parameters(route),
    responses: {
      '200': route.streams
        ? { description: 'Normalized events, one JSON object a line.', content: { 'application/x-ndjson': {} } }
        : { description: 'OK', content: { 'application/json': { schema: route.response ? toJsonSchema(route.response) : {} } } },
      default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  };
  if (entry?.kind === 'public') op.security = [];
  if (route.body) op.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(route.body) } } };
  else if (entry?.multipart) op.requestBody = { content: { 'multipart/form-data': { schema: { type: 'object' } } } };
  return op;
}

export function buildOpenApi(routes: readonly AnyRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Symphony Desktop gateway', version },
    servers: [{ url: 'http://127.0.0.1:19432' }],
    security: [{ sessionToken: [] }, { gatewayToken: [] }],
    paths,
    components: {
      securitySchemes: {
        sessionToken: { type: 'apiKey', in: 'header', name: 'X-Desktop-Session-Token' },
        gatewayToken: { type: 'apiKey', in: 'header', name: 'X-Desktop-Gateway-Token' },
      },
      schemas: {
        Error: toJsonSchema(ErrorReply),
      },
    },
  };
}
