import { HttpException } from '@nestjs/common';
import { parseChatRequest } from '../chat-completions/parse-chat-request.js';
import type { BatchLineError, NewBatchItem } from '../store/batch-store.js';

/** The one endpoint batches run against. */
export const BATCH_ENDPOINT = '/v1/chat/completions';
/** OpenAI's limit of requests per batch. */
export const MAX_BATCH_ITEMS = 50_000;
/** Errors listed at most; the message of the last says how many more there were. */
const MAX_LISTED_ERRORS = 100;
/** custom_id length OpenAI accepts. */
const MAX_CUSTOM_ID = 512;

/** A body the caller's key may send: undefined, or why not (its model outside the key's scope, say). */
export type BodyCheck = (body: Record<string, unknown>) => { code: string; message: string; param: string } | undefined;

/**
 * An input file's lines as batch items, or the per-line errors OpenAI reports
 * for it (the batch's `errors`, status `failed`): malformed JSON, a missing or
 * duplicate custom_id, a method other than POST, another url, an invalid body.
 * Blank lines are skipped; line numbers count every line from 1.
 */
export function parseBatchInput(content: string, check: BodyCheck): { items: NewBatchItem[]; errors: BatchLineError[] } {
  const items: NewBatchItem[] = [];
  const errors: BatchLineError[] = [];
  let more = 0;
  const fail = (error: BatchLineError) => {
    if (errors.length < MAX_LISTED_ERRORS) errors.push(error);
    else more++;
  };
  const seen = new Set<string>();
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/\r$/, '');
    if (text.trim() === '') continue;
    const line = i + 1;
    if (items.length + errors.length + more >= MAX_BATCH_ITEMS) {
      fail({ code: 'too_many_requests', message: `A batch holds at most ${MAX_BATCH_ITEMS} requests.`, param: null, line });
      break;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line });
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      fail({ code: 'invalid_request', message: 'Each line must be a JSON object with custom_id, method, url and body.', param: null, line });
      continue;
    }
    const request = parsed as Record<string, unknown>;
    const customId = request.custom_id;
    if (typeof customId !== 'string' || customId === '') {
      fail({ code: 'missing_required_parameter', message: "Missing required parameter: 'custom_id' (a non-empty string).", param: 'custom_id', line });
      continue;
    }
    if (customId.length > MAX_CUSTOM_ID) {
      fail({ code: 'invalid_value', message: `custom_id is longer than ${MAX_CUSTOM_ID} characters.`, param: 'custom_id', line });
      continue;
    }
    if (seen.has(customId)) {
      fail({
        code: 'duplicate_custom_id',
        message: 'The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.',
        param: 'custom_id',
        line,
      });
      continue;
    }
    seen.add(customId);
    if (request.method !== 'POST') {
      fail({ code: 'invalid_method', message: "The method for this request must be 'POST'.", param: 'method', line });
      continue;
    }
    if (request.url !== BATCH_ENDPOINT) {
      fail({ code: 'invalid_url', message: `The URL provided for this request does not match the batch endpoint: it must be '${BATCH_ENDPOINT}'.`, param: 'url', line });
      continue;
    }
    const bodyError = checkBody(request.body, check);
    if (bodyError) {
      fail({ ...bodyError, line });
      continue;
    }
    items.push({ customId, line, body: JSON.stringify(request.body) });
  }
  if (more > 0) errors[errors.length - 1]!.message += ` (and ${more} more errors)`;
  if (items.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'The input file has no request lines.', param: null, line: null });
  return { items, errors };
}

/** The body as /v1/chat/completions would take it (streaming excepted), then the caller's own check. */
function checkBody(body: unknown, check: BodyCheck): Omit<BatchLineError, 'line'> | undefined {
  try {
    parseChatRequest(body);
  } catch (err) {
    if (!(err instanceof HttpException)) throw err;
    const { error } = err.getResponse() as { error: { message: string; param: string | null } };
    return { code: 'invalid_request', message: error.message, param: error.param === null ? 'body' : `body.${error.param}` };
  }
  const fields = body as Record<string, unknown>;
  if (fields.stream === true) return { code: 'invalid_request', message: 'Batch requests cannot stream: remove stream or set it to false.', param: 'body.stream' };
  return check(fields);
}
