import { HttpException } from '@nestjs/common';
import { isValidRequestId } from '@llm-router/nestjs';
import { openAiError } from '../errors/openai-error.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The caller's `x-request-id`, taken as the call's request id (its routing
 * record's, its log line's, echoed back). One outside the safe charset
 * (letters, digits, `-_.:@=`) or longer than 128 characters is a 400, not
 * silently replaced: a caller correlating by its own id must learn it was
 * not kept. Absent or empty: undefined, and the router makes one.
 */
export function callerRequestId(headers: Headers): string | undefined {
  const raw = headers['x-request-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  if (!isValidRequestId(value)) {
    throw new HttpException(
      openAiError('Invalid x-request-id header: 1 to 128 characters, letters, digits and - _ . : @ = only.', 'invalid_request_error', 'invalid_header', 'x-request-id'),
      400,
    );
  }
  return value;
}
