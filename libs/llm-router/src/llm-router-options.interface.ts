import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { SchedulerLike } from 'rxjs';
import type { RoutingContext } from './context/routing-context.js';
import type { BudgetLedgerStore } from './budget/budget-ledger.store.js';
import type { CircuitStateStore } from './execution/circuit/circuit-state.store.js';
import type { PolicyDocument } from './policy/policy.schema.js';
import type { Transport } from './providers/http/transport.interface.js';

/** The request as the module sees it: enough to read identifying headers. */
export interface IncomingRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

export interface LlmRouterModuleOptions {
  /** The policy as an object; or give `policyFile`. */
  policy?: PolicyDocument;
  /** Path of a YAML or JSON policy file. */
  policyFile?: string;
  /** Circuit state; defaults to in-process. Give a shared store to share circuits across instances. */
  circuitStore?: CircuitStateStore;
  /** Tenant spend ledger; defaults to in-process. Give a `RedisBudgetLedgerStore` to share budgets across instances. */
  budgetLedger?: BudgetLedgerStore;
  /** Upstream HTTP; defaults to the pooled keep-alive undici transport. */
  transport?: Transport;
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
  /** Environment for API key variables; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests only: virtual time and a fixed random source. */
  scheduler?: SchedulerLike;
  random?: () => number;
}

export interface LlmRouterOptionsFactory {
  createLlmRouterOptions(): Promise<LlmRouterModuleOptions> | LlmRouterModuleOptions;
}

export interface LlmRouterModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: any[]) => Promise<LlmRouterModuleOptions> | LlmRouterModuleOptions;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useClass?: Type<LlmRouterOptionsFactory>;
  useExisting?: Type<LlmRouterOptionsFactory>;
}
