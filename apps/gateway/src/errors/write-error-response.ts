import type { ServerResponse } from 'node:http';
import { toErrorResponse, type ErrorResponse } from './error-response.js';

/**
 * Answers an error on a raw response in the OpenAI shape. A response already
 * under way (a stream past its first chunk) can only be ended.
 */
export function writeErrorResponse(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  writeErrorBody(res, toErrorResponse(error));
}

export function writeErrorBody(res: ServerResponse, { status, body, headers }: ErrorResponse): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
