import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { RoutingContext } from '../context/routing-context.js';
import type { UpstreamFailure } from '../errors/upstream-failure.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { AttemptRecord, RoutingRecord } from './routing-record.js';

/**
 * `@opentelemetry/api` is an optional peer: loaded if the app has it, else
 * tracing is off for good. Read once, at load.
 */
function loadApi(): typeof OtelApi | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
  } catch {
    return undefined;
  }
}

const api = loadApi();
const TRACER_NAME = '@llm-router/nestjs';
// The semantic conventions' values: `chat` is the operation, the provider kinds are their well-known names.
const OPERATION = 'chat';

/**
 * OpenTelemetry spans of routed calls, following the GenAI semantic
 * conventions: one INTERNAL span per call (`chat <model>`, the logical
 * operation with all its retries and switches) and one CLIENT span per
 * upstream attempt under it, whose context goes upstream as `traceparent`.
 * The parent is the caller's trace context (`RoutingContext.traceCarrier`,
 * read by the registered propagator) or, without one, the active context.
 *
 * Off (no SDK registered, or no `@opentelemetry/api`), a call costs two
 * method calls (the global provider, whose `getDelegateTracer` answers
 * undefined) and nothing else runs: no span, no attribute, no header.
 */
export class CallTracer {
  /** The span of one routed call, or undefined when tracing is off. */
  startCall(plan: RoutePlan, context: RoutingContext, requestId: string, stream: boolean): CallSpan | undefined {
    if (api === undefined) return undefined;
    // Asked per call, not kept: an SDK registered, replaced or disabled later (a new global proxy) is followed; the SDK keeps its tracers in a map.
    const tracer = (api.trace.getTracerProvider() as OtelApi.ProxyTracerProvider).getDelegateTracer?.(TRACER_NAME);
    if (tracer === undefined) return undefined;
    const active = api.context.active();
    const parent = context.traceCarrier ? api.propagation.extract(active, context.traceCarrier) : active;
    const requested = plan.requestedModel ?? plan.candidates[0]?.name ?? plan.trafficClass.name;
    const span = tracer.startSpan(
      `${OPERATION} ${requested}`,
      {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': OPERATION,
          'gen_ai.request.model': requested,
          'llm_router.request_id': requestId,
          'llm_router.traffic_class': plan.trafficClass.name,
          'llm_router.criticality': plan.trafficClass.criticality,
          'llm_router.planned_route': plan.candidates.map((m) => m.name),
          'llm_router.stream': stream,
          ...(context.tenant !== undefined ? { 'llm_router.tenant': context.tenant } : {}),
          // The policy generation the whole call runs under: a trace read after a reload says which rules decided it.
          ...(plan.policyVersion !== undefined ? { 'llm_router.policy_version': plan.policyVersion } : {}),
        },
      },
      parent,
    );
    // Not sampled and no caller's context: nothing to record or pass on. A caller's unsampled context
    // still goes upstream (flags 00), as W3C Trace Context asks: its spans are created non-recording.
    if (!span.isRecording() && context.traceCarrier === undefined) return undefined;
    return new CallSpan(api, tracer, span, api.trace.setSpan(parent, span));
  }
}

/** The one tracer of the process's routers: spans go wherever the global OpenTelemetry SDK sends them. */
export const callTracer = new CallTracer();

export class CallSpan {
  constructor(
    private readonly otel: typeof OtelApi,
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly context: Context,
  ) {}

  /** A CLIENT span for one upstream call, and the headers that carry its context upstream. */
  attempt(model: CompiledModel): AttemptSpan {
    const { provider } = model;
    const span = this.tracer.startSpan(
      `${OPERATION} ${model.upstreamModel}`,
      {
        kind: this.otel.SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': OPERATION,
          'gen_ai.provider.name': provider.kind,
          // The name before the conventions' v1.37, still what many backends read.
          'gen_ai.system': provider.kind,
          'gen_ai.request.model': model.upstreamModel,
          'llm_router.model': model.name,
          'llm_router.provider': provider.name,
          'server.address': provider.hostname,
          'server.port': provider.port,
        },
      },
      this.context,
    );
    const headers: Record<string, string> = {};
    this.otel.propagation.inject(this.otel.trace.setSpan(this.context, span), headers);
    return new AttemptSpan(this.otel, span, headers, model.upstreamModel);
  }

  /** A target passed over without a call (open circuit, budget, cost ceiling): an event on the call. */
  skipped(model: CompiledModel, failure: UpstreamFailure): void {
    this.span.addEvent('llm_router.skip', { 'llm_router.model': model.name, 'llm_router.category': failure.category });
  }

  /** Ends the call's span without a record: the call is planned again (its budget moved), and the new plan has its own span. */
  replanned(): void {
    this.span.setAttribute('llm_router.outcome', 'replanned');
    this.span.end();
  }

  /** Ends the call's span with what its record says. */
  end(record: RoutingRecord, served: CompiledModel | undefined): void {
    const span = this.span;
    span.setAttribute('llm_router.fallback', record.fallback);
    span.setAttribute('llm_router.attempts', record.attempts.length);
    span.setAttribute('llm_router.outcome', record.outcome);
    if (served) {
      span.setAttribute('gen_ai.provider.name', served.provider.kind);
      span.setAttribute('gen_ai.system', served.provider.kind);
      span.setAttribute('gen_ai.response.model', served.upstreamModel);
      span.setAttribute('llm_router.model', served.name);
      span.setAttribute('llm_router.provider', served.provider.name);
      span.setAttribute('gen_ai.usage.input_tokens', record.promptTokens);
      span.setAttribute('gen_ai.usage.output_tokens', record.completionTokens);
      span.setAttribute('llm_router.cost_usd', record.costUsd);
    }
    if (record.budget) span.setAttribute('llm_router.budget_tier', record.budget.tier);
    endWith(this.otel, span, record.outcome, record.errorCategory, record.errorMessage);
  }
}

export class AttemptSpan {
  constructor(
    private readonly otel: typeof OtelApi,
    private readonly span: Span,
    /** `traceparent` (and `tracestate`) for the upstream request, as the registered propagator writes them. */
    readonly headers: Readonly<Record<string, string>>,
    /** The provider's model id: adapters report the catalog name back, so the response's model is the one asked for. */
    private readonly upstreamModel: string,
  ) {}

  /** Ends the attempt's span with its record, and the call's tokens when this attempt served. */
  end(attempt: AttemptRecord, tokens?: { promptTokens: number; completionTokens: number }): void {
    const span = this.span;
    span.setAttribute('llm_router.attempt.outcome', attempt.outcome);
    if (attempt.outcome === 'success') span.setAttribute('gen_ai.response.model', this.upstreamModel);
    if (attempt.status !== undefined) span.setAttribute('http.response.status_code', attempt.status);
    if (tokens) {
      span.setAttribute('gen_ai.usage.input_tokens', tokens.promptTokens);
      span.setAttribute('gen_ai.usage.output_tokens', tokens.completionTokens);
    }
    endWith(this.otel, span, attempt.outcome, attempt.category, attempt.message);
  }
}

/** Ends a span: a failure's category as `error.type` and the error status, an abort as `error.type` `aborted`. */
function endWith(otel: typeof OtelApi, span: Span, outcome: string, category: string | undefined, message: string | undefined): void {
  if (category !== undefined) {
    span.setAttribute('llm_router.category', category);
    span.setAttribute('error.type', category);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message });
  } else if (outcome === 'aborted') span.setAttribute('error.type', 'aborted');
  span.end();
}
