import type { FastifyInstance } from 'fastify';
import { openAiError } from '../errors/openai-error.js';
import { discardRest } from './discard-body.js';

/**
 * On the framework's routes, a body whose Content-Length is over the limit
 * (or its route's own limit) is refused before it is parsed, as the fast lane does: up to twice the
 * limit it is read and dropped first, so that a client still sending sees
 * the 413 rather than a reset connection.
 */
export function installOversizedBodyHook(fastify: FastifyInstance, bodyLimit: number, routeLimits: Readonly<Record<string, number>> = {}): void {
  // preParsing: after authentication (onRequest), before the body is read.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    // A route with its own limit (file uploads) is held to it instead.
    const limit = routeLimits[request.routeOptions.url ?? ''] ?? bodyLimit;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (!(declared > limit)) return done(null, payload);
    const refuse = () =>
      void reply
        .code(413)
        .header('connection', 'close')
        .send(openAiError(`Request body is too large: ${declared} bytes, the limit is ${limit}.`, 'invalid_request_error', 'request_too_large'));
    if (declared > 2 * limit) return refuse();
    void discardRest(request.raw, limit).then(refuse);
  });
}
