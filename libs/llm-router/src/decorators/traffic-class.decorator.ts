import { Reflector } from '@nestjs/core';

/**
 * The traffic class of every LLM call made below this controller or handler.
 * The method's class wins over the controller's. Checked against the policy at start-up.
 *
 * @example `@TrafficClass('support-chat')`
 */
export const TrafficClass = Reflector.createDecorator<string>();
