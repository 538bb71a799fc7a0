import type { QualityFloorSpec } from '../policy/policy.schema.js';

/** Who is calling and under which policy: carried from the handler down to the router. */
export interface RoutingContext {
  tenant?: string;
  feature?: string;
  session?: string;
  trafficClass?: string;
  qualityFloor?: QualityFloorSpec;
  requestId?: string;
}
