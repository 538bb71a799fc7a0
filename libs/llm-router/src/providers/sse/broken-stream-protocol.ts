import { UpstreamFailure } from '../../errors/upstream-failure.js';

/**
 * A 200 stream whose upstream broke its wire protocol (an event that is not
 * JSON, a chunk without `choices`): before the first content, a transient
 * failure that may be retried or switched like any other; after it, the
 * attempt makes it stream_interrupted and keeps this code, so the routing
 * record says what the upstream did.
 */
export function brokenStreamProtocol(what: string): UpstreamFailure {
  return new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_stream_event', message: `upstream broke the stream protocol: ${what}` });
}
