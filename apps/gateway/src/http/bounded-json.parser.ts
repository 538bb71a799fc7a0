import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { jsonBoundsError, type JsonBounds } from './json-bounds.js';

/**
 * The JSON body parser of the framework's routes (admin, sample endpoints),
 * given to Nest's `useBodyParser`: the body's bounds are checked on its bytes
 * before parsing, as `/v1/chat/completions` does in its own lane. Parsing
 * itself stays Fastify's (prototype-poisoning checks included).
 */
export function boundedJsonParser(fastify: FastifyInstance, bounds: JsonBounds): FastifyBodyParser<Buffer> {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const outOfBounds = jsonBoundsError(body, bounds);
    if (outOfBounds) return done(outOfBounds, undefined);
    parse(request, body.toString('utf8'), done);
  };
}
