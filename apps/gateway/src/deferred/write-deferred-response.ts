import type { ServerResponse } from 'node:http';
import { deferredCallBody, type DeferredCall } from '@llm-router/nestjs';

/** Where a deferred call is read back. */
export const deferredLocation = (id: string): string => `/v1/deferred/${encodeURIComponent(id)}`;

/** `202 Accepted`: the call was deferred; its body names it (id, status, reason, next try) and `Location` says where to read it. */
export function writeDeferredResponse(res: ServerResponse, call: DeferredCall): void {
  const payload = deferredCallBody(call);
  const retryAfterS = call.nextAttemptAt === null ? 1 : Math.max(1, Math.ceil((call.nextAttemptAt - Date.now()) / 1000));
  res.writeHead(202, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    location: deferredLocation(call.id),
    'retry-after': String(retryAfterS),
    'x-request-id': call.id,
  });
  res.end(payload);
}
