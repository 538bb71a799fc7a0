import { HttpException, Injectable } from '@nestjs/common';
import { LlmRouter, type ChatCompletionRequest, type RoutingExplanation } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { RouteAccessService } from './route-access.service.js';

type Headers = Record<string, string | string[] | undefined>;

/** A key-scope refusal, explained: the call itself would get this 4xx before any planning. */
export interface ScopeRefusalExplanation {
  readonly policyVersion: string;
  readonly firstTarget: null;
  readonly refusal: { readonly status: number; readonly category: 'key_scope'; readonly code: string | null; readonly message: string };
}

/**
 * What POST /v1/chat/completions would do with this caller, headers and
 * body, decided as the call decides it (the same key scope, the same router
 * options, `LlmRouter.explain` on the same planner) without calling anyone,
 * spending, or leaving a routing record.
 */
@Injectable()
export class RoutingExplainer {
  constructor(
    private readonly router: LlmRouter,
    private readonly access: RouteAccessService,
  ) {}

  async explain(principal: Principal | null, headers: Headers, request: ChatCompletionRequest): Promise<RoutingExplanation | ScopeRefusalExplanation> {
    let options;
    try {
      options = this.access.resolve(principal, headers, request.model);
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      const body = err.getResponse() as { error?: { message?: string; code?: string | null } };
      return {
        policyVersion: this.router.policyVersion.id,
        firstTarget: null,
        refusal: { status: err.getStatus(), category: 'key_scope', code: body.error?.code ?? null, message: body.error?.message ?? err.message },
      };
    }
    return this.router.explain(request, options, this.access.classSource(principal, headers, request.model));
  }
}
