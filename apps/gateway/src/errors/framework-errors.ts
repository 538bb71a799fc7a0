import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response.js';
import { openAiError } from './openai-error.js';

/**
 * Fastify answers a few errors itself, before any route or Nest filter runs:
 * a malformed URL (400) and a path parameter over its length limit (414).
 * Given as Fastify's `frameworkErrors`, they get the OpenAI shape too.
 */
export function frameworkErrors(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send(openAiError(`A path segment is longer than ${MAX_PARAM_LENGTH} characters.`, 'invalid_request_error', 'uri_too_long'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send(openAiError('The request URL is malformed.', 'invalid_request_error', 'invalid_url'));
    return;
  }
  const { status, body, headers } = toErrorResponse(error);
  void reply.code(status).headers(headers).send(body);
}

/** Fastify's `maxParamLength`: room for a session id (128 characters) with some of them percent-encoded. */
export const MAX_PARAM_LENGTH = 256;

/**
 * Errors on a connection that never became a request (Node's `clientError`):
 * a request not received within LLM_REQUEST_TIMEOUT_MS (408), headers over
 * Node's size limit (431), bytes that are not HTTP (400). Written straight to
 * the socket, in the OpenAI shape, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message, code] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request was not received in time: headers and body must arrive within the gateway\'s request timeout.', 'request_timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large.', 'headers_too_large']
        : [400, 'The request is not valid HTTP.', 'bad_request'];
  const payload = JSON.stringify(openAiError(message, 'invalid_request_error', code));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
  }
  socket.destroy();
}
