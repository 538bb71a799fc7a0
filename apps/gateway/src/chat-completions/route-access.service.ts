import { HttpException, Injectable } from '@nestjs/common';
import { contextFromHeaders, LlmRouter, newRequestId, traceCarrierOf, type RouteOptions } from '@llm-router/nestjs';
import { decideRoute, scopeRefusal, type Principal } from '../auth/key-scope.js';
import { KEY_LABEL } from '../auth/keyed-context.js';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { openAiError } from '../errors/openai-error.js';
import { callerRequestId } from '../http/caller-request-id.js';
import { redact, redactLabels } from '../logging/redact.js';

type Headers = Record<string, string | string[] | undefined>;

/** `x-feature` and `x-session-id`: printable ASCII, at most 128 characters. */
const LABEL = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

/**
 * Turns a caller and its request into router options, or a 4xx:
 * the traffic class (key default, `x-traffic-class`, or a class named as
 * `model`) must be one the key may use; a named model must be in the key's
 * scope; the key's own budget goes with the call (GatewayBudgetsService),
 * for the router to reserve. The tenant always comes from the key, never from a header.
 */
@Injectable()
export class RouteAccessService {
  constructor(
    private readonly router: LlmRouter,
    private readonly budgets: GatewayBudgetsService,
  ) {}

  /** Where the class of such a call comes from, in words (for an explanation). */
  classSource(principal: Principal | null, headers: Headers, model: string | undefined): string {
    const headerClass = single(headers['x-traffic-class']);
    if (headerClass) return 'the x-traffic-class header';
    if (model !== undefined && this.router.policy.classes.has(model) && !this.router.policy.models.has(model)) return 'the request\'s model (a class name)';
    return principal === null || principal.keyId === null ? 'the policy default' : "the API key's default class";
  }

  /** What a call would be routed with (explain and dry runs included). */
  resolve(principal: Principal | null, headers: Headers, model: string | undefined): RouteOptions {
    const headerClass = single(headers['x-traffic-class']);
    const requestId = callerRequestId(headers);
    if (principal === null || principal.keyId === null) {
      // Authentication disabled: tenant, feature, session, request id and trace context come from the headers.
      const options: RouteOptions = contextFromHeaders({ headers });
      redactLabels(options);
      if (headerClass) options.trafficClass = headerClass;
      return options;
    }
    // One generation for the decision and the version its refusal names.
    const generation = this.router.live.current();
    const decision = decideRoute(generation.policy, principal.scope, headerClass === '' ? undefined : headerClass, model);
    if (!decision.ok) throw scopeRefusal(decision, generation.version.id);
    // A session is the key's own: another key (or tenant) sending the same id has another session.
    const options: RouteOptions = { tenant: principal.tenant, caller: principal.keyId, trafficClass: decision.trafficClass, requestId: requestId ?? newRequestId() };
    const traceparent = single(headers.traceparent);
    if (traceparent !== undefined) options.traceCarrier = traceCarrierOf(traceparent, single(headers.tracestate));
    const feature = label(headers, 'x-feature');
    if (feature !== undefined) options.feature = feature;
    const session = label(headers, 'x-session-id');
    if (session !== undefined) options.session = session;

    this.budgets.applyKeyBudget(principal, options);
    // The record is attributed to the key by a label, not by the request id: a caller's own id may repeat, even across keys.
    options.labels = { [KEY_LABEL]: principal.keyId };
    return options;
  }
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function label(headers: Headers, name: string): string | undefined {
  const value = single(headers[name]);
  if (value === undefined || value === '') return undefined;
  if (!LABEL.test(value)) {
    throw new HttpException(
      openAiError(`Invalid ${name} header: printable ASCII, 1 to 128 characters.`, 'invalid_request_error', 'invalid_header', name),
      400,
    );
  }
  // A key pasted into a label would be stored and logged verbatim.
  return redact(value);
}
