import type { QualityFloorSpec } from '../policy/policy.schema.js';

/** Who is calling and under which policy: carried from the handler down to the router. */
export interface RoutingContext {
  tenant?: string;
  feature?: string;
  session?: string;
  trafficClass?: string;
  qualityFloor?: QualityFloorSpec;
  requestId?: string;
  /**
   * The caller's trace context as headers (`traceparent`, `tracestate`): the
   * call's span continues that trace when tracing is on. Without it, the
   * active OpenTelemetry context is the parent.
   */
  traceCarrier?: Readonly<Record<string, string>>;
  /**
   * The caller's own labels (a customer, an API key, a workflow step): not
   * used for routing, copied as they are into each call's routing record.
   */
  labels?: Readonly<Record<string, string>>;
}
