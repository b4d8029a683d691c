// The desktop gateway, bound to loopback only: request scope, Host check, CORS, then the
// routes, each behind the shared auth/validation/policy chain; Koa or the fast path runs them.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROUTE_TABLE, findRouteEntry, routeKey, type RouteEntry } from '../../shared/operations.js';
import { NoSuchRoute } from '../errors.js';
import { packageRoot } from '../config/paths.js';
import type { Services } from '../services.js';
import { cors } from './middleware/cors.js';
import { hostCheck } from './middleware/host.js';
import { requestScope } from './middleware/request-scope.js';
import { hasBody, warmBodyParser } from './body.js';
import { Exchange, pathOf, sendOrFail } from './exchange.js';
import { routeChain } from './pipeline.js';
import { defineRoute, type AnyRoute } from './route.js';
import { claims, type RouteFamily } from './route-family.js';
import { routeFamilies } from './routes/index.js';
import type { GatewayContext, GatewayState, Stage } from './state.js';
import { RENDERER_BASE_PATH } from '../desktop-ui/renderer-files.js';

export const DEFAULT_PORTS = [19432, 19433, 19434, 19435] as const;
const HOST = '127.0.0.1';

export interface GatewayApp {
  /** The server's request listener: the fast path for exact table paths, Koa for the rest. */
  handler: RequestListener;
  /** Loads the eager route families, then Koa, the router and the body parser, now (startGateway calls it once listening) rather than on the first request that needs them. */
  warm(): Promise<void>;
  /** Every route of the table, registered at start (lazy families load on first use). */
  routes: readonly RouteEntry[];
  /** Every route's definition; loads the lazy families (the OpenAPI document, tests). */
  loadRoutes(): Promise<AnyRoute[]>;
}

export interface AppOptions {
  /** The built renderer served at /ui/ (default: dist/renderer of the package). */
  rendererDir?: string;
  /** A JSON body must have arrived within this time (default BODY_READ_TIMEOUT_MS). */
  bodyReadTimeoutMs?: number;
}

/**
 * One pipeline, two ways in. The stages (request scope, Host, CORS, the route's chain) are
 * plain functions over a GatewayContext. A request to a table path without parameters and
 * without a body (most of what the web app sends) is answered by the fast path, which runs
 * them over an Exchange and never builds a Koa context (exchange.ts); Koa runs the very same
 * stage objects for every other request. The eager route families, then Koa and the router
 * (~150 ms of CPU to import and compile 118 paths), load once the port is open, not before.
 * See ARCHITECTURE "The fast path" and "Start: what loads when".
 */
export function createGatewayApp(services: Services, options: AppOptions = {}): GatewayApp {
  const table = routeSlots(services);
  const scope = requestScope(services);
  const host = hostCheck(() => services.gatewayPort() ?? -1);
  const allowOrigin = cors(services);
  const chains = table.slots.map(({ entry, route }) => ({ entry, chain: routeChain(entry, route, services, options.bodyReadTimeoutMs) }));
  // What runs inside the request scope on the fast path, made once per route: no closure per request.
  const exact = exactLookup(chains, (chain) => (ctx) => {
    host(ctx);
    if (allowOrigin(ctx)) return;
    return chain(ctx, done);
  });
  const stages = { scope, host, allowOrigin, exact, chains, rendererDir: options.rendererDir ?? join(packageRoot(), 'dist', 'renderer') };
  let koa: Promise<RequestListener> | undefined;
  const koaListener = () =>
    (koa ??= koaApp(stages).catch((error: unknown) => {
      koa = undefined;
      throw error;
    }));
  const viaKoa: RequestListener = (req, res) => {
    koaListener().then(
      (listener) => listener(req, res),
      (error: unknown) => {
        services.log.error({ err: error }, 'the gateway could not load Koa');
        res.statusCode = 500;
        res.end();
      },
    );
  };
  const handler: RequestListener = (req, res) => {
    const path = pathOf(req.url ?? '/');
    const route = exact.get(req.method ?? '')?.get(path);
    if (!route || hasBody(req)) return viaKoa(req, res);
    const ctx = new Exchange(req, res, path);
    let pending: Promise<void> | void;
    try {
      pending = scope(ctx, route.scoped);
    } catch {
      return ctx.fail();
    }
    if (!pending) return sendOrFail(ctx, services.log);
    sendWhenSettled(ctx, pending, services.log);
  };
  // The eager families first: the web client's first requests need them, not Koa or the body parser.
  const warm = async () => {
    await table.startRoutes();
    // A turn for the requests that waited for those to be answered before the next import.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([koaListener(), warmBodyParser()]);
  };
  return { handler, warm, routes: table.slots.map((slot) => slot.entry), loadRoutes: table.loadRoutes };
}

const done = (): void => undefined;

/** Its own function: a closure over `ctx` in the listener would cost every request its context (pipeline.ts `run`). */
function sendWhenSettled(ctx: Exchange, pending: Promise<void>, log: Services['log']): void {
  pending.then(
    () => sendOrFail(ctx, log),
    () => ctx.fail(),
  );
}

