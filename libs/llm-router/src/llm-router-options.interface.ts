import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { SchedulerLike } from 'rxjs';
import type { BudgetLedgerStore } from './budget/budget-ledger.store.js';
import type { RoutingContextOptions } from './context/routing-context.options.js';
import type { CircuitStateStore } from './execution/circuit/circuit-state.store.js';
import type { PolicyDocument } from './policy/policy.schema.js';
import type { Transport } from './providers/http/transport.interface.js';
import type { JobQueue } from './queue/job-queue.js';
import type { DeferredCallStore } from './deferral/deferred-call.store.js';

/**
 * How the container gets one of the router's ports: a class it builds, a
 * provider that exists elsewhere, or a factory with its own `inject`. A
 * factory may return `undefined` for "use the in-process default".
 */
export type PortProvider<T> =
  | { useValue: T }
  | { useClass: Type<T> }
  | { useExisting: InjectionToken }
  | {
      useFactory: (...args: any[]) => T | undefined | Promise<T | undefined>;
      inject?: Array<InjectionToken | OptionalFactoryDependency>;
    };

/** The router's ports. Each left out gets its in-process default (undici for the transport). */
export interface LlmRouterPorts {
  /** Circuit state. Share one (`RedisCircuitStateStore`) to share circuits across instances. */
  circuitStore?: PortProvider<CircuitStateStore>;
  /** Tenant spend ledger. Share one (`RedisBudgetLedgerStore`) to share budgets across instances. */
  budgetLedger?: PortProvider<BudgetLedgerStore>;
  /** Upstream HTTP. */
  transport?: PortProvider<Transport>;
  /** The work queue deferred calls run on. Give a durable one (`BullMqJobQueue`) so they survive a restart. */
  jobQueue?: PortProvider<JobQueue>;
  /** Where deferred calls are kept. Give a shared one so every instance can answer for them. */
  deferredCallStore?: PortProvider<DeferredCallStore>;
}

export interface LlmRouterModuleOptions extends RoutingContextOptions {
  /** The policy as an object; or give `policyFile`. */
  policy?: PolicyDocument;
  /** Path of a YAML or JSON policy file. */
  policyFile?: string;
  /** A ready circuit store; or give a provider in `forRoot`/`forRootAsync`'s ports. */
  circuitStore?: CircuitStateStore;
  /** A ready budget ledger; or give a provider in `forRoot`/`forRootAsync`'s ports. */
  budgetLedger?: BudgetLedgerStore;
  /** A ready transport; or give a provider in `forRoot`/`forRootAsync`'s ports. */
  transport?: Transport;
  /** A ready work queue; or give a provider in `forRoot`/`forRootAsync`'s ports. */
  jobQueue?: JobQueue;
  /** A ready deferred-call store; or give a provider in `forRoot`/`forRootAsync`'s ports. */
  deferredCallStore?: DeferredCallStore;
  /** Ports built by the container (`useClass`, `useExisting`, `useFactory` with `inject`); in `forRootAsync`, give them beside `useFactory`. */
  ports?: LlmRouterPorts;
  /** Environment for API key variables; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock for budget periods; `Date.now` by default. */
  clock?: () => number;
  /** Tests only: virtual time and a fixed random source. */
  scheduler?: SchedulerLike;
  random?: () => number;
}

export interface LlmRouterOptionsFactory {
  createLlmRouterOptions(): Promise<LlmRouterModuleOptions> | LlmRouterModuleOptions;
}

export interface LlmRouterModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Ports built by the container; known when the module is defined, so they sit here and not in the factory's result. */
  ports?: LlmRouterPorts;
  useFactory?: (...args: any[]) => Promise<LlmRouterModuleOptions> | LlmRouterModuleOptions;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useClass?: Type<LlmRouterOptionsFactory>;
  useExisting?: Type<LlmRouterOptionsFactory>;
}
