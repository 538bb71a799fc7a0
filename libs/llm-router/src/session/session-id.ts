import { LlmRouterError } from '../errors/llm-router.error.js';

/** The longest session id accepted. */
export const MAX_SESSION_ID_LENGTH = 128;

/** Printable ASCII, no control characters: an id goes into store keys, records and logs. */
const SESSION_ID = /^[\x21-\x7e][\x20-\x7e]*$/;

/** The id itself, or a 400 `invalid_session_id` (OpenAI error shape) saying what is wrong with it. */
export function checkSessionId(id: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SESSION_ID_LENGTH || !SESSION_ID.test(id)) {
    throw new LlmRouterError({
      category: 'invalid_request',
      code: 'invalid_session_id',
      httpStatus: 400,
      origin: 'gateway',
      param: 'session',
      message: `Invalid session id: printable ASCII without control characters, 1 to ${MAX_SESSION_ID_LENGTH} characters.`,
    });
  }
  return id;
}
