import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { controllerTargets } from '../decorators/controller-targets.js';
import { QualityFloor } from '../decorators/quality-floor.decorator.js';
import { TrafficClass } from '../decorators/traffic-class.decorator.js';
import { interceptorRegistered } from './routing-context.interceptor.js';
import { ROUTING_CONTEXT_OPTIONS, type RoutingContextOptions } from './routing-context.options.js';

/**
 * The interceptor is opt-in, so a decorated controller in an app that never
 * registered it would route every call with the default class, silently.
 * This says so once, at start-up, naming the handlers concerned.
 */
@Injectable()
export class RoutingContextCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('LlmRouter');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(ROUTING_CONTEXT_OPTIONS) private readonly options: RoutingContextOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (interceptorRegistered.has(this.options)) return;
    const decorated = this.decoratedHandlers();
    if (decorated.length === 0) return;
    this.logger.warn(
      `@TrafficClass/@QualityFloor on ${decorated.slice(0, 5).join(', ')}${decorated.length > 5 ? ` and ${decorated.length - 5} more` : ''} ` +
        'take effect only with RoutingContextInterceptor: register it as APP_INTERCEPTOR or with @UseInterceptors(RoutingContextInterceptor).',
    );
  }

  /** Controllers and handlers carrying either decorator. */
  decoratedHandlers(): string[] {
    const decorated = (target: Function) => this.reflector.get(TrafficClass, target) !== undefined || this.reflector.get(QualityFloor, target) !== undefined;
    return controllerTargets(this.discovery, this.scanner)
      .filter(({ target }) => decorated(target))
      .map(({ where }) => where);
  }
}
