import { AsyncLocalStorage } from 'node:async_hooks';
import type { RoutingContext } from './routing-context.js';

/**
 * The request-scoped routing context. AsyncLocalStorage instead of REQUEST-scoped
 * providers: a request-scoped provider would rebuild the router's whole
 * dependency chain on every request.
 */
const storage = new AsyncLocalStorage<RoutingContext>();

export const RoutingContextStore = {
  /** The context of the current request, if any. */
  current(): RoutingContext | undefined {
    return storage.getStore();
  },
  /** Run `fn` with `context` layered over the current one. */
  run<T>(context: RoutingContext, fn: () => T): T {
    const outer = storage.getStore();
    return storage.run(outer ? { ...outer, ...context } : context, fn);
  },
};
