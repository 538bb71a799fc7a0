import type { FastifyRequest } from 'fastify';
import { contextFromHeaders, type IncomingRequestLike, type RouteOptions, type RoutingContext } from '@llm-router/nestjs';
import { callerRequestId } from '../http/caller-request-id.js';
import { redactLabels } from '../logging/redact.js';
import './principal.decorator.js';

/** The routing-context label that names the API key behind a call; the records service attributes the call by it. */
export const KEY_LABEL = 'apiKeyId';

/**
 * The routing context of a decorated route (the sample workflows) under API
 * keys: the tenant is the key's, never an `x-tenant-id` header, labels are
 * redacted, the key's own budget goes with each call, and the key id rides
 * along as a label, so that each call's record is the key's. (A
 * label, read from the record, not the async context at the record's
 * emission: that runs in the upstream socket's context, which may be another
 * request's.)
 */
export function keyedContext(request: IncomingRequestLike): RoutingContext {
  // An invalid x-request-id is a 400 here as on /v1 (the library alone would replace it).
  callerRequestId(request.headers);
  const context: RouteOptions = contextFromHeaders(request);
  delete context.tenant;
  redactLabels(context);
  const principal = (request as FastifyRequest).llmPrincipal;
  if (principal?.tenant !== undefined) context.tenant = principal.tenant;
  if (principal?.keyId) {
    context.labels = { [KEY_LABEL]: principal.keyId };
    // A session is the key's own, as on /v1.
    context.caller = principal.keyId;
    // The key's own budget goes with each call, as on /v1: the router reserves on it beside the tenant's.
    if (principal.budget !== undefined) context.callerBudget = principal.budget;
  }
  return context;
}
