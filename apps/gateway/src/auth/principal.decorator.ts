import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ConsoleSession } from './console-sessions.js';
import type { Principal } from './key-scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on /v1/* requests. */
    llmPrincipal: Principal | null;
    /** Set by the auth hook on a request that a console session authenticates. */
    consoleSession: ConsoleSession | null;
  }
}

/** The authenticated caller of a /v1/* handler. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | null => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().llmPrincipal ?? null;
});
