import type { SchedulerLike } from 'rxjs';
import type { BudgetLedgerStore } from '../budget/budget-ledger.store.js';
import { postToPolicyWebhook } from '../budget/budget-webhook.js';
import { BudgetService } from '../budget/budget.service.js';
import { InMemoryBudgetLedgerStore } from '../budget/in-memory-budget-ledger.store.js';
import type { CircuitStateStore } from '../execution/circuit/circuit-state.store.js';
import { InMemoryCircuitStateStore } from '../execution/circuit/in-memory-circuit-state.store.js';
import { RouteExecutor } from '../execution/route-executor.js';
import { timeoutScheduler } from '../execution/timeout-scheduler.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { Transport } from '../providers/http/transport.interface.js';
import { UndiciTransport } from '../providers/http/undici.transport.js';
import { buildProviderTargets } from '../providers/provider-targets.js';
import { RoutingRecorder } from '../telemetry/routing-record.recorder.js';
import type { DeferredCallStore } from '../deferral/deferred-call.store.js';
import type { JobQueue } from '../queue/job-queue.js';
import { InMemorySessionStore } from '../session/in-memory-session.store.js';
import { SessionRouting } from '../session/session-routing.js';
import { DEFAULT_SESSION_TTL_MS, type SessionStore } from '../session/session-store.js';
import { LivePolicy } from './live-policy.js';
import { LlmRouter } from './llm-router.service.js';

/** The ports and knobs of a router; what is left out gets its in-process default. */
export interface LlmRouterDeps {
  readonly policy: CompiledPolicy;
  /** Circuit state; in-process by default. */
  readonly circuits?: CircuitStateStore;
  /** Tenant spend; in-process by default. Share one (Redis) across instances. */
  readonly budgetLedger?: BudgetLedgerStore;
  /** Upstream HTTP; the pooled keep-alive undici transport by default (closed with the router). */
  readonly transport?: Transport;
  /** Session pins and transcripts; in-process by default. Share one (Redis) across instances. */
  readonly sessionStore?: SessionStore;
  /** How long a session is kept after its last turn (default 24 h). */
  readonly sessionTtlMs?: number;
  /** Wall clock for budget periods and sessions; `Date.now` by default. */
  readonly clock?: () => number;
  /** Virtual time in tests; the async scheduler otherwise. */
  readonly scheduler?: SchedulerLike;
  readonly random?: () => number;
  /** Environment for API key variables; process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The work queue and store deferred calls run on; in-process by default. */
  readonly jobQueue?: JobQueue;
  readonly deferredCallStore?: DeferredCallStore;
}

/**
 * An `LlmRouter` without Nest, for scripts and tests: the same parts the
 * module builds in the container, wired by hand. `close()` closes the
 * transport only when this function created it.
 */
export function createLlmRouter(deps: LlmRouterDeps): LlmRouter {
  const { policy } = deps;
  const scheduler = deps.scheduler ?? timeoutScheduler;
  const circuits = deps.circuits ?? new InMemoryCircuitStateStore();
  const transport = deps.transport ?? new UndiciTransport();
  const budgets = new BudgetService(policy, deps.budgetLedger ?? new InMemoryBudgetLedgerStore(), deps.clock, postToPolicyWebhook);
  const recorder = new RoutingRecorder();
  const executor = new RouteExecutor({
    policy,
    targets: buildProviderTargets(policy, deps.env),
    transport,
    circuits,
    recorder,
    scheduler,
    random: deps.random ?? Math.random,
  });
  const router = new LlmRouter({
    live: new LivePolicy(policy, deps.env),
    executor,
    budgets,
    recorder,
    circuits,
    scheduler,
    sessions: new SessionRouting(deps.sessionStore ?? new InMemorySessionStore(), circuits, deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS, deps.clock ?? Date.now),
    onClose: deps.transport === undefined ? () => transport.close() : undefined,
    ...(deps.jobQueue !== undefined ? { jobQueue: deps.jobQueue } : {}),
    ...(deps.deferredCallStore !== undefined ? { deferredCallStore: deps.deferredCallStore } : {}),
  });
  router.deferred.start();
  return router;
}
