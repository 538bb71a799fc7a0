import type { FastifyReply } from 'fastify';

/**
 * Scripts and styles only from the gateway itself, no inline script or style,
 * no framing, forms post only here: text from upstream (error messages, key
 * names, session ids) can never run, even if some of it slipped into markup.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers of every console response. */
export function consoleHeaders(reply: FastifyReply, cache: 'no-store' | 'revalidate'): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cache === 'no-store' ? 'no-store' : 'no-cache');
}
