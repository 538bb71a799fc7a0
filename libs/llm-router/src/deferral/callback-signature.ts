import { createHmac } from 'node:crypto';

/** The header a deferred call's callback carries its signature in. */
export const CALLBACK_SIGNATURE_HEADER = 'x-llm-router-signature';

/** `sha256=` and the hex HMAC-SHA256 of the exact body bytes under `secret`: what the receiver recomputes and compares. */
export function signCallback(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
