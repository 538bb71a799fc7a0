import { randomBytes } from 'node:crypto';
import type { ErrorResponse } from '../errors/error-response.js';

/**
 * Lines of a batch's output and error files, in OpenAI's batch output shape:
 * `{id, custom_id, response: {status_code, request_id, body}, error}`. An item
 * answered 2xx goes to the output file; any other to the error file; an item
 * never run (cancelled, expired) has no response and an `error`.
 */
export function answeredLine(customId: string, statusCode: number, requestId: string | null, body: unknown): string {
  return JSON.stringify({ id: newRequestLineId(), custom_id: customId, response: { status_code: statusCode, request_id: requestId, body }, error: null });
}

export function failedLine(customId: string, failure: ErrorResponse, requestId: string | null): string {
  return answeredLine(customId, failure.status, requestId, failure.body);
}

export function unrunLine(customId: string, why: 'cancelled' | 'expired'): string {
  const error =
    why === 'expired'
      ? { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' }
      : { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' };
  return JSON.stringify({ id: newRequestLineId(), custom_id: customId, response: null, error });
}

function newRequestLineId(): string {
  return `batch_req_${randomBytes(12).toString('hex')}`;
}
