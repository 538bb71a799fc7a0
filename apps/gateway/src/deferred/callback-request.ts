import { HttpException } from '@nestjs/common';
import type { CallbackTargets, DeferredCallback } from '@llm-router/nestjs';
import { bearerToken } from '../auth/api-key.js';
import { callbackSecret } from '../auth/callback-secret.js';
import { openAiError } from '../errors/openai-error.js';

type Headers = Record<string, string | string[] | undefined>;

/** The header a caller names its deferred call's callback URL in. */
export const CALLBACK_URL_HEADER = 'x-llm-callback-url';
const MAX_URL_LENGTH = 2048;

const refuse = (message: string, code: string) => new HttpException(openAiError(message, 'invalid_request_error', code, CALLBACK_URL_HEADER), 400);

/**
 * The callback a request asks for (`x-llm-callback-url`), checked before the
 * call is routed: an http(s) URL, and an API key to sign with (its secret is
 * derived from the key: see callbackSecret), then where it goes
 * (checkCallbackTarget). Undefined when none is asked for.
 */
export function callbackOf(headers: Headers): DeferredCallback | undefined {
  const raw = headers[CALLBACK_URL_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse(`Invalid ${CALLBACK_URL_HEADER} header: not a URL.`, 'invalid_callback_url');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || value.length > MAX_URL_LENGTH) {
    throw refuse(`Invalid ${CALLBACK_URL_HEADER} header: an http or https URL of at most ${MAX_URL_LENGTH} characters.`, 'invalid_callback_url');
  }
  const key = bearerToken(headers.authorization);
  if (key === undefined) throw refuse(`A callback is signed with the caller's API key: send one to use ${CALLBACK_URL_HEADER}.`, 'callback_requires_api_key');
  return { url: url.toString(), secret: callbackSecret(key) };
}

/** Resolves once the callback's host is resolved and every address it resolves to may be a target; rejects with a 400 naming the header otherwise. */
export async function checkCallbackTarget(callback: DeferredCallback, targets: CallbackTargets): Promise<void> {
  const refusal = await targets.resolvedRefusal(new URL(callback.url));
  if (refusal === undefined) return;
  throw refuse(
    `Invalid ${CALLBACK_URL_HEADER} header: ${refusal}. Callbacks go to public addresses only, not to loopback, private, link-local, multicast or unspecified ones (the operator can allow hosts with LLM_CALLBACK_ALLOW).`,
    'invalid_callback_url',
  );
}
