// How routes/index.ts lists a family. An eager family loads once the port is open, with
// the other eager ones, before any request that needs it runs (a request that arrives
// sooner waits for it); a lazy family's module (its schemas, handlers and the domain code
// they import) loads on the first authenticated request to a table path under its
// prefixes, so start time does not grow with every feature. Neither loads before the port
// opens: route modules import zod and their schemas (ARCHITECTURE "Start: what loads
// when"). The route table (shared/operations.ts) stays the static list of what is served:
// every table path is registered at start, credentials are checked before any family
// loads, and a table path no family serves answers 501.
import type { RouteEntry } from '../../shared/operations.js';
import type { LazyServiceName } from '../services.js';
import type { AnyRoute } from './route.js';

export interface RouteFamilyModule {
  routes: readonly AnyRoute[];
  /** The lazy domain services its handlers use: built before its first request runs. */
  needs?: readonly LazyServiceName[];
}

export type RouteFamily =
  | {
      readonly kind: 'eager';
      readonly name: string;
      /** Its module: every table path no lazy family claims is looked up in the eager families' routes. */
      readonly load: () => Promise<RouteFamilyModule>;
    }
  | {
      readonly kind: 'lazy';
      readonly name: string;
      /** Table paths that start with one of these belong to this family (and to no other). */
      readonly prefixes: readonly string[];
      readonly load: () => Promise<RouteFamilyModule>;
      /** Whether its module was asked for yet (tests: nothing loads before an authenticated request). */
      readonly loaded: () => boolean;
    };

/** `load` is `() => import('./<family>.js')`: the gateway imports it as soon as it listens. */
export function eager(name: string, load: () => Promise<RouteFamilyModule>): RouteFamily {
  return { kind: 'eager', name, load };
}

/** `name` is for errors and logs; `load` is `() => import('./<family>.js')`, imported once. */
export function lazy(name: string, prefixes: readonly string[], load: () => Promise<RouteFamilyModule>): RouteFamily {
  let loading: Promise<RouteFamilyModule> | undefined;
  return { kind: 'lazy', name, prefixes, load: () => (loading ??= load()), loaded: () => loading !== undefined };
}

export function claims(family: RouteFamily & { kind: 'lazy' }, entry: Pick<RouteEntry, 'path'>): boolean {
  return family.prefixes.some((prefix) => entry.path.startsWith(prefix));
}
