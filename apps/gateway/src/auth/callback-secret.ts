import { createHmac } from 'node:crypto';

/**
 * The secret a key's deferred-call callbacks are signed with: HMAC-SHA256 of
 * the fixed text `llm-router-callback` under the whole API key, in hex. The
 * key's holder computes it from the key alone; the gateway, which keeps only
 * key hashes, derives it while it holds the key (on the request that defers).
 */
export function callbackSecret(apiKey: string): string {
  return createHmac('sha256', apiKey).update('llm-router-callback').digest('hex');
}
