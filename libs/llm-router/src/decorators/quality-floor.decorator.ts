import { Reflector } from '@nestjs/core';
import type { QualityFloorSpec } from '../policy/policy.schema.js';

/**
 * The lowest quality any model serving calls below this controller or handler
 * may have. It can raise the traffic class's own floor, never lower it.
 *
 * @example `@QualityFloor({ tier: 'premium', capabilities: ['tools'] })`
 */
export const QualityFloor = Reflector.createDecorator<QualityFloorSpec>();
