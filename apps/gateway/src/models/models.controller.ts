import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import type { Principal } from '../auth/key-scope.js';
import { openAiError } from '../errors/openai-error.js';

/** Stable `created` for every entry: the catalog has no creation dates. */
const CREATED = 1_700_000_000;

/**
 * OpenAI `GET /v1/models`: the models the caller's key may use, then the
 * traffic classes it may use (a class name is accepted as `model` and routes
 * by that class's policy).
 */
@Controller('v1')
export class ModelsController {
  constructor(private readonly router: LlmRouter) {}

  @Get('models')
  list(@CurrentPrincipal() principal: Principal | null) {
    return { object: 'list', data: this.entries(principal) };
  }

  @Get('models/:id')
  get(@CurrentPrincipal() principal: Principal | null, @Param('id') id: string) {
    const entry = this.entries(principal).find((e) => e.id === id);
    if (!entry) throw new NotFoundException(openAiError(`The model '${id}' does not exist or this API key may not use it.`, 'invalid_request_error', 'model_not_found', 'model'));
    return entry;
  }

  private entries(principal: Principal | null) {
    const policy = this.router.policy;
    const scope = principal?.scope;
    const models = [...policy.models.values()]
      .filter((m) => scope === undefined || scope.models.has(m.name))
      .map((m) => ({
        id: m.name,
        object: 'model' as const,
        created: CREATED,
        owned_by: m.provider.name,
        llm_router: { kind: 'model', tier: m.tier, capabilities: [...m.capabilities], contextWindow: m.contextWindow, price: m.price },
      }));
    const classes = [...policy.classes.values()]
      .filter((c) => scope === undefined || scope.classes.has(c.name))
      .filter((c) => !policy.models.has(c.name))
      .map((c) => ({
        id: c.name,
        object: 'model' as const,
        created: CREATED,
        owned_by: 'llm-router',
        llm_router: { kind: 'traffic_class', criticality: c.criticality, route: c.route.map((m) => m.name), default: c.name === scope?.defaultClass },
      }));
    return [...models, ...classes];
  }
}
