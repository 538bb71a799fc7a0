import { Inject } from '@nestjs/common';
import { BUDGET_LEDGER_STORE } from './budget/budget-ledger.store.js';
import { CIRCUIT_STATE_STORE } from './execution/circuit/circuit-state.store.js';
import { LLM_ROUTER_POLICY } from './policy/policy.token.js';
import { LLM_TRANSPORT } from './providers/http/transport.interface.js';
import { JOB_QUEUE } from './queue/job-queue.js';

/** Injects the router's circuit store (`CircuitStateStore`). */
export const InjectCircuitStateStore = (): ParameterDecorator & PropertyDecorator => Inject(CIRCUIT_STATE_STORE);
/** Injects the router's tenant spend ledger (`BudgetLedgerStore`). */
export const InjectBudgetLedgerStore = (): ParameterDecorator & PropertyDecorator => Inject(BUDGET_LEDGER_STORE);
/** Injects the router's upstream transport (`Transport`). */
export const InjectLlmTransport = (): ParameterDecorator & PropertyDecorator => Inject(LLM_TRANSPORT);
/** Injects the router's work queue (`JobQueue`). */
export const InjectJobQueue = (): ParameterDecorator & PropertyDecorator => Inject(JOB_QUEUE);
/** Injects the compiled policy (`CompiledPolicy`) the router runs on. */
export const InjectLlmRouterPolicy = (): ParameterDecorator & PropertyDecorator => Inject(LLM_ROUTER_POLICY);
