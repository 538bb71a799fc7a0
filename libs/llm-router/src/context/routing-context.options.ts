import type { RoutingContext } from './routing-context.js';

/** The request as the module sees it: enough to read identifying headers. */
export interface IncomingRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

/** How the request-context interceptor fills the routing context. */
export interface RoutingContextOptions {
  /**
   * Reads tenant, feature, session and request id from an incoming request.
   * Default: the `x-tenant-id`, `x-feature`, `x-session-id` and `x-request-id` headers.
   */
  contextFromRequest?: (request: IncomingRequestLike) => RoutingContext;
  /**
   * Which routes get a request context (AsyncLocalStorage). `'every-route'`
   * (default): any handler's calls pick up the caller's headers.
   * `'decorated-routes'`: only handlers under `@TrafficClass` or
   * `@QualityFloor`; others pass their options explicitly. On Node 20 an
   * AsyncLocalStorage, once entered, adds a hook to every promise, timer and
   * socket of the process: an app whose hot routes pass options (a gateway)
   * keeps that cost away until a decorated route is called.
   */
  requestContext?: 'every-route' | 'decorated-routes';
}

/** Injection token of the interceptor's options (the module provides the router options under it). */
export const ROUTING_CONTEXT_OPTIONS = Symbol('ROUTING_CONTEXT_OPTIONS');
