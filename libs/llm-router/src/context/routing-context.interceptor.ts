import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { QualityFloor } from '../decorators/quality-floor.decorator.js';
import { TrafficClass } from '../decorators/traffic-class.decorator.js';
import { isValidRequestId } from './request-id.js';
import type { RoutingContext } from './routing-context.js';
import { ROUTING_CONTEXT_OPTIONS, type IncomingRequestLike, type RoutingContextOptions } from './routing-context.options.js';
import { RoutingContextStore } from './routing-context.store.js';

function header(request: IncomingRequestLike, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function contextFromHeaders(request: IncomingRequestLike): RoutingContext {
  const context: RoutingContext = {};
  const tenant = header(request, 'x-tenant-id');
  const feature = header(request, 'x-feature');
  const session = header(request, 'x-session-id');
  const requestId = header(request, 'x-request-id');
  const traceparent = header(request, 'traceparent');
  if (tenant) context.tenant = tenant;
  if (feature) context.feature = feature;
  if (session) context.session = session;
  // An id outside the safe charset or length is not taken: the router makes a fresh one.
  if (requestId && isValidRequestId(requestId)) context.requestId = requestId;
  if (traceparent) context.traceCarrier = traceCarrierOf(traceparent, header(request, 'tracestate'));
  return context;
}

/** The caller's W3C trace context headers, as the propagator reads them. */
export function traceCarrierOf(traceparent: string, tracestate: string | undefined): Record<string, string> {
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The options objects of the apps whose interceptor exists: read by `RoutingContextCheck` at bootstrap. */
export const interceptorRegistered = new WeakSet<object>();

/**
 * Puts the handler's traffic class and quality floor, and the caller's
 * identifiers, into the routing context for everything the handler calls.
 */
@Injectable()
export class RoutingContextInterceptor implements NestInterceptor {
  private readonly fromRequest: (request: IncomingRequestLike) => RoutingContext;
  private readonly decoratedOnly: boolean;

  constructor(
    private readonly reflector: Reflector,
    @Inject(ROUTING_CONTEXT_OPTIONS) options: RoutingContextOptions,
  ) {
    interceptorRegistered.add(options);
    this.fromRequest = options.contextFromRequest ?? contextFromHeaders;
    this.decoratedOnly = options.requestContext === 'decorated-routes';
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const targets = [context.getHandler(), context.getClass()];
    const trafficClass = this.reflector.getAllAndOverride(TrafficClass, targets);
    const qualityFloor = this.reflector.getAllAndOverride(QualityFloor, targets);
    if (this.decoratedOnly && trafficClass === undefined && qualityFloor === undefined) return next.handle();
    const routing: RoutingContext = context.getType() === 'http' ? this.fromRequest(context.switchToHttp().getRequest()) : {};
    if (trafficClass !== undefined) routing.trafficClass = trafficClass;
    if (qualityFloor !== undefined) routing.qualityFloor = qualityFloor;
    // The handler runs on subscription, so subscribe inside the context.
    return new Observable((subscriber) => RoutingContextStore.run(routing, () => next.handle().subscribe(subscriber)));
  }
}