interface Chained {
  entry: RouteEntry;
  chain: Stage;
}

/** An exact table path: its chain (for Koa) and what the fast path runs inside the request scope. */
interface ExactRoute {
  chain: Stage;
  scoped: (ctx: GatewayContext) => Promise<void> | void;
}

/**
 * Most paths have no parameters: an exact method + path finds them in a Map (per method, so
 * no key string is built per request). The router (which walks every layer) serves the
 * parameterised paths and every spelling the exact lookup misses (a trailing slash, another
 * letter case, HEAD), with the same chains.
 */
function exactLookup(chains: readonly Chained[], scoped: (chain: Stage) => ExactRoute['scoped']): Map<string, Map<string, ExactRoute>> {
  const exact = new Map<string, Map<string, ExactRoute>>();
  for (const { entry, chain } of chains) {
    if (/[:*(]/.test(entry.path)) continue;
    if (entry.path === '/ui' || entry.path.startsWith(RENDERER_BASE_PATH)) throw new Error(`${entry.path} lies under the renderer's /ui/.`);
    if (!exact.has(entry.method)) exact.set(entry.method, new Map());
    exact.get(entry.method)!.set(entry.path, { chain, scoped: scoped(chain) });
  }
  return exact;
}

/** The Koa way in: the same stage objects, the renderer's files, the exact map, then the router. */
async function koaApp(stages: {
  scope: Stage;
  host: (ctx: GatewayContext) => void;
  allowOrigin: (ctx: GatewayContext) => boolean;
  exact: Map<string, Map<string, ExactRoute>>;
  chains: readonly Chained[];
  rendererDir: string;
}): Promise<RequestListener> {
  const [{ default: Koa }, { default: Router }, { serveRenderer }] = await Promise.all([import('koa'), import('@koa/router'), import('./static-ui.js')]);
  const router = new Router<GatewayState>();
  for (const { entry, chain } of stages.chains) router.register(entry.path, [entry.method], chain);
  const routed = router.routes();
  const app = new Koa<GatewayState>({ proxy: false });
  app.silent = true;
  app.use(stages.scope);
  app.use((ctx, next) => {
    stages.host(ctx);
    return next();
  });
  // The renderer's files are never table paths: the fast path has no /ui/ to pass.
  app.use(serveRenderer(stages.rendererDir));
  app.use((ctx, next) => (stages.allowOrigin(ctx) ? undefined : next()));
  app.use((ctx, next) => {
    const exact = stages.exact.get(ctx.method)?.get(ctx.path);
    if (exact) {
      ctx.params = {};
      return exact.chain(ctx, next);
    }
    return routed(ctx as Parameters<typeof routed>[0], next);
  });
  return app.callback();
}

/** A table route and where its definition comes from: the eager families (loaded once listening), or its lazy family's module. */
interface RouteSlot {
  entry: RouteEntry;
  route: () => AnyRoute | Promise<AnyRoute>;
}

/**
 * One slot per table route: a lazy family's from its module on first use, every other one
 * from the eager families (imported together once the port is open: `startRoutes`), the
 * OpenAPI route as it is, a 501 for every table route nobody built. A request that arrives
 * before the eager families are in has passed the same credential check and waits for them.
 */
function routeSlots(services: Services): { slots: RouteSlot[]; loadRoutes: () => Promise<AnyRoute[]>; startRoutes: () => Promise<unknown> } {
  const openapi: AnyRoute = defineRoute({
    method: 'GET',
    path: '/api/gateway/openapi.json',
    summary: 'This OpenAPI 3.1 document, generated from the route schemas.',
    handler: async (): Promise<unknown> => {
      const [{ buildOpenApi }, routes] = await Promise.all([import('./openapi.js'), loadRoutes()]);
      return buildOpenApi(routes, services.version);
    },
  });
  const lazyFamilies = routeFamilies.filter((family) => family.kind === 'lazy');
  let started: Promise<Map<string, AnyRoute>> | undefined;
  const startRoutes = () => (started ??= eagerRoutes(services, lazyFamilies, openapi));
  const slots = ROUTE_TABLE.map((entry): RouteSlot => {
    const owners = lazyFamilies.filter((family) => claims(family, entry));
    if (owners.length > 1) throw new Error(`${routeKey(entry.method, entry.path)} is claimed by more than one route family (${owners.map((f) => f.name).join(', ')}).`);
    const family = owners[0];
    let loaded: AnyRoute | undefined;
    // Once loaded, the definition is returned synchronously: no await on the hot path.
    if (family) return { entry, route: () => loaded ?? familyRoute(family, entry, services).then((found) => (loaded = found)) };
    return { entry, route: () => loaded ?? startRoutes().then((known) => (loaded = known.get(routeKey(entry.method, entry.path)) ?? notBuilt(entry))) };
  });
  async function loadRoutes(): Promise<AnyRoute[]> {
    return Promise.all(slots.map((slot) => slot.route()));
  }
  return { slots, loadRoutes, startRoutes };
}

/** The eager families' routes by method and path, checked: each is a table route that no lazy family claims. */
async function eagerRoutes(services: Services, lazyFamilies: ReadonlyArray<RouteFamily & { kind: 'lazy' }>, openapi: AnyRoute): Promise<Map<string, AnyRoute>> {
  const families = routeFamilies.filter((family) => family.kind === 'eager');
  const modules = await Promise.all(families.map((family) => family.load()));
  await services.load(...modules.flatMap((module) => module.needs ?? []));
  const known = new Map<string, AnyRoute>();
  for (const route of [...modules.flatMap((module) => module.routes), openapi]) {
    const key = routeKey(route.method, route.path);
    if (!findRouteEntry(route.method, route.path)) throw new Error(`No operation for ${route.method} ${route.path}`);
    const owners = lazyFamilies.filter((family) => claims(family, route));
    if (owners.length > 0 || known.has(key)) throw new Error(`${key} is claimed by more than one route family (${[...owners.map((f) => f.name), 'an eager family'].join(', ')}).`);
    known.set(key, route);
  }
  return known;
}

const checkedFamilies = new WeakSet<object>();

async function familyRoute(family: RouteFamily & { kind: 'lazy' }, entry: RouteEntry, services: Services): Promise<AnyRoute> {
  const module = await family.load();
  await services.load(...(module.needs ?? []));
  if (!checkedFamilies.has(module)) {
    for (const route of module.routes) {
      if (!findRouteEntry(route.method, route.path)) throw new Error(`No operation for ${route.method} ${route.path}`);
      if (!claims(family, route)) throw new Error(`${route.method} ${route.path} lies outside the prefixes of route family ${family.name}.`);
    }
    checkedFamilies.add(module);
  }
  return module.routes.find((route) => route.method === entry.method && route.path === entry.path) ?? notBuilt(entry);
}

function notBuilt(entry: RouteEntry): AnyRoute {
  return defineRoute({
    method: entry.method,
    path: entry.path,
    summary: `Not built yet (operation ${entry.kind}).`,
    notBuilt: true,
    handler: () => {
      throw new NoSuchRoute(501, `${entry.method} ${entry.path} is not available in this version of Symphony Desktop yet.`, {
        operation: entry.kind,
      });
    },
  });
}

export interface RunningGateway {
  server: Server;
  port: number;
  url: string;
  routes: readonly RouteEntry[];
  loadRoutes(): Promise<AnyRoute[]>;
  /** Settles once the eager route families, Koa, the router and the body parser are loaded (a failure is logged): what else loads after listening waits for it, so the first requests do not. */
  ready: Promise<void>;
  /** Stops listening; replies still being sent get `drainMs` (default 0) to finish before their connections are cut. */
  close(options?: { drainMs?: number }): Promise<void>;
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
  const { handler, warm, routes, loadRoutes } = createGatewayApp(services, options);
  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  // requestTimeout covers receiving the request only: streamed replies and approval waits may take minutes.
  // Node's headers timeout starts with the first byte: a connection that sends nothing
  // would stay open for ever. It gets the same time to start its request, and no timeout
  // while a request is served (a keep-alive wait has node's own, which node clears itself).
  // In the one request listener: a second one makes node copy its listener list per request.
  // No connection cap: hundreds of stalled connections must not lock out the real clients.
  const server = createServer(
    { headersTimeout, requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(5_000, Math.ceil(headersTimeout / 4)) },
    (req, res) => {
      if (req.socket.timeout) req.socket.setTimeout(0);
      handler(req, res);
    },
  );
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => socket.setTimeout(headersTimeout));
  const candidates = options.port !== undefined ? [options.port] : [...DEFAULT_PORTS];
  const port = await listenOnFirstFree(server, candidates);
  services.setGatewayPort(port);
  // Tool detection can take seconds (a login shell); start it now so the first /health is quick.
  void services.toolAvailability();
  // From the next turn: the caller says "listening" first (the eager families are imported after
  // the port opens, and a request that comes sooner loads them itself).
  const ready = new Promise((resolve) => setImmediate(resolve))
    .then(warm)
    .catch((error: unknown) => services.log.error({ err: error }, 'the gateway could not load its route families or Koa'));
  const url = `http://${HOST}:${port}`;
  return {
    server,
    port,
    url,
    ready,
    routes,
    loadRoutes,
    close: ({ drainMs = 0 } = {}) =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), drainMs);
        // Idle keep-alive connections go now, and each one as its reply ends.
        const idle = setInterval(() => server.closeIdleConnections(), 20);
        server.close(() => {
          clearTimeout(cut);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
        if (drainMs <= 0) server.closeAllConnections();
      }),
  };
}

/**
 * SIGTERM/SIGINT and quit: agent turns stop first (each stream ends status killed → result →
 * done), then the server closes (those replies get `drainMs` to reach their clients), then
 * the services and the database.
 */
export async function stopGateway(gateway: Pick<RunningGateway, 'close'>, services: Pick<Services, 'stopAgents' | 'close'>, drainMs = 3_000): Promise<void> {
  await services.stopAgents();
  await gateway.close({ drainMs });
  await services.close();
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
