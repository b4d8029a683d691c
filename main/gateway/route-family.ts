// How routes/index.ts lists a family. An eager family's routes load with the gateway; a
// lazy family's module (its schemas, handlers and the domain code they import) loads on
// the first authenticated request to one of its paths, so start time does not grow with
// every feature. The route table (shared/operations.ts) stays the static list of what is
// served: every table path is registered at start, credentials are checked before any
// family loads, and a table path no family serves answers 501.
import type { RouteEntry } from '../../shared/operations.js';
import type { LazyServiceName } from '../services.js';
import type { AnyRoute } from './route.js';

export interface RouteFamilyModule {
  routes: readonly AnyRoute[];
  /** The lazy domain services its handlers use: built before its first request runs. */
  needs?: readonly LazyServiceName[];
}

export type RouteFamily =
  | { readonly kind: 'eager'; readonly routes: readonly AnyRoute[] }
  | {
      readonly kind: 'lazy';
      readonly name: string;
      /** Table paths that start with one of these belong to this family (and to no other). */
      readonly prefixes: readonly string[];
      readonly load: () => Promise<RouteFamilyModule>;
      /** Whether its module was asked for yet (tests: nothing loads before an authenticated request). */
      readonly loaded: () => boolean;
    };

export function eager(routes: readonly AnyRoute[]): RouteFamily {
  return { kind: 'eager', routes };
}

/** `name` is for errors and logs; `load` is `() => import('./<family>.js')`, imported once. */
export function lazy(name: string, prefixes: readonly string[], load: () => Promise<RouteFamilyModule>): RouteFamily {
  let loading: Promise<RouteFamilyModule> | undefined;
  return { kind: 'lazy', name, prefixes, load: () => (loading ??= load()), loaded: () => loading !== undefined };
}

export function claims(family: RouteFamily & { kind: 'lazy' }, entry: Pick<RouteEntry, 'path'>): boolean {
  return family.prefixes.some((prefix) => entry.path.startsWith(prefix));
}
