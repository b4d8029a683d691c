// The desktop gateway: a Koa app bound to loopback only. Host check first, then CORS,
// then the routes, each of which runs the shared auth/validation/policy chain.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Router from '@koa/router';
import Koa from 'koa';
import { ROUTE_TABLE, findRouteEntry, routeKey } from '../../shared/operations.js';
import { NoSuchRoute } from '../errors.js';
import { packageRoot } from '../config/paths.js';
import type { Services } from '../services.js';
import { cors } from './middleware/cors.js';
import { hostCheck } from './middleware/host.js';
import { requestScope } from './middleware/request-scope.js';
import { buildOpenApi } from './openapi.js';
import { warmBodyParser } from './body.js';
import { routeChain } from './pipeline.js';
import { serveRenderer } from './static-ui.js';
import { defineRoute, type AnyRoute } from './route.js';
import { routeFamilies } from './routes/index.js';
import type { GatewayState } from './state.js';

export const DEFAULT_PORTS = [19432, 19433, 19434, 19435] as const;
const HOST = '127.0.0.1';

export interface GatewayApp {
  app: Koa<GatewayState>;
  routes: readonly AnyRoute[];
}

export interface AppOptions {
  /** The built renderer served at /ui/ (default: dist/renderer of the package). */
  rendererDir?: string;
  /** A JSON body must have arrived within this time (default BODY_READ_TIMEOUT_MS). */
  bodyReadTimeoutMs?: number;
}

export function createGatewayApp(services: Services, options: AppOptions = {}): GatewayApp {
  const routes = allRoutes(services.version);
  const app = new Koa<GatewayState>({ proxy: false });
  app.silent = true;
  app.use(requestScope(services));
  app.use(hostCheck(() => services.gatewayPort() ?? -1));
  app.use(serveRenderer(options.rendererDir ?? join(packageRoot(), 'dist', 'renderer')));
  app.use(cors(services));
  app.use(routeLookup(routes, services, options));
  return { app, routes };
}

/**
 * Most paths have no parameters: an exact method + path finds them in a Map. The router
 * (which walks every layer) serves the parameterised paths and every spelling the exact
 * lookup misses (a trailing slash, another letter case, HEAD), with the same chains.
 */
function routeLookup(routes: readonly AnyRoute[], services: Services, options: AppOptions): Koa.Middleware<GatewayState> {
  const router = new Router<GatewayState>();
  const exact = new Map<string, Koa.Middleware<GatewayState>>();
  for (const route of routes) {
    const chain = routeChain(route, services, options.bodyReadTimeoutMs);
    router.register(route.path, [route.method], chain);
    if (!/[:*(]/.test(route.path)) exact.set(routeKey(route.method, route.path), chain);
  }
  const routed = router.routes();
  return (ctx, next) => {
    const chain = exact.get(`${ctx.method} ${ctx.path}`);
    if (chain) {
      ctx.params = {};
      return chain(ctx, next);
    }
    return routed(ctx as Parameters<typeof routed>[0], next);
  };
}

/** The families' routes, the OpenAPI route, and a 501 for every table route not built yet. */
function allRoutes(version: string): AnyRoute[] {
  const built: AnyRoute[] = routeFamilies.flat();
  const openapi: AnyRoute = defineRoute({
    method: 'GET',
    path: '/api/gateway/openapi.json',
    summary: 'This OpenAPI 3.1 document, generated from the route schemas.',
    handler: (): unknown => buildOpenApi(routes, version),
  });
  const registered = new Set([...built, openapi].map((route) => routeKey(route.method, route.path)));
  const pending = ROUTE_TABLE.filter((entry) => !registered.has(routeKey(entry.method, entry.path))).map((entry) =>
    defineRoute({
      method: entry.method,
      path: entry.path,
      summary: `Not built yet (operation ${entry.kind}).`,
      notBuilt: true,
      handler: () => {
        throw new NoSuchRoute(501, `${entry.method} ${entry.path} is not available in this version of Symphony Desktop yet.`, {
          operation: entry.kind,
        });
      },
    }),
  );
  const routes: AnyRoute[] = [...built, openapi, ...pending];
  for (const route of routes) {
    if (!findRouteEntry(route.method, route.path)) throw new Error(`No operation for ${route.method} ${route.path}`);
  }
  return routes;
}

export interface RunningGateway {
  server: Server;
  port: number;
  url: string;
  routes: readonly AnyRoute[];
  close(): Promise<void>;
}

export interface StartOptions extends AppOptions {
  /** A fixed port (0 picks a free one); without it, 19432..19435 in order. */
  port?: number;
  /** A connection must have sent its request headers by then (default 20 s); idle new connections are dropped too. */
  headersTimeoutMs?: number;
  /** The whole request, body included, must have arrived by then (default 10 min: run archives are large). */
  requestTimeoutMs?: number;
}

const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10 * 60_000;

export async function startGateway(services: Services, options: StartOptions = {}): Promise<RunningGateway> {
  const { app, routes } = createGatewayApp(services, options);
  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  // requestTimeout covers receiving the request only: streamed replies and approval waits may take minutes.
  const server = createServer(
    { headersTimeout, requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(5_000, Math.ceil(headersTimeout / 4)) },
    app.callback(),
  );
  server.keepAliveTimeout = 5_000;
  // Node's headers timeout starts with the first byte: a connection that sends nothing
  // would stay open for ever. It gets the same time to start its request. No connection
  // cap: hundreds of stalled connections must not lock out the real clients.
  server.on('connection', (socket) => socket.setTimeout(headersTimeout));
  server.on('request', (req) => req.socket.setTimeout(0));
  const candidates = options.port !== undefined ? [options.port] : [...DEFAULT_PORTS];
  const port = await listenOnFirstFree(server, candidates);
  services.setGatewayPort(port);
  // Tool detection can take seconds (a login shell); start it now so the first /health is quick.
  void services.toolAvailability();
  void warmBodyParser();
  const url = `http://${HOST}:${port}`;
  return {
    server,
    port,
    url,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function listenOnFirstFree(server: Server, ports: readonly number[]): Promise<number> {
  const failures: string[] = [];
  for (const port of ports) {
    try {
      await listen(server, port);
      return (server.address() as AddressInfo).port;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
      failures.push(`${port} (${code === 'EADDRINUSE' ? 'in use' : 'not permitted'})`);
    }
  }
  throw new PortsUnavailable(failures);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: HOST, port, exclusive: true });
  });
}

export class PortsUnavailable extends Error {
  constructor(readonly failures: string[]) {
    super(
      `No port for the gateway on ${HOST}: ${failures.join(', ')}. ` +
        'Stop what holds them (e.g. `lsof -i :19432`, or another Symphony Desktop), or pass --port N.',
    );
    this.name = 'PortsUnavailable';
  }
}
