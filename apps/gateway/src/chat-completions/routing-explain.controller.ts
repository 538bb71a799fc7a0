import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { parseChatRequest } from './parse-chat-request.js';
import { RoutingExplainer } from './routing-explainer.service.js';

/** POST /v1/routing/explain: exactly what /v1/chat/completions takes (body, headers, key); the decision, nothing called, nothing spent. */
@Controller('v1/routing')
export class RoutingExplainController {
  constructor(private readonly explainer: RoutingExplainer) {}

  @Post('explain')
  @HttpCode(200)
  explain(@CurrentPrincipal() principal: Principal | null, @Headers() headers: Record<string, string | string[] | undefined>, @Body() body: unknown) {
    return this.explainer.explain(principal, headers, parseChatRequest(body));
  }
}
